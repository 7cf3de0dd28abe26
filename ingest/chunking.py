"""Cutting a structured document into citable passages.

A passage never crosses a section boundary, ends at a sentence or block boundary, and repeats
the last whole sentences of the passage before it (the overlap), so that a fact stated across a
cut is still found whole in one passage.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.settings import ChunkSettings
from ingest.types import Chunk, Document, PageStart, Section, Span

_ABBREVIATIONS = frozenset(
    "bijv o.a d.w.z e.g i.e dr mr prof nr art vs ca st u.s jl resp m.b.t t.a.v z.g.a.n etc"
    " incl excl fig vgl zgn mln mrd".split()
)
_SENTENCE_END = re.compile(
    r"[.!?…](?:[”\"’')\]]|[¹²³⁴⁵⁶⁷⁸⁹⁰]+|\d{1,2}(?=\s))*\s+(?=[\"“‘(\[•*]?[A-Z0-9À-Ý])"
)


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence extents in ``text`` (shifted by ``offset``), abbreviation-aware.

    Example:
        >>> split_sentences("Dit is zo. Bijv. dit niet. Klaar!")
        [(0, 10), (11, 33)]
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        before = text[start : match.start() + 1]
        word = re.findall(r"([\w.]+)\.$", before)
        if word and (word[0].lower() in _ABBREVIATIONS or re.fullmatch(r"[A-Z]", word[0])):
            continue
        end = match.start() + len(match.group(0).rstrip())
        bounds.append((offset + start, offset + end))
        start = match.end()
    if start < len(text):
        bounds.append((offset + start, offset + len(text.rstrip())))
    return [(s, e) for s, e in bounds if e > s]


def _overlapping(spans: Sequence[Span], ends: Sequence[int], start: int, end: int) -> list[Span]:
    """The spans that overlap ``[start, end)``.

    Spans are in text order and do not overlap, so their ends are sorted: a bisection finds the
    first one, instead of a scan of all spans per section and per passage, which made cutting
    quadratic in the length of the document (141 s for 32 MiB of text).
    """
    out: list[Span] = []
    for i in range(bisect.bisect_right(ends, start), len(spans)):
        if spans[i].start >= end:
            break
        out.append(spans[i])
    return out


def _units(doc: Document, section: Section, max_unit: int, ends: Sequence[int]) -> list[_Unit]:
    units: list[_Unit] = []
    for span in _overlapping(doc.spans, ends, section.start, section.end):
        text = doc.text[span.start : span.end]
        pieces = (
            split_sentences(text, span.start)
            if span.kind == "paragraph"
            else [(span.start, span.end)]
        )
        for start, end in pieces:
            units.extend(_cut_long(doc.text, start, end, max_unit))
    return units


def _cut_long(text: str, start: int, end: int, max_unit: int) -> list[_Unit]:
    """Split a run longer than ``max_unit`` at spaces (a table flattened into one 'sentence')."""
    out: list[_Unit] = []
    while end - start > max_unit:
        cut = text.rfind(" ", start, start + max_unit)
        if cut <= start:
            cut = start + max_unit
        out.append(_Unit(start, cut))
        start = cut + 1 if text[cut] == " " else cut
    out.append(_Unit(start, end))
    return out


def _pack(units: list[_Unit], cfg: ChunkSettings) -> list[tuple[int, int]]:
    """Greedy packing of units into passages with a whole-unit overlap."""
    extents: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        start, j = units[i].start, i
        while j + 1 < len(units) and units[j + 1].end - start <= cfg.size:
            j += 1
        if j + 1 < len(units) and units[-1].end - units[j + 1].start < cfg.min_size:
            j = len(units) - 1  # a short tail joins this passage rather than stand alone
        extents.append((start, units[j].end))
        if j + 1 >= len(units):
            break
        k = j + 1
        while k - 1 > i and units[j].end - units[k - 1].start <= cfg.overlap:
            k -= 1
        i = k
    return extents


def _pages(
    doc: Document, start: int, end: int, ends: Sequence[int]
) -> tuple[int | None, int | None, str | None, tuple[PageStart, ...]]:
    """First page, last page, first page's label, and where each later page begins."""
    inside = [s for s in _overlapping(doc.spans, ends, start, end) if s.page]
    if not inside:
        return None, None, None, ()
    starts: list[PageStart] = []
    page = inside[0].page
    for span in inside[1:]:
        if span.page != page and span.page is not None:
            starts.append((max(span.start, start), span.page, span.page_label))
            page = span.page
    return inside[0].page, inside[-1].page, inside[0].page_label, tuple(starts)


def chunk(doc: Document, cfg: ChunkSettings | None = None) -> list[Chunk]:
    """Cut a document into passages, section by section.

    Example:
        >>> from ingest.structure import build_document
        >>> from ingest.types import Block, DocumentMeta
        >>> meta = DocumentMeta(doc_id="d", title="D", source_file="d.md")
        >>> doc = build_document(meta, [Block("heading", "Intro", 1), Block("paragraph", "Zin.")])
        >>> [c.text for c in chunk(doc)]
        ['Intro\\n\\nZin.']
    """
    cfg = cfg or ChunkSettings()
    chunks: list[Chunk] = []
    section_page: str | None = None
    ends = [span.end for span in doc.spans]
    for section in doc.sections:
        section_page = section.page_label or (str(section.page) if section.page else section_page)
        for start, end in _pack(_units(doc, section, cfg.size, ends), cfg):
            page, page_end, label, page_starts = _pages(doc, start, end, ends)
            piece = Chunk.create(
                doc.doc_id,
                doc.text[start:end],
                start,
                end,
                section.path,
                title=doc.meta.title,
                ordinal=len(chunks),
                page=page,
                page_end=page_end,
                page_label=label,
                section_page=section_page,
                page_starts=page_starts,
            )
            chunks.append(piece)
    return chunks
