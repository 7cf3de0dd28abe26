"""Turning raw extracted text into clean blocks: paragraphs, headings, list items, footnotes.

Two kinds of raw text reach this module:

* hard-wrapped text from a PDF (one ``raw`` block per page, or a plain-text PDF extraction):
  lines are joined into paragraphs, line-break hyphenation is repaired, running headers and
  footers and repeated pull quotes are dropped, and headings are recognised by their numbering
  and shape;
* text with one paragraph per line (a Markdown-like export): each line is a block, headings are
  recognised by shape and by the document's own table of contents.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Literal

from ingest.hyphenation import Vocabulary, join_broken_line, repair_inline_breaks
from ingest.types import Block, BlockKind

_BULLET = re.compile(r"^(?:[•▪●◦■□–]|-(?=\s)|\d{1,2}[.)](?=\s+[a-z]))\s*")
_NUMBERED_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+(\S.*)$")
_FOOTNOTE = re.compile(r"^(?:\[(\d{1,3})\]|(\d{1,3}))\s+(?=[\w‘'“\"\[(])")
_PAGE_NUMBER = re.compile(
    r"^(?:p(?:agina|age)?\.?\s*)?\d{1,4}(?:\s*(?:/|van|of)\s*\d{1,4})?$", re.I
)
_RUNNING = re.compile(r"^.{2,60}\s{2,}\|\s{2,}.{2,60}?\d{1,3}$")  # "Samenhangen  |  Conclusie47"
_TOC_LINE = re.compile(r"^(.{3,160}?)\t+(\d{1,4})$")
_PIPE_HEADING = re.compile(r"^([^|]{2,30}?)\s+\|\s+(\S.{1,150})$")
_TERMINAL = (".", ",", ";", ":", "!", "…")
_QUOTE_ONLY = re.compile(r"^[“”\"„‘’'\s]+$")


@dataclass(frozen=True)
class Line:
    text: str
    page: int | None
    page_label: str | None
    box_start: bool = False  # the extractor started a new text box here (leading space)


def normalise_chars(text: str) -> str:
    """Unify the invisible damage of extraction: odd spaces, soft hyphens, control characters."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u00ad", "").replace("\ufeff", "")
    text = re.sub(r"[\u00a0\u2007\u202f\u2009\u200a]", " ", text)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def is_hard_wrapped(text: str) -> bool:
    """Whether paragraphs are broken into short lines (PDF extraction) or kept one per line."""
    lengths = [len(line) for line in text.splitlines() if line.strip()]
    return bool(lengths) and statistics.median(lengths) < 80


def raw_lines(blocks: list[Block]) -> list[Line]:
    """The lines of raw blocks, each with its page, minus running headers, footers and numbers."""
    lines: list[Line] = []
    for block in blocks:
        for text in normalise_chars(block.text).split("\n"):
            stripped = text.rstrip()
            lines.append(
                Line(stripped.strip(), block.page, block.page_label, stripped.startswith(" "))
            )
        lines.append(Line("", block.page, block.page_label))
    return _drop_running_lines(lines, page_count=len({b.page for b in blocks if b.page}))


def _drop_running_lines(lines: list[Line], page_count: int) -> list[Line]:
    """Drop headers, footers and page numbers: short lines at page edges that recur."""

    def key(text: str) -> str:
        return re.sub(r"\d+", "#", text.lower())

    edges: set[int] = set()
    for page in {line.page for line in lines if line.page is not None}:
        on_page = [i for i, line in enumerate(lines) if line.page == page and line.text]
        edges.update(on_page[:2] + on_page[-2:])
    counts = Counter(key(lines[i].text) for i in edges)
    threshold = max(3, page_count // 2)

    def running(i: int, text: str) -> bool:
        if _RUNNING.match(text):
            return True
        return i in edges and (
            bool(_PAGE_NUMBER.match(text)) or (len(text) < 80 and counts[key(text)] >= threshold)
        )

    return [line for i, line in enumerate(lines) if not (line.text and running(i, line.text))]


def _numbered_heading(text: str) -> tuple[str, str] | None:
    """``("2.1", "Gevoelige technologieën")`` when a line reads as a numbered heading."""
    match = _NUMBERED_HEADING.match(text)
    if not match:
        return None
    number, title = match.groups()
    title = title.strip()
    if (
        len(title) > 70
        or not title[0].isupper()
        or (title.endswith(_TERMINAL) and not title.endswith(","))
        or re.search(r"[\d$%€:]", title)
        or len(title.split()) > 9
    ):
        return None
    return number, title


def _is_plain_heading(lines: list[Line], i: int) -> bool:
    """A short capitalised line on its own, followed by a sentence: ``Samenvatting``."""
    text = lines[i].text
    words = text.split()
    if not (1 <= len(words) <= 3 and len(text) >= 4 and text[0].isupper()):
        return False
    if text.endswith(_TERMINAL) or re.search(r"[\d$%€“”\"]", text):
        return False
    previous_ends = i == 0 or not lines[i - 1].text or lines[i - 1].text.endswith(_TERMINAL)
    nxt = lines[i + 1].text if i + 1 < len(lines) else ""
    return previous_ends and len(nxt) > 30 and nxt[0].isupper()


@dataclass
class _Para:
    lines: list[Line]
    kind: BlockKind | Literal["break"] = "paragraph"
    level: int = 0

    @property
    def first(self) -> Line:
        return self.lines[0]


def _split_paragraphs(lines: list[Line]) -> list[_Para]:
    """Group lines into paragraphs, headings and list items."""
    paras: list[_Para] = []
    current: _Para | None = None

    def close() -> None:
        nonlocal current
        if current and current.lines:
            paras.append(current)
        current = None

    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.text or _QUOTE_ONLY.match(line.text):
            close()
        elif heading := _numbered_heading(line.text):
            close()
            number, _ = heading
            parts = [line]
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if nxt and nxt.text and _continues_heading(line.text, nxt):
                parts.append(nxt)
                i += 1
            paras.append(_Para(parts, "heading", number.count(".") + 1))
        elif _is_plain_heading(lines, i):
            close()
            paras.append(_Para([line], "heading", 0))
        elif _BULLET.match(line.text) and _starts_item(line.text, current):
            close()
            current = _Para([line], "list_item")
        elif (
            current is None
            or (line.box_start and current.lines[-1].text.endswith(_TERMINAL))
            or (current.kind == "footnote" and _FOOTNOTE.match(line.text))
        ):
            close()
            cited = _FOOTNOTE.match(line.text) and _looks_cited(line.text)
            current = _Para([line], "footnote" if cited else "paragraph")
        else:
            current.lines.append(line)
        i += 1
    close()
    return paras


def _starts_item(text: str, current: _Para | None) -> bool:
    """A bullet starts a list item; a dash does only where no sentence is running on.

    Hard-wrapped text breaks lines before parenthetical dashes ("implementeren" / "– als een
    manier om …"), which are no list.
    """
    if text.startswith(("•", "▪", "●", "◦", "■", "□")) or current is None:
        return True
    return current.lines[-1].text.endswith((*_TERMINAL, "?", ":"))


def _continues_heading(heading: str, nxt: Line) -> bool:
    """``2.2. Gevolgen voor`` / ``Nederland en Europa``: a heading broken over two lines."""
    text = nxt.text
    return (
        len(text) <= 45
        and not text.endswith(_TERMINAL)
        and len(text.split()) <= 6
        and not nxt.box_start
        and not _numbered_heading(text)
        and (heading.endswith("-") or heading[-1].isalpha() or heading.endswith(","))
    )


def _looks_cited(text: str) -> bool:
    """A footnote names a source: a link, a year, a quoted title or 'et al.'."""
    return bool(re.search(r"https?://|www\.|\b(19|20)\d\d\b|[‘“'\"].+[’”'\"]|et al\.|\]\(", text))


def _words(para: _Para) -> list[str]:
    text = " ".join(line.text for line in para.lines).replace("-", "")
    return re.findall(r"\w+", text.lower())


def _trigrams(words: list[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + 3]) for i in range(len(words) - 2)]


def _drop_repeated(paras: list[_Para]) -> list[_Para]:
    """Drop pull quotes: short-line paragraphs whose words also stand in the running text.

    Pull quotes are often abridged ("De noodzaak om strategische autonomie …" quotes "De
    noodzaak om, in deze geest, strategische autonomie …"), so a quote counts as repeated when
    most of its word trigrams occur elsewhere in the document.
    """
    grams = [_trigrams(_words(p)) for p in paras]
    counts: Counter[tuple[str, ...]] = Counter(g for gs in grams for g in gs)
    kept = []
    for para, own in zip(paras, grams, strict=True):
        quote_like = para.first.text.startswith(("“", '"', "„")) or (
            len(para.lines) >= 3 and statistics.median(len(x.text) for x in para.lines) < 42
        )
        if para.kind == "paragraph" and quote_like and len(own) >= 6:
            elsewhere = sum(counts[g] - own.count(g) > 0 for g in own) / len(own)
            if elsewhere >= 0.7:
                kept.append(_Para(para.lines[:1], "break"))  # marks a page or column change
                continue
        kept.append(para)
    return kept


def _relocate_trailing_headings(paras: list[_Para]) -> list[_Para]:
    """Move a first-section heading set after its own text back to where that text begins.

    Extraction sometimes places ``3.1. …`` and ``3. …`` after the first column of section 3.1.
    Such a heading heads nothing (the next paragraph is a heading too); its text starts after
    the last page or column break (a dropped pull quote) since the previous heading.
    """
    out = list(paras)
    for i, para in enumerate(paras):
        nxt = next((p for p in paras[i + 1 :] if p.kind != "break"), None)
        number = _numbered_heading(para.first.text) if para.kind == "heading" else None
        if not (number and number[0].endswith(".1") and nxt and nxt.kind == "heading"):
            continue
        at = out.index(para)
        for back in range(at - 1, -1, -1):
            if out[back].kind == "heading":
                break
            if out[back].kind == "break":
                out.insert(back + 1, out.pop(at))
                break
    return [p for p in out if p.kind != "break"]


def _merge_broken_paragraphs(paras: list[_Para]) -> list[_Para]:
    """Re-join a paragraph split by a column or page break (no full stop, lower-case next)."""
    merged: list[_Para] = []
    for para in paras:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and prev.kind in ("paragraph", "list_item", "footnote")
            and para.kind == "paragraph"
            and not prev.lines[-1].text.endswith(_TERMINAL + ("?", ")", "”", '"'))
            and para.first.text[:1].islower()
        ):
            prev.lines.extend(para.lines)
        else:
            merged.append(para)
    return merged


def clean_wrapped(blocks: list[Block]) -> list[Block]:
    """Clean hard-wrapped raw blocks (PDF pages or a PDF extraction) into structured blocks."""
    lines = raw_lines(blocks)
    vocab = Vocabulary.from_lines(line.text for line in lines)
    paras = _split_paragraphs(lines)
    paras = _relocate_trailing_headings(_drop_repeated(paras))
    paras = _merge_broken_paragraphs(paras)
    out: list[Block] = []
    for para in paras:
        if para.kind == "break":  # only a marker for _relocate_trailing_headings
            continue
        if para.kind == "paragraph" and any(line.text.startswith("©") for line in para.lines):
            # The colophon: what follows (author biographies, addresses) is no longer a chapter.
            out.append(Block("heading", "Colofon", 1, para.first.page, para.first.page_label))
        text = para.lines[0].text
        for line in para.lines[1:]:
            text = join_broken_line(text, line.text, vocab)
        text = repair_inline_breaks(re.sub(r"(?<=\S) {2,}(?=\S)", " ", text), vocab)
        if para.kind == "footnote":
            text = _FOOTNOTE.sub(lambda m: f"[{m.group(1) or m.group(2)}] ", text, count=1)
        out.append(Block(para.kind, text, para.level, para.first.page, para.first.page_label))
    return out


def clean_lines(blocks: list[Block]) -> list[Block]:
    """Clean text that keeps one paragraph per line (e.g. a Markdown-like export)."""
    text = "\n".join(normalise_chars(b.text) for b in blocks)
    lines = [line.strip() for line in text.split("\n")]
    toc = {m.group(1).strip(): m.group(2) for line in lines if (m := _TOC_LINE.match(line))}
    out: list[Block] = []
    for i, line in enumerate(lines):
        if not line or _TOC_LINE.match(line) or _QUOTE_ONLY.match(line):
            continue
        nxt = next((x for x in lines[i + 1 :] if x), "")
        out.append(_classify_line(line, toc, nxt, lines[i + 1] if i + 1 < len(lines) else ""))
    return [b for b in out if b.text]


def _classify_line(line: str, toc: dict[str, str], nxt: str, following: str) -> Block:
    label = None
    if m := _PIPE_HEADING.match(line):
        return Block("heading", f"{m.group(1)} | {m.group(2)}", 1, None, toc_label(toc, m))
    if re.match(r"^[A-Z][A-Z\s:–\-&'’]{5,}$", line):
        return _capitals_heading(line, toc)
    if line in toc:
        return Block("heading", line, 2, None, toc[line])
    if _BULLET.match(line):
        return Block("list_item", line)
    if (m := _FOOTNOTE.match(line)) and _looks_cited(line) and len(line) < 400:
        return Block("footnote", line)
    if "©" in line and len(line) < 300:
        return Block("paragraph", "")  # a photo credit, not report text
    words = line.split()
    if (
        len(line) <= 90
        and len(words) <= 12
        and line[0].isupper()
        and not line.endswith(_TERMINAL + ("?", ")", "*"))
        and not following
        and nxt[:1].isupper()
    ):
        return Block("heading", line, 3, None, label)
    return Block("paragraph", line)


def _capitals_heading(line: str, toc: dict[str, str]) -> Block:
    """``BIJLAGE: FUTURES OF EUROPE: ...`` heads a part when the contents list it, else a item."""

    def letters(text: str) -> str:
        return re.sub(r"[^A-Z]", "", text.upper())

    for entry, page in toc.items():
        first, _, rest = entry.partition(" ")
        if rest and letters(line).startswith(letters(entry)):
            body = line[len(first) :].lstrip(" :")
            return Block("heading", f"{first} | {body}", 1, None, page)
    return Block("heading", line, 4)


def toc_label(toc: dict[str, str], match: re.Match[str]) -> str | None:
    """The printed page of a ``Thema 3 | Europese afschrikking`` heading in the contents."""
    for key in (f"{match.group(1)} {match.group(2)}", match.group(2)):
        if key in toc:
            return toc[key]
    return None


def clean(blocks: list[Block]) -> list[Block]:
    """Clean a reader's blocks: raw ones by their shape, structured ones lightly."""
    if not blocks:
        return []
    if all(b.kind != "raw" for b in blocks):
        return [
            replace(b, text=re.sub(r"\s+", " ", normalise_chars(b.text)).strip())
            for b in blocks
            if b.text.strip()
        ]
    raw = [b for b in blocks if b.kind == "raw"]
    if len(raw) == 1 and raw[0].page is None and not is_hard_wrapped(raw[0].text):
        return clean_lines(raw)
    return clean_wrapped(raw)
