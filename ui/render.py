"""Answers as HTML for the chat page and as a Markdown briefing note: pure functions.

Report text is untrusted (it comes from PDFs and web pages), so every piece of it is HTML-escaped
here; the page adds nothing unescaped. Citation markers ``[n]`` link to the source card with the
anchor ``lg-src-<turn>-<n>``, where ``turn`` numbers the answers of a conversation from 0.

Example:
    >>> from assistant.types import Answer
    >>> refusal = Answer(question="Wat?", answer="De rapporten zeggen dit niet.", refused=True)
    >>> answer_html(refusal, 0)
    '<div class="lg-answer lg-refused"><p>De rapporten zeggen dit niet.</p></div>'
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from assistant.types import Answer, AnswerSentence, Citation, Passage
from assistant.verify import render as render_sentences
from assistant.verify import without_footnote_marks
from index.types import IndexManifest, SearchFilters

BULLETS = "•▪●◦■"
"""Characters that start a list item in the reports' text; such sentences are shown as a list."""

_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]#|~$])")


def esc(text: str) -> str:
    """HTML-escape untrusted text (quotes included, so it is safe inside attributes too)."""
    return html.escape(text, quote=True)


_STRONG = re.compile(r"\*\*(?=\S)([^*<>]{1,200}?)(?<=\S)\*\*")
_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*<>]{1,200}?)(?<=\S)\*(?![\w*])")


def esc_emphasis(text: str) -> str:
    """Escaped text in which the report's own Markdown emphasis (``**bold**``, ``*italic*``)
    is shown as such: the only markup report text may carry; links, images and HTML stay text.

    Example:
        >>> esc_emphasis("**Koorddans** <img src=x> *assurance*")
        '<strong>Koorddans</strong> &lt;img src=x&gt; <em>assurance</em>'
    """
    out = _STRONG.sub(r"<strong>\1</strong>", esc(text))
    return _EM.sub(r"<em>\1</em>", out)


def anchor(turn: int, n: int) -> str:
    """The element id of source card ``[n]`` of answer ``turn``."""
    return f"lg-src-{turn}-{n}"


def marker(turn: int, n: int) -> str:
    """The link a citation marker ``[n]`` becomes."""
    return (
        f'<a class="lg-cite" href="#{anchor(turn, n)}" data-turn="{turn}" data-n="{n}" '
        f'title="Show source {n}">[{n}]</a>'
    )


# --- the chat ---------------------------------------------------------------------------------


def user_html(question: str) -> str:
    """The user's message in the chat, escaped."""
    return f'<div class="lg-question">{esc(question)}</div>'


def pending_html(text: str = "Searching the reports…") -> str:
    """The assistant's placeholder while an answer is being prepared."""
    return f'<div class="lg-answer lg-pending"><span class="lg-spinner"></span>{esc(text)}</div>'


def error_html(message: str) -> str:
    """A readable problem in place of an answer (never a traceback)."""
    return f'<div class="lg-answer lg-error"><p>{esc(message)}</p></div>'


def answer_html(answer: Answer, turn: int, upto: int | None = None) -> str:
    """The answer as the chat shows it: its sentences with linked ``[n]`` markers.

    Args:
        answer: the assistant's answer.
        turn: the answer's position in the conversation (0-based), for the card anchors.
        upto: show only the first ``upto`` sentences (for progressive display); None: all.
    """
    notice = f'<p class="lg-notice">{esc(answer.notice)}</p>' if answer.notice else ""
    if not answer.sentences:
        body = f"<p>{esc(answer.answer)}</p>"
        return f'<div class="lg-answer lg-refused">{body}{notice}</div>'
    shown = answer.sentences if upto is None else answer.sentences[:upto]
    lead = lead_text(answer)
    parts = [f'<p class="lg-lead">{esc(lead)}</p>'] if lead else []
    # quotes in another language than the answer's own words are marked as such (lang="nl")
    langs = {c.n: c.passage.language for c in answer.citations}
    quoted = [
        "" if (answer.listed and i == 0) else next((langs.get(n, "") for n in s.citations), "")
        for i, s in enumerate(shown)
    ]
    marks = [lang if lang and lang != answer.language else "" for lang in quoted]
    parts += _sentence_blocks(shown, turn, marks)
    if upto is not None and upto < len(answer.sentences):
        parts.append('<p class="lg-more"><span class="lg-spinner"></span></p>')
    return f'<div class="lg-answer">{"".join(parts)}{notice}</div>'


def lead_text(answer: Answer) -> str:
    """The words before the first sentence (e.g. "Volgens de rapporten:"), if any."""
    body = render_sentences(answer.sentences)
    if body and answer.answer.endswith(body):
        return answer.answer[: -len(body)].strip()
    return ""


def _sentence_blocks(
    sentences: Sequence[AnswerSentence], turn: int, langs: Sequence[str] = ()
) -> list[str]:
    """Paragraphs of running sentences, and lists where sentences start with a bullet; where
    the quotes move to another section, its heading stands above them. ``langs[i]``, when set,
    is the language sentence ``i`` is quoted in, marked on it for screen readers and fonts."""
    blocks: list[str] = []
    run: list[str] = []
    items: list[str] = []
    heading = ""
    for i, s in enumerate(sentences):
        if s.heading and s.heading != heading:
            if run:
                blocks.append(f"<p>{' '.join(run)}</p>")
                run = []
            if items:
                blocks.append(f"<ul>{''.join(items)}</ul>")
                items = []
            blocks.append(f'<p class="lg-heading">{esc(s.heading)}</p>')
        heading = s.heading or heading
        text = without_footnote_marks(s.text).strip()
        quote = esc_emphasis(text.lstrip(BULLETS).strip())
        if i < len(langs) and langs[i]:
            quote = f'<span lang="{esc(langs[i])}">{quote}</span>'
        html_ = quote + "".join(marker(turn, n) for n in s.citations)
        if text[:1] in BULLETS:
            if run:
                blocks.append(f"<p>{' '.join(run)}</p>")
                run = []
            items.append(f"<li>{html_}</li>")
        else:
            if items:
                blocks.append(f"<ul>{''.join(items)}</ul>")
                items = []
            run.append(html_)
    if items:
        blocks.append(f"<ul>{''.join(items)}</ul>")
    if run:
        blocks.append(f"<p>{' '.join(run)}</p>")
    return blocks


# --- the source panel ---------------------------------------------------------------------------


def highlight(text: str, quotes: Iterable[str]) -> str:
    """``text`` escaped, with every occurrence of each quote wrapped in ``<mark>``.

    Quotes match across differences in whitespace (a passage may break lines where the quote
    does not); overlapping matches merge into one mark.

    Example:
        >>> highlight("a <b> c", ["<b>"])
        'a <mark>&lt;b&gt;</mark> c'
    """
    spans: list[tuple[int, int]] = []
    for quote in quotes:
        words = quote.split()
        if not words:
            continue
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        spans += [(m.start(), m.end()) for m in pattern.finditer(text)]
    out: list[str] = []
    pos = 0
    for start, end in _merge(spans):
        out.append(esc(text[pos:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _meta_line(p: Passage) -> str:
    bits = [esc(x) for x in (p.publisher, p.date) if x]
    where = [esc(x) for x in (p.section, p.location) if x]
    meta = f'<div class="lg-meta">{" · ".join(bits)}</div>' if bits else ""
    loc = f'<div class="lg-where">{" — ".join(where)}</div>' if where else ""
    return meta + loc


def source_card(citation: Citation, turn: int) -> str:
    """The card of one cited passage: report, publisher, date, section, page, highlighted text."""
    p = citation.passage
    return (
        f'<article class="lg-card" id="{anchor(turn, citation.n)}" data-n="{citation.n}">'
        f'<header><span class="lg-n">[{citation.n}]</span>'
        f'<span class="lg-title">{esc(p.title)}</span></header>'
        f"{_meta_line(p)}"
        f'<blockquote class="lg-text">{highlight(p.text, citation.quotes)}</blockquote>'
        f"</article>"
    )


def passage_card(passage: Passage) -> str:
    """A retrieved passage the answer does not cite (no number, nothing highlighted)."""
    return (
        f'<article class="lg-card lg-uncited" data-chunk="{esc(passage.chunk_id)}">'
        f'<header><span class="lg-title">{esc(passage.title)}</span></header>'
        f"{_meta_line(passage)}"
        f'<blockquote class="lg-text">{esc(passage.text)}</blockquote>'
        f"</article>"
    )


def sources_html(answer: Answer | None, turn: int = 0, scope: str = "") -> str:
    """The source panel for one answer: cited passages as cards, the others collapsed.

    Args:
        answer: the answer (None: the panel before the first question).
        turn: the answer's position in the conversation, for the card anchors.
        scope: which reports were searched, in words (see :func:`scope_text`).
    """
    if answer is None:
        return (
            '<div class="lg-sources lg-empty"><p>Sources appear here: the passage behind every '
            "[n] of an answer, with the supporting sentences highlighted.</p></div>"
        )
    cited = {c.passage.chunk_id for c in answer.citations}
    others = [p for p in answer.retrieved if p.chunk_id not in cited]
    head = (
        f'<div class="lg-sources-head"><span class="lg-label">Sources for answer {turn + 1}</span>'
        f'<span class="lg-q">{esc(answer.question)}</span>'
        + (f'<span class="lg-scope">Searched: {esc(scope)}</span>' if scope else "")
        + "</div>"
    )
    cards = "".join(source_card(c, turn) for c in answer.citations)
    if not cards:
        cards = (
            '<p class="lg-none">No passage supports an answer. The closest passages the search '
            "found are listed below.</p>"
        )
    rest = ""
    if others:
        label = "Closest passages" if not answer.citations else "Other passages consulted"
        opened = " open" if not answer.citations else ""
        rest = (
            f'<details class="lg-others"{opened}><summary>{label} ({len(others)}), not cited'
            f"</summary>{''.join(passage_card(p) for p in others)}</details>"
        )
    return f'<div class="lg-sources">{head}{cards}{rest}</div>'


# --- the index overview -----------------------------------------------------------------------


def index_html(manifest: IndexManifest | None) -> str:
    """The indexed reports (publisher, date, size) and when the index last changed."""
    if manifest is None:
        return '<div class="lg-index"><p>No index information.</p></div>'
    rows = []
    for entry in sorted(manifest.documents.values(), key=lambda e: (e.date, e.title), reverse=True):
        size = ", ".join(
            x
            for x in (
                f"{entry.page_count} pages" if entry.page_count else "",
                f"{len(entry.chunk_ids)} passages",
            )
            if x
        )
        meta = " · ".join(esc(x) for x in (entry.publisher, entry.date, size) if x)
        rows.append(
            f'<li><span class="lg-title">{esc(entry.title)}</span>'
            f'<span class="lg-meta">{meta}</span></li>'
        )
    when = esc(_day_time(manifest.updated_at))
    return (
        f'<div class="lg-index"><ul>{"".join(rows)}</ul>'
        f'<p class="lg-meta">{len(rows)} reports, {manifest.counts.chunks} passages · index '
        f"updated {when}</p></div>"
    )


def header_html(manifest: IndexManifest | None) -> str:
    """The page's title bar, with how many reports the index holds."""
    count = len(manifest.documents) if manifest else 0
    return (
        f'<div class="lg-stats">{count} report{"s" * (count != 1)} indexed</div>'
        '<span class="lg-brand">Legatus</span><span class="lg-tagline">Answers from '
        "think-tank reports. Every sentence cites the passage it comes from.</span>"
    )


def scope_html(line: str) -> str:
    """The line under the question box saying what is searched (titles, typed dates: escaped)."""
    return f'<span class="lg-scope-line">{esc(line)}</span>'


def _day_time(iso: str) -> str:
    """``2026-03-01T10:22:05+00:00`` → ``2026-03-01 10:22 UTC``."""
    day, _, rest = iso.partition("T")
    return f"{day} {rest[:5]} UTC".strip() if rest else day


def scope_text(filters: SearchFilters | None, titles: dict[str, str]) -> str:
    """What a search was restricted to, in words ("all indexed reports" when not at all)."""
    if filters is None or not filters.active:
        return "all indexed reports"
    parts = []
    if filters.doc_ids:
        parts.append("reports: " + "; ".join(titles.get(d, d) for d in filters.doc_ids))
    if filters.publishers:
        parts.append("publishers: " + ", ".join(filters.publishers))
    if filters.date_from or filters.date_to:
        parts.append(f"dated {filters.date_from or '…'} to {filters.date_to or '…'}")
    return "; ".join(parts)


# --- the briefing note ------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Backslash-escape characters Markdown would read as markup or HTML.

    Example:
        >>> md_escape("<b>*x*</b>")
        '\\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def briefing_markdown(answer: Answer, scope: str, generated: str) -> str:
    """The answer with its citations as a Markdown briefing note.

    Args:
        answer: the answer to export.
        scope: which reports were searched, in words (see :func:`scope_text`).
        generated: when the note was made, as it should be printed.
    """
    lines = [
        f"# Briefing note: {md_escape(answer.question)}",
        "",
        f"*Prepared {md_escape(generated)} with Legatus from {md_escape(scope)}. Each sentence "
        "below is taken from the report passage it cites; check the sources before use.*",
        "",
        "## Answer",
        "",
    ]
    if answer.sentences:
        lead = lead_text(answer)
        if lead:
            lines += [md_escape(lead), ""]
        for s in answer.sentences:
            marks = "".join(f"[{n}]" for n in s.citations)
            text = without_footnote_marks(s.text).strip()
            bullet = text[:1] in BULLETS
            lines.append(("- " if bullet else "") + f"{md_escape(text.lstrip(BULLETS))} {marks}")
    else:
        lines.append(md_escape(answer.answer))
    if answer.notice:
        lines += ["", f"> Note: {md_escape(answer.notice)}"]
    if answer.citations:
        lines += ["", "## Sources", ""]
        for c in answer.citations:
            lines += _source_md(c)
    return "\n".join(lines).rstrip() + "\n"


def _source_md(c: Citation) -> list[str]:
    p = c.passage
    meta = ", ".join(md_escape(x) for x in (p.publisher, p.date, p.section, p.location) if x)
    out = [f"[{c.n}] **{md_escape(p.title)}**" + (f" — {meta}" if meta else ""), ""]
    out += [f"> {md_escape(q)}" for q in (c.quotes or (p.text,))]
    return [*out, ""]
