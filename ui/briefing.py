"""An answer as a briefing note to download: Markdown or Word, framed in the question's language.

Both formats are written from one list of blocks (:func:`note_blocks`), so they always say the
same: a title with the question, a line saying when and from which reports the note was
prepared, the answer (its lead, then the quoted sentences with their ``[n]`` markers, list
items as a list), the notice if any, and the sources, one quote per block. The note's own words
are Dutch for a Dutch question and English for an English one (``Answer.language``).

Report text is untrusted. In Markdown every piece of it is backslash-escaped, so nothing in it
becomes a link, an image or HTML; in Word it is plain text runs. The only markup kept from a
report is its own emphasis (``**bold**``, ``*italic*``, ``<i>…</i>``), as bold and italic.

Example:
    >>> from assistant.types import Answer
    >>> refusal = Answer(question="Why?", answer="The reports do not say.", refused=True,
    ...                  language="en")
    >>> print(briefing_markdown(refusal, "all indexed reports", "2026-01-01", lang="nl"))
    ... # doctest: +NORMALIZE_WHITESPACE
    # Briefing note: Why?
    <BLANKLINE>
    *Prepared 2026-01-01 with Legatus from all indexed reports. Each sentence below is taken
    from the report passage it cites; check the sources before use.*
    <BLANKLINE>
    ## Answer
    <BLANKLINE>
    The reports do not say.
    <BLANKLINE>
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import docx
from docx.text.paragraph import Paragraph

from assistant.types import Answer, AnswerSentence, Citation
from assistant.verify import without_footnote_marks
from ui.cards import location
from ui.i18n import is_lang, texts
from ui.render import BULLETS, lead_text, md_escape

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Briefing note: {question}",
        "prepared": "Prepared {generated} with Legatus from {scope}. Each sentence below is "
        "taken from the report passage it cites; check the sources before use.",
        "answer": "Answer",
        "sources": "Sources",
        "notice": "Note:",
    },
    "nl": {
        "title": "Briefingnotitie: {question}",
        "prepared": "Opgesteld {generated} met Legatus uit {scope}. Elke zin hieronder is "
        "overgenomen uit de rapportpassage die hij aanhaalt; controleer de bronnen voor gebruik.",
        "answer": "Antwoord",
        "sources": "Bronnen",
        "notice": "Let op:",
    },
}

Kind = Literal[
    "title", "prepared", "heading", "subhead", "para", "item", "notice", "source", "quote"
]


@dataclass(frozen=True)
class Run:
    """A stretch of text with one emphasis. ``own`` text is the note's (``[1]``, labels) and
    carries no markup, so Markdown shows it unescaped; everything else is escaped."""

    text: str
    bold: bool = False
    italic: bool = False
    own: bool = False


@dataclass(frozen=True)
class Block:
    """One paragraph of the note: what it is, and its runs."""

    kind: Kind
    runs: tuple[Run, ...]


# Characters Word's XML cannot hold (C0 controls other than tab and newlines, lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EMPHASIS = re.compile(
    r"\*\*(?=\S)(?P<b>[^*]{1,200}?)(?<=\S)\*\*"
    r"|(?<![\w*])\*(?=\S)(?P<i>[^*]{1,200}?)(?<=\S)\*(?![\w*])"
    r"|<(?P<tag>i|em|b|strong)>(?P<t>[^<>]{1,300}?)</(?P=tag)>",  # tags kept from HTML sources
    re.IGNORECASE,
)
# A line that Markdown would read as a list item or a rule: "1998. Het …", "- x", "+ x", "===".
_BLOCK_START = re.compile(r"^(\d{1,9})([.)])(?=\s|$)|^([-+=])")


def clean(text: str) -> str:
    """Text on one line, without characters a document cannot hold.

    Example:
        >>> clean("a\\x00b \\n c")
        'ab c'
    """
    return " ".join(_NOT_XML.sub("", text).split())


def emphasis_runs(text: str) -> list[Run]:
    """Report text as runs, its own emphasis (``**bold**``, ``*italic*``, matched ``<i>``,
    ``<em>``, ``<b>``, ``<strong>`` pairs) as such; anything else (links, other HTML,
    arithmetic) stays text.

    Example:
        >>> [(r.text, r.bold, r.italic) for r in emphasis_runs("**Koorddans** en 2 * 3 * 4")]
        [('Koorddans', True, False), (' en 2 * 3 * 4', False, False)]
        >>> [(r.text, r.italic) for r in emphasis_runs("<i>lock-in</i> <img src=x>")]
        [('lock-in', True), (' <img src=x>', False)]
    """
    text = clean(text)
    runs: list[Run] = []
    pos = 0
    for m in _EMPHASIS.finditer(text):
        if m.start() > pos:
            runs.append(Run(text[pos : m.start()]))
        if m["tag"]:
            bold = m["tag"].lower() in ("b", "strong")
            runs.append(Run(m["t"], bold=bold, italic=not bold))
        else:
            runs.append(Run(m["b"], bold=True) if m["b"] else Run(m["i"], italic=True))
        pos = m.end()
    if pos < len(text):
        runs.append(Run(text[pos:]))
    return runs


def note_language(answer: Answer, lang: str) -> str:
    """The language the note is framed in: the answer's, else ``lang``, else English."""
    for candidate in (answer.language, lang):
        if is_lang(candidate):
            return candidate
    return "en"


def note_blocks(answer: Answer, scope: str, generated: str, lang: str) -> list[Block]:
    """The note as blocks, in order: title, prepared line, answer, notice, sources."""
    language = note_language(answer, lang)
    t = texts(TEXTS, language)
    blocks = [
        Block("title", (Run(clean(t["title"].format(question=answer.question))),)),
        Block("prepared", (Run(clean(t["prepared"].format(generated=generated, scope=scope))),)),
        Block("heading", (Run(t["answer"], own=True),)),
    ]
    if answer.sentences:
        lead = lead_text(answer)
        if lead:
            blocks.append(Block("para", tuple(emphasis_runs(lead))))
        blocks += _sentence_blocks(answer.sentences)
    else:
        blocks.append(Block("para", tuple(emphasis_runs(answer.answer))))
    if answer.notice:
        label = Run(t["notice"] + " ", bold=True, own=True)
        blocks.append(Block("notice", (label, Run(clean(answer.notice)))))
    if answer.citations:
        blocks.append(Block("heading", (Run(t["sources"], own=True),)))
        for c in answer.citations:
            blocks += _source_blocks(c, language)
    return blocks


def _sentence_blocks(sentences: Sequence[AnswerSentence]) -> list[Block]:
    """Running sentences as paragraphs, bullet sentences as items; a section heading stands
    above the quotes that come from it, as in the chat."""
    blocks: list[Block] = []
    run: list[Run] = []
    heading = ""

    def flush() -> None:
        if run:
            blocks.append(Block("para", tuple(run)))
            run.clear()

    for s in sentences:
        if s.heading and s.heading != heading:
            flush()
            blocks.append(Block("subhead", (Run(clean(s.heading)),)))
        heading = s.heading or heading
        text = clean(without_footnote_marks(s.text))
        marks = Run(" " + "".join(f"[{n}]" for n in s.citations), own=True)
        body = [*emphasis_runs(text.lstrip(BULLETS).strip()), marks]
        if text[:1] in BULLETS:
            flush()
            blocks.append(Block("item", tuple(body)))
        else:
            run.extend([Run(" ")] if run else [])
            run.extend(body)
    flush()
    return blocks


def _source_blocks(c: Citation, lang: str) -> list[Block]:
    p = c.passage
    meta = ", ".join(x for x in (p.publisher, p.date, p.section, location(p, lang=lang)) if x)
    head = [Run(f"[{c.n}] ", own=True), Run(clean(p.title), bold=True)]
    if meta:
        head.append(Run(" — " + clean(meta)))
    quotes = [q for q in (clean(without_footnote_marks(q)) for q in c.quotes or (p.text,)) if q]
    return [Block("source", tuple(head))] + [
        Block("quote", tuple(emphasis_runs(q))) for q in quotes
    ]


# --- Markdown ---------------------------------------------------------------------------------


def _md_run(run: Run) -> str:
    body = run.text.strip() if run.own else md_escape(run.text)
    if body and (run.bold or run.italic):
        body = f"**{body}**" if run.bold else f"*{body}*"
    before = " " if run.text[:1].isspace() else ""
    after = " " if run.text[-1:].isspace() and body else ""
    return before + body + after


def md_line(runs: Iterable[Run]) -> str:
    """Runs as one line of Markdown, escaped so that it cannot start a list or a rule either.

    Example:
        >>> md_line([Run("1998. Het <b>jaar</b>")])
        '1998\\\\. Het \\\\<b\\\\>jaar\\\\</b\\\\>'
    """
    line = "".join(_md_run(r) for r in runs).strip()
    return _BLOCK_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", line, count=1)


_MD_PREFIX = {"title": "# ", "heading": "## ", "item": "- ", "quote": "> "}


def briefing_markdown(answer: Answer, scope: str, generated: str, *, lang: str) -> str:
    """The answer with its sources as a Markdown briefing note.

    Args:
        answer: the answer to export.
        scope: which reports were searched, in words (see ``ui.render.scope_text``).
        generated: when the note was made, as it should be printed.
        lang: the interface language, used when the answer does not say its own.
    """
    out: list[str] = []
    previous: Kind | None = None
    for block in note_blocks(answer, scope, generated, lang):
        line = md_line(block.runs)
        if block.kind in ("prepared", "subhead"):
            line = f"*{line}*"
        out.append("\n" if block.kind == previous == "item" else "\n\n")
        out.append(_MD_PREFIX.get(block.kind, "") + line)
        previous = block.kind
    return "".join(out).strip() + "\n"


# --- Word -------------------------------------------------------------------------------------

_DOCX_STYLE = {"item": "List Bullet", "quote": "Quote"}


def briefing_docx(answer: Answer, scope: str, generated: str, *, lang: str) -> bytes:
    """The same briefing note as a Word document (``.docx`` bytes).

    Example:
        >>> from assistant.types import Answer
        >>> data = briefing_docx(Answer(question="Wat?", answer="Niets.", refused=True),
        ...                      "alle rapporten", "2026-01-01", lang="nl")
        >>> docx.Document(io.BytesIO(data)).paragraphs[2].text
        'Antwoord'
    """
    document = docx.Document()
    document.core_properties.title = clean(answer.question)[:250]
    document.core_properties.language = note_language(answer, lang)
    document.core_properties.author = "Legatus"
    for block in note_blocks(answer, scope, generated, lang):
        if block.kind == "title":
            paragraph = document.add_heading("", level=0)
        elif block.kind == "heading":
            paragraph = document.add_heading("", level=1)
        else:
            paragraph = document.add_paragraph(style=_DOCX_STYLE.get(block.kind))
        _add_runs(paragraph, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_runs(paragraph: Paragraph, block: Block) -> None:
    for run in block.runs:
        added = paragraph.add_run(run.text)
        added.bold = run.bold or None
        added.italic = run.italic or block.kind in ("prepared", "subhead") or None
