"""Answers as HTML for the chat page and as a Markdown briefing note: pure functions.

Report text is untrusted (it comes from PDFs and web pages), so every piece of it is HTML-escaped
here (``ui.richtext``: only the report's own emphasis is shown as such); the page adds nothing
unescaped. Citation markers ``[n]`` link to the source card with the anchor ``lg-src-<turn>-<n>``,
where ``turn`` numbers the answers of a conversation from 0; the cards themselves, and the panel
they stand in, come from ``ui.cards`` (re-exported here: :func:`sources_html`, ...). The words
the page itself writes come in English or Dutch (``lang``), from :data:`_TEXT`.

Example:
    >>> from assistant.types import Answer
    >>> refusal = Answer(question="Wat?", answer="De rapporten zeggen dit niet.", refused=True)
    >>> answer_html(refusal, 0)
    '<div class="lg-answer lg-refused"><p>De rapporten zeggen dit niet.</p></div>'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from assistant.types import Answer, AnswerSentence
from assistant.verify import cited_text, without_footnote_marks
from index.types import IndexManifest, SearchFilters
from ui.cards import (
    anchor,
    highlight,
    hit_anchor,
    location,
    passage_card,
    report_link,
    source_card,
    sources_html,
)
from ui.i18n import texts
from ui.richtext import esc, to_html

__all__ = [
    "BULLETS", "anchor", "answer_html", "draft_html", "error_html", "esc",
    "esc_emphasis", "header_html", "highlight", "hit_anchor", "index_html", "lead_text",
    "location", "marker", "md_escape", "passage_card", "pending_html", "report_link",
    "scope_html", "scope_text", "source_card", "sources_html", "user_html",
]  # fmt: skip

BULLETS = "•▪●◦■"
"""Characters that start a list item in the reports' text; such sentences are shown as a list."""

_MD_SPECIAL = re.compile(r"([\\`*_<>\[\]#|~$])")

_TEXT = {
    "en": {
        "show_source": "Show source {n}",
        "searching": "Searching the reports…",
        "writing": "The answer is being written",
        "no_index": "No index information.",
        "n_pages": "{n} pages",
        "n_passages": "{n} passages",
        "indexed_on": "indexed {when}",
        "new": "new",
        "new_title": "Added to the index in the last {days} days",
        "index_line": "{reports} reports, {passages} passages · index updated {when}",
        "indexed_one": "{n} report indexed",
        "indexed_many": "{n} reports indexed",
        "tagline": "Answers from think-tank reports. Every sentence cites the passage it comes "
        "from.",
        "all_reports": "all indexed reports",
        "scope_reports": "reports: {titles}",
        "scope_publishers": "publishers: {names}",
        "scope_dates": "dated {start} to {end}",
    },
    "nl": {
        "show_source": "Toon bron {n}",
        "searching": "De rapporten worden doorzocht…",
        "writing": "Het antwoord wordt geschreven",
        "no_index": "Geen gegevens over de index.",
        "n_pages": "{n} pagina's",
        "n_passages": "{n} passages",
        "indexed_on": "geïndexeerd {when}",
        "new": "nieuw",
        "new_title": "De afgelopen {days} dagen aan de index toegevoegd",
        "index_line": "{reports} rapporten, {passages} passages · index bijgewerkt {when}",
        "indexed_one": "{n} rapport geïndexeerd",
        "indexed_many": "{n} rapporten geïndexeerd",
        "tagline": "Antwoorden uit rapporten van denktanks. Elke zin citeert de passage waar hij "
        "vandaan komt.",
        "all_reports": "alle geïndexeerde rapporten",
        "scope_reports": "rapporten: {titles}",
        "scope_publishers": "uitgevers: {names}",
        "scope_dates": "gedateerd {start} tot {end}",
    },
}


def esc_emphasis(text: str) -> str:
    """Escaped text in which the report's own emphasis (``**bold**``, ``*italic*``, ``<i>…</i>``)
    is shown as such: the only markup report text may carry; links, images and other HTML stay
    text.

    Example:
        >>> esc_emphasis("**Koorddans** <img src=x> *assurance*")
        '<strong>Koorddans</strong> &lt;img src=x&gt; <em>assurance</em>'
    """
    return to_html(text, footnotes=False)


def marker(turn: int, n: int, *, lang: str = "en") -> str:
    """The link a citation marker ``[n]`` becomes."""
    title = esc(texts(_TEXT, lang)["show_source"].format(n=n))
    return (
        f'<a class="lg-cite" href="#{anchor(turn, n)}" data-turn="{turn}" data-n="{n}" '
        f'title="{title}">[{n}]</a>'
    )


# --- the chat ---------------------------------------------------------------------------------


def user_html(question: str) -> str:
    """The user's message in the chat, escaped."""
    return f'<div class="lg-question">{esc(question)}</div>'


def pending_html(text: str | None = None, *, lang: str = "en") -> str:
    """The assistant's placeholder while an answer is being prepared (``text``: instead of
    "Searching the reports…")."""
    text = texts(_TEXT, lang)["searching"] if text is None else text
    return f'<div class="lg-answer lg-pending"><span class="lg-spinner"></span>{esc(text)}</div>'


def draft_html(draft: str, *, lang: str = "en") -> str:
    """An answer while a language model writes it: its text so far, escaped, then a spinner."""
    label = esc(texts(_TEXT, lang)["writing"])
    return (
        f'<div class="lg-answer lg-draft"><p>{esc(draft)}</p><p class="lg-more">'
        f'<span class="lg-spinner" role="status" aria-label="{label}"></span></p></div>'
    )


def error_html(message: str) -> str:
    """A readable problem in place of an answer (never a traceback)."""
    return f'<div class="lg-answer lg-error"><p>{esc(message)}</p></div>'


def answer_html(answer: Answer, turn: int, upto: int | None = None, *, lang: str = "en") -> str:
    """The answer as the chat shows it: its sentences with linked ``[n]`` markers.

    Args:
        answer: the assistant's answer.
        turn: the answer's position in the conversation (0-based), for the card anchors.
        upto: show only the first ``upto`` sentences (for progressive display); None: all.
        lang: the interface language (the markers' tooltips).
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
    marks = [q if q and q != answer.language else "" for q in quoted]
    parts += _sentence_blocks(shown, turn, marks, lang)
    if upto is not None and upto < len(answer.sentences):
        parts.append('<p class="lg-more"><span class="lg-spinner"></span></p>')
    return f'<div class="lg-answer">{"".join(parts)}{notice}</div>'


def lead_text(answer: Answer) -> str:
    """The words before the first sentence (e.g. "Volgens de rapporten:"), if any."""
    body = cited_text(answer.sentences)
    if body and answer.answer.endswith(body):
        return answer.answer[: -len(body)].strip()
    return ""


def _sentence_blocks(
    sentences: Sequence[AnswerSentence], turn: int, langs: Sequence[str] = (), lang: str = "en"
) -> list[str]:
    """Paragraphs of running sentences, and lists where sentences start with a bullet; where
    the quotes move to another section, its heading stands above them. ``langs[i]``, when set,
    is the language sentence ``i`` is quoted in, marked on it for screen readers and fonts."""
    blocks: list[str] = []
    run: list[str] = []
    items: list[str] = []
    heading = ""

    def flush(kind: str) -> None:
        if kind == "run" and run:
            blocks.append(f"<p>{' '.join(run)}</p>")
            run.clear()
        if kind == "items" and items:
            blocks.append(f"<ul>{''.join(items)}</ul>")
            items.clear()

    for i, s in enumerate(sentences):
        if s.heading and s.heading != heading:
            flush("run")
            flush("items")
            blocks.append(f'<p class="lg-heading">{esc(s.heading)}</p>')
        heading = s.heading or heading
        text = without_footnote_marks(s.text).strip()
        quote_ = esc_emphasis(text.lstrip(BULLETS).strip())
        if i < len(langs) and langs[i]:
            quote_ = f'<span lang="{esc(langs[i])}">{quote_}</span>'
        html_ = quote_ + "".join(marker(turn, n, lang=lang) for n in s.citations)
        if text[:1] in BULLETS:
            flush("run")
            items.append(f"<li>{html_}</li>")
        else:
            flush("items")
            run.append(html_)
    flush("items")
    flush("run")
    return blocks


# --- the index overview -----------------------------------------------------------------------


NEW_DAYS = 7
"""A report indexed this many days ago or less is marked new in the report list."""


def is_new(indexed_at: str, now: dt.datetime | None = None, days: int = NEW_DAYS) -> bool:
    """Whether a report stamped ``indexed_at`` (ISO 8601) was indexed in the last ``days`` days.

    Example:
        >>> is_new("2026-12-01T09:00:00+00:00", dt.datetime(2026, 12, 4, tzinfo=dt.UTC))
        True
    """
    try:
        when = dt.datetime.fromisoformat(indexed_at)
    except ValueError:
        return False
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (now or dt.datetime.now(dt.UTC)) - when <= dt.timedelta(days=days)


def index_html(manifest: IndexManifest | None, *, lang: str = "en") -> str:
    """The indexed reports (publisher, date, size, when indexed; new ones marked) and when the
    index last changed."""
    words = texts(_TEXT, lang)
    if manifest is None:
        return f'<div class="lg-index"><p>{esc(words["no_index"])}</p></div>'
    rows = []
    for entry in sorted(manifest.documents.values(), key=lambda e: (e.date, e.title), reverse=True):
        pages = words["n_pages"].format(n=entry.page_count) if entry.page_count else ""
        size = ", ".join(
            x for x in (pages, words["n_passages"].format(n=len(entry.chunk_ids))) if x
        )
        indexed = (
            words["indexed_on"].format(when=_day_time(entry.indexed_at)) if entry.indexed_at else ""
        )
        meta = " · ".join(esc(x) for x in (entry.publisher, entry.date, size, indexed) if x)
        new = (
            f'<span class="lg-new" title="{esc(words["new_title"].format(days=NEW_DAYS))}">'
            f"{esc(words['new'])}</span> "
            if is_new(entry.indexed_at)
            else ""
        )
        rows.append(
            f'<li>{new}<span class="lg-title">{esc(entry.title)}</span>'
            f'<span class="lg-meta">{meta}</span></li>'
        )
    line = words["index_line"].format(
        reports=len(rows), passages=manifest.counts.chunks, when=_day_time(manifest.updated_at)
    )
    return f'<div class="lg-index"><ul>{"".join(rows)}</ul><p class="lg-meta">{esc(line)}</p></div>'


def header_html(manifest: IndexManifest | None, *, lang: str = "en") -> str:
    """The page's title bar, with how many reports the index holds."""
    words = texts(_TEXT, lang)
    count = len(manifest.documents) if manifest else 0
    stats = words["indexed_one" if count == 1 else "indexed_many"].format(n=count)
    return (
        f'<div class="lg-stats">{esc(stats)}</div>'
        f'<span class="lg-brand">Legatus</span><span class="lg-tagline">{esc(words["tagline"])}'
        "</span>"
    )


def scope_html(line: str) -> str:
    """The line under the question box saying what is searched (titles, typed dates: escaped)."""
    return f'<span class="lg-scope-line">{esc(line)}</span>'


def _day_time(iso: str) -> str:
    """``2026-03-01T10:22:05+00:00`` → ``2026-03-01 10:22 UTC``."""
    day, _, rest = iso.partition("T")
    return f"{day} {rest[:5]} UTC".strip() if rest else day


def scope_text(filters: SearchFilters | None, titles: dict[str, str], *, lang: str = "en") -> str:
    """What a search was restricted to, in words ("all indexed reports" when not at all)."""
    words = texts(_TEXT, lang)
    if filters is None or not filters.active:
        return words["all_reports"]
    parts = []
    if filters.doc_ids:
        names = "; ".join(titles.get(d, d) for d in filters.doc_ids)
        parts.append(words["scope_reports"].format(titles=names))
    if filters.publishers:
        parts.append(words["scope_publishers"].format(names=", ".join(filters.publishers)))
    if filters.date_from or filters.date_to:
        dates = {"start": filters.date_from or "…", "end": filters.date_to or "…"}
        parts.append(words["scope_dates"].format(**dates))
    return "; ".join(parts)


# --- the briefing note ------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Backslash-escape characters Markdown would read as markup or HTML.

    Example:
        >>> md_escape("<b>*x*</b>")
        '\\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(text.split()))
