"""Values produced by the ingest stage: blocks from readers, cleaned documents, chunks.

Example:
    >>> from ingest import read, chunk
    >>> doc = read("data/reports/hcss-strategische-monitor-2022.txt")
    >>> chunks = chunk(doc)
    >>> chunks[0].section_label
    'Samenvatting'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

BlockKind = Literal["raw", "heading", "paragraph", "list_item", "table_row", "footnote", "quote"]
"""What a reader found.

``raw`` is unstructured extracted text with hard line breaks (a PDF page, a plain-text PDF
extraction); the cleaner turns it into the other kinds. Readers of structured formats (HTML,
DOCX, Markdown) emit the other kinds directly.
"""

SECTION_SEPARATOR = " › "


class IngestError(Exception):
    """A file could not be read; the message says why and what to do."""


@dataclass(frozen=True)
class DocumentMeta:
    """Bibliographic facts about one report.

    Example:
        >>> DocumentMeta(doc_id="x", title="X", source_file="x.pdf").publisher
        ''
    """

    doc_id: str
    title: str
    source_file: str
    publisher: str = ""
    date: str = ""  # ISO 8601, as precise as known: "2026-03" or "2022-01-15"
    language: str = ""  # "nl", "en", ... ; empty when unknown
    url: str = ""
    authors: tuple[str, ...] = ()
    access: tuple[str, ...] = ()  # groups that may read it (ingest.access); () for everyone


@dataclass(frozen=True)
class Block:
    """One unit of text as a reader found it.

    Example:
        >>> Block("heading", "2.1. Gevoelige technologieën", level=2, page=4, page_label="6")
        ... # doctest: +ELLIPSIS
        Block(kind='heading', ...)
    """

    kind: BlockKind
    text: str
    level: int = 0  # heading level (1 = top); 0 for non-headings
    page: int | None = None  # physical page number, 1-based; None when the source has no pages
    page_label: str | None = None  # printed page label ("iv", "12") when the source has one


@dataclass(frozen=True)
class RawDocument:
    """What a reader returns: metadata and blocks, before cleaning and structure recovery."""

    meta: DocumentMeta
    blocks: tuple[Block, ...]
    page_count: int = 0  # 0 when the source has no pages


@dataclass(frozen=True)
class Span:
    """A run of the cleaned text with what it is and where it came from."""

    kind: BlockKind
    start: int
    end: int
    page: int | None = None
    page_label: str | None = None


@dataclass(frozen=True)
class Section:
    """A section of a document: its heading path and its extent in the cleaned text."""

    path: tuple[str, ...]
    start: int
    end: int
    page: int | None = None
    page_label: str | None = None

    @property
    def label(self) -> str:
        return SECTION_SEPARATOR.join(self.path)


@dataclass(frozen=True)
class Document:
    """A cleaned, structured report: the text that chunks quote, and what is known about it."""

    meta: DocumentMeta
    text: str
    spans: tuple[Span, ...]  # paragraphs, headings, list items, ... in text order
    sections: tuple[Section, ...]  # in text order, covering the text without overlap
    page_count: int = 0
    content_hash: str = ""  # sha256 of the source file's bytes

    @property
    def doc_id(self) -> str:
        return self.meta.doc_id


PageStart = tuple[int, int, str | None]
"""Where a page begins inside a passage: (offset in the document's text, physical page,
printed label or None). A passage's first page is its ``page``; its ``page_starts`` list the
pages after that, so the page of any sentence in it is known (``pp. 14–15`` for the passage,
``p. 15`` for the sentence that stands on the second page)."""


@dataclass(frozen=True)
class Chunk:
    """A citable passage: a slice of one document's cleaned text inside one section.

    ``text`` is exactly ``document.text[start:end]``; ``header`` (report title and section) is kept
    apart so that it can be embedded with the passage without ever being quoted as its text.

    Example:
        >>> c = Chunk.create("d", "Tekst.", 0, 6, ("Thema 1",), title="Rapport", ordinal=0)
        >>> c.header
        'Rapport — Thema 1'
    """

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    section: tuple[str, ...]
    title: str
    ordinal: int
    page: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    section_page: str | None = None  # printed page where the section starts (e.g. from a TOC)
    page_starts: tuple[PageStart, ...] = ()  # later pages beginning inside it, in text order

    @staticmethod
    def make_id(doc_id: str, start: int, end: int, text: str) -> str:
        digest = hashlib.sha256(f"{doc_id}\x1f{start}\x1f{end}\x1f{text}".encode()).hexdigest()
        return digest[:24]

    @classmethod
    def create(
        cls,
        doc_id: str,
        text: str,
        start: int,
        end: int,
        section: tuple[str, ...],
        *,
        title: str,
        ordinal: int,
        page: int | None = None,
        page_end: int | None = None,
        page_label: str | None = None,
        section_page: str | None = None,
        page_starts: tuple[PageStart, ...] = (),
    ) -> Chunk:
        return cls(
            id=cls.make_id(doc_id, start, end, text),
            doc_id=doc_id,
            text=text,
            start=start,
            end=end,
            section=section,
            title=title,
            ordinal=ordinal,
            page=page,
            page_end=page_end,
            page_label=page_label,
            section_page=section_page,
            page_starts=page_starts,
        )

    @property
    def section_label(self) -> str:
        return SECTION_SEPARATOR.join(self.section)

    @property
    def header(self) -> str:
        return f"{self.title} — {self.section_label}" if self.section else self.title

    def embedding_text(self) -> str:
        """The text to embed: contextual header, then the passage."""
        return f"{self.header}\n{self.text}"


@dataclass(frozen=True)
class Report:
    """A report ready for the index: its document, the passages it was cut into, and the file it
    was read from (``None`` for a document that was not read from a file of the user's).

    ``ingest.prepare`` makes them from a batch; ``index.indexer.update_index`` takes them, so a
    report is read and cut once, and its file travels with it.
    """

    document: Document
    chunks: tuple[Chunk, ...]
    path: Path | None = None

    @property
    def doc_id(self) -> str:
        return self.document.doc_id
