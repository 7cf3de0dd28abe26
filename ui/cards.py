"""The source panel of an answer: a card per cited passage, the other passages collapsed.

A card shows the passage's report, publisher, date, section and the page of its quoted sentences
(``p. 15`` where the passage runs over pages 14–15), its text as ``ui.richtext`` renders report
text (escaped; the report's emphasis and footnote numbers shown as such) with the quoted
sentences marked, and a link that opens the report there (``ui.reader`` serves it).

Element ids, for the page's links and scripts: a card is ``lg-src-<turn>-<n>`` (:func:`anchor`;
the answer's marker ``[n]`` links to it), and the first highlighted sentence in it is
``lg-hit-<turn>-<n>`` (:func:`hit_anchor`), which the page scrolls into view; ``turn`` numbers
the answers of a conversation from 0.

Example:
    >>> sources_html(None, lang="nl")  # doctest: +ELLIPSIS
    '<div class="lg-sources lg-empty"><p>Hier verschijnen de bronnen: ...</p></div>'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import quote

from assistant.types import Answer, Citation, Passage
from ui.i18n import texts
from ui.richtext import Span, esc, find, to_html

_TEXT = {
    "en": {
        "sources_empty": "Sources appear here: the passage behind every [n] of an answer, with "
        "the supporting sentences highlighted.",
        "sources_for": "Sources for answer {n}",
        "searched": "Searched: {scope}",
        "no_support": "No passage supports an answer. The closest passages the search found are "
        "listed below.",
        "closest": "Closest passages",
        "consulted": "Other passages consulted",
        "not_cited": "{label} ({count}), not cited",
        "open": "Open the report at this place",
        "origin": "publisher's page",
        "open_title": "Opens {title} in a new tab",
        "footnote": "footnote",
        "page": "p. {page}",
        "pages": "pp. {first}–{last}",
        "section_from": "section from p. {page}",
    },
    "nl": {
        "sources_empty": "Hier verschijnen de bronnen: de passage achter elke [n] van een "
        "antwoord, met de onderbouwende zinnen gemarkeerd.",
        "sources_for": "Bronnen bij antwoord {n}",
        "searched": "Doorzocht: {scope}",
        "no_support": "Geen passage onderbouwt een antwoord. De passages die de zoekopdracht het "
        "dichtst benaderen staan hieronder.",
        "closest": "Dichtstbijzijnde passages",
        "consulted": "Andere geraadpleegde passages",
        "not_cited": "{label} ({count}), niet geciteerd",
        "open": "Open het rapport op deze plek",
        "origin": "pagina van de uitgever",
        "open_title": "Opent {title} in een nieuw tabblad",
        "footnote": "voetnoot",
        "page": "p. {page}",
        "pages": "pp. {first}–{last}",
        "section_from": "sectie vanaf p. {page}",
    },
}


def anchor(turn: int, n: int) -> str:
    """The element id of source card ``[n]`` of answer ``turn``."""
    return f"lg-src-{turn}-{n}"


def hit_anchor(turn: int, n: int) -> str:
    """The element id of the first highlighted sentence (``<mark>``) in source card ``[n]`` of
    answer ``turn``; the card has none when no quote was found in its text."""
    return f"lg-hit-{turn}-{n}"


def highlight(text: str, quotes: Iterable[str], *, lang: str = "en") -> str:
    """``text`` escaped, with every occurrence of each quote wrapped in ``<mark>`` (and the
    report's emphasis and footnote numbers shown as such).

    Quotes match across differences in whitespace (a passage may break lines where the quote
    does not) and in the report's markup; overlapping matches merge into one mark.

    Example:
        >>> highlight("a <b> c", ["<b>"])
        'a <mark>&lt;b&gt;</mark> c'
    """
    return to_html(text, find(text, quotes), footnote_label=texts(_TEXT, lang)["footnote"])


def _page_at(p: Passage, offset: int) -> tuple[int | None, str | None]:
    """The physical page and printed label of the character at ``offset`` of ``p.text``."""
    page, label = p.page, p.page_label
    for start, later, later_label in p.page_starts:
        if start > offset:
            break
        page, label = later, later_label
    return page, label


def location(p: Passage, spans: Sequence[Span] = (), *, lang: str = "en") -> str:
    """Where in the report: the page(s) of ``spans`` (the quoted sentences), else of the whole
    passage; for a source without pages, the page its section starts on; "" when unknown.

    Example:
        >>> p = Passage("c", "d", "Een. Twee.", "T", "S", 0.0, 1, page=14, page_end=15,
        ...             page_starts=((5, 15, None),))
        >>> location(p), location(p, [(5, 10)]), location(p, [(0, 4)], lang="nl")
        ('pp. 14–15', 'p. 15', 'p. 14')
    """
    words = texts(_TEXT, lang)
    if p.page is None:
        sp = p.section_page
        return words["section_from"].format(page=sp) if sp else ""
    if not p.page_starts and (not spans or p.page_end != p.page):
        # written before pages inside passages were recorded: the passage's own pages
        if p.page_label:
            return words["page"].format(page=p.page_label)
        return _pages_text(str(p.page), str(p.page_end or p.page), words)
    begin, end = (spans[0][0], max(e for _, e in spans) - 1) if spans else (0, len(p.text))
    (first, first_label), (last, last_label) = _page_at(p, begin), _page_at(p, max(begin, end))
    return _pages_text(first_label or str(first), last_label or str(last), words)


def _pages_text(first: str, last: str, words: Mapping[str, str]) -> str:
    if first == last:
        return words["page"].format(page=first)
    return words["pages"].format(first=first, last=last)


def report_link(p: Passage, spans: Sequence[Span] = (), *, lang: str = "en") -> str:
    """The card's link to the report itself, opened in a new tab: a PDF at the page of the
    first quoted sentence (``reports/<doc_id>/file#page=N``), any other report in the reading
    view at the passage, marked (``reports/<doc_id>/read?mark=<ids>#<first id>``).

    Relative to the page, so that it also works behind a proxy that adds a path prefix.

    Example:
        >>> p = Passage("c", "hcss-2022", "Tekst.", "T", "S", 0.0, 1, parts=("a1", "a2"))
        >>> report_link(p)  # doctest: +ELLIPSIS
        '<a class="lg-open" href="reports/hcss-2022/read?mark=a1,a2#a1" target="_blank" ...'
    """
    words = texts(_TEXT, lang)
    doc = quote(p.doc_id, safe="")
    if p.source_file.lower().endswith(".pdf"):
        page = _page_at(p, spans[0][0])[0] if spans else p.page
        href = f"reports/{doc}/file" + (f"#page={page}" if page else "")
    else:
        ids = [quote(i, safe="") for i in p.part_ids]
        href = f"reports/{doc}/read?mark={','.join(ids)}#{ids[0]}"
    title = esc(words["open_title"].format(title=p.title))
    link = (
        f'<a class="lg-open" href="{esc(href)}" target="_blank" rel="noopener" '
        f'title="{title}">{esc(words["open"])}</a>'
    )
    if p.url.startswith(("https://", "http://")):  # the publisher's own page of the report
        link += (
            f' <a class="lg-open lg-origin" href="{esc(p.url)}" target="_blank" '
            f'rel="noopener noreferrer">{esc(words["origin"])}</a>'
        )
    return link


def _meta_line(p: Passage, spans: Sequence[Span], lang: str) -> str:
    bits = [esc(x) for x in (p.publisher, p.date) if x]
    where = [esc(x) for x in (p.section, location(p, spans, lang=lang)) if x]
    meta = f'<div class="lg-meta">{" · ".join(bits)}</div>' if bits else ""
    loc = f'<div class="lg-where">{" — ".join(where)}</div>' if where else ""
    return meta + loc


def source_card(citation: Citation, turn: int, *, lang: str = "en") -> str:
    """The card of one cited passage: report, publisher, date, section, the page of the quoted
    sentences, the text with them highlighted (the first as :func:`hit_anchor`), and a link
    that opens the report there."""
    p = citation.passage
    spans = find(p.text, citation.quotes)
    label = texts(_TEXT, lang)["footnote"]
    body = to_html(p.text, spans, mark_id=hit_anchor(turn, citation.n), footnote_label=label)
    return (
        f'<article class="lg-card" id="{anchor(turn, citation.n)}" data-n="{citation.n}">'
        f'<header><span class="lg-n">[{citation.n}]</span>'
        f'<span class="lg-title">{esc(p.title)}</span></header>'
        f"{_meta_line(p, spans, lang)}"
        f'<blockquote class="lg-text">{body}</blockquote>'
        f'<div class="lg-open-line">{report_link(p, spans, lang=lang)}</div>'
        f"</article>"
    )


def passage_card(passage: Passage, *, lang: str = "en") -> str:
    """A retrieved passage the answer does not cite (no number, nothing highlighted)."""
    body = to_html(passage.text, footnote_label=texts(_TEXT, lang)["footnote"])
    return (
        f'<article class="lg-card lg-uncited" data-chunk="{esc(passage.chunk_id)}">'
        f'<header><span class="lg-title">{esc(passage.title)}</span></header>'
        f"{_meta_line(passage, (), lang)}"
        f'<blockquote class="lg-text">{body}</blockquote>'
        f'<div class="lg-open-line">{report_link(passage, lang=lang)}</div>'
        f"</article>"
    )


def sources_html(answer: Answer | None, turn: int = 0, scope: str = "", *, lang: str = "en") -> str:
    """The source panel for one answer: cited passages as cards, the others collapsed.

    Args:
        answer: the answer (None: the panel before the first question).
        turn: the answer's position in the conversation, for the card anchors.
        scope: which reports were searched, in words (see :func:`scope_text`).
        lang: the interface language.
    """
    words = texts(_TEXT, lang)
    if answer is None:
        return f'<div class="lg-sources lg-empty"><p>{esc(words["sources_empty"])}</p></div>'
    cited = {c.passage.chunk_id for c in answer.citations}
    others = [p for p in answer.retrieved if p.chunk_id not in cited]
    searched = esc(words["searched"].format(scope=scope))
    head = (
        f'<div class="lg-sources-head"><span class="lg-label">'
        f"{esc(words['sources_for'].format(n=turn + 1))}</span>"
        f'<span class="lg-q">{esc(answer.question)}</span>'
        + (f'<span class="lg-scope">{searched}</span>' if scope else "")
        + "</div>"
    )
    cards = "".join(source_card(c, turn, lang=lang) for c in answer.citations)
    if not cards:
        cards = f'<p class="lg-none">{esc(words["no_support"])}</p>'
    rest = ""
    if others:
        label = words["closest"] if not answer.citations else words["consulted"]
        summary = esc(words["not_cited"].format(label=label, count=len(others)))
        opened = " open" if not answer.citations else ""
        rest = (
            f'<details class="lg-others"{opened}><summary>{summary}</summary>'
            f"{''.join(passage_card(p, lang=lang) for p in others)}</details>"
        )
    return f'<div class="lg-sources">{head}{cards}{rest}</div>'
