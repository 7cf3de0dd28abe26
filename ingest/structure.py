"""Recovering the section hierarchy of a cleaned report and laying out its text.

Headings carry a level from the cleaner or the reader. Numbered headings (``2.1. Gevoelige
technologieën``) are placed by their number, so a chapter heading that extraction put after the
first text of its chapter still heads the right sections. ``Thema 3 | Europese afschrikking``
headings give two path parts.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ingest.types import Block, Document, DocumentMeta, Section, Span

_NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2})*)\.?\s+(\S.*)$")
_PIPE = re.compile(r"^([^|]{2,30}?)\s+\|\s+(\S.*)$")
_BLOCK_SEPARATOR = "\n\n"


def _number_of(block: Block) -> str | None:
    match = _NUMBER.match(block.text)
    return match.group(1) if match and block.kind == "heading" and block.level >= 1 else None


def _heading_label(number: str, title: str) -> str:
    return f"{number}. {title}"


def _chapter_titles(blocks: list[Block]) -> dict[str, str]:
    """Chapter number → heading label, from every numbered top-level heading."""
    titles: dict[str, str] = {}
    for block in blocks:
        number = _number_of(block)
        if number and "." not in number:
            title = _NUMBER.match(block.text).group(2)  # type: ignore[union-attr]
            titles.setdefault(number, _heading_label(number, title))
    return titles


class _Outline:
    """The open headings while walking a document: a stack of (level, path parts)."""

    def __init__(self, chapters: dict[str, str]) -> None:
        self.stack: list[tuple[int, tuple[str, ...]]] = []
        self.chapters = chapters
        self.numbered_depth = 0
        self.open_number = ""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(part for _, parts in self.stack for part in parts)

    def _push(self, level: int, parts: tuple[str, ...]) -> None:
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, parts))

    def enter(self, block: Block) -> bool:
        """Open the section a heading starts; False when the heading starts none."""
        number = _number_of(block)
        if number:
            depth = number.count(".") + 1
            if depth == 1 and self.open_number.startswith(number + "."):
                return False  # a chapter heading placed after its first section's text
            match = _NUMBER.match(block.text)
            assert match is not None
            chapter = number.split(".")[0]
            if depth > 1 and chapter in self.chapters:
                self._push(1, (self.chapters[chapter],))
            self._push(depth, (_heading_label(number, match.group(2)),))
            self.numbered_depth, self.open_number = depth, number
            return True
        if pipe := _PIPE.match(block.text):
            self._push(1, (pipe.group(1).strip(), pipe.group(2).strip()))
        elif block.level == 0:
            self._push(self.numbered_depth + 1 if self.numbered_depth else 1, (block.text,))
        else:
            self._push(block.level, (block.text,))
        if block.level <= 1:
            self.numbered_depth, self.open_number = 0, ""
        return True


_BYLINE = re.compile(r"^(?:[\w ]{0,20}\s)?(?:door|by)\s+\S", re.IGNORECASE)


def _bylines_after_their_heading(blocks: list[Block]) -> list[Block]:
    """A byline ("Expert View door …", "By …") set just before a heading opens that section.

    Extraction puts an article's byline above its title; left there, the author would be
    credited in the previous article and missing from their own.
    """
    out = list(blocks)
    for i in range(len(out) - 1):
        block, nxt = out[i], out[i + 1]
        if (
            block.kind == "paragraph"
            and len(block.text) < 300
            and _BYLINE.match(block.text)
            and nxt.kind == "heading"
            and (i == 0 or out[i - 1].kind != "heading")
        ):
            out[i], out[i + 1] = nxt, block
    return out


def _drop_empty_headings(blocks: list[Block]) -> list[Block]:
    """A heading directly followed by a heading of the same or a higher rank heads nothing."""
    kept: list[Block] = []
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        empty = nxt is None or (nxt.kind == "heading" and 0 < nxt.level <= block.level)
        if block.kind == "heading" and block.level > 0 and empty and not _PIPE.match(block.text):
            continue
        kept.append(block)
    return kept


def build_document(
    meta: DocumentMeta, blocks: list[Block], *, page_count: int = 0, content_hash: str = ""
) -> Document:
    """Lay out cleaned blocks as one text, with spans and sections.

    Example:
        >>> meta = DocumentMeta(doc_id="d", title="D", source_file="d.md")
        >>> doc = build_document(meta, [Block("heading", "Intro", 1), Block("paragraph", "Tekst.")])
        >>> doc.text, doc.sections[0].path
        ('Intro\\n\\nTekst.', ('Intro',))
    """
    blocks = _drop_empty_headings(_bylines_after_their_heading([b for b in blocks if b.text]))
    outline = _Outline(_chapter_titles(blocks))
    parts: list[str] = []
    spans: list[Span] = []
    opened: list[tuple[int, tuple[str, ...], Block]] = []  # (start offset, path, heading block)
    offset = 0
    for block in blocks:
        if block.kind == "heading" and not outline.enter(block):
            continue  # the misplaced chapter heading is known from its sections' paths
        if block.kind == "heading" or not opened:
            opened.append((offset, outline.path, block))
        if parts:
            parts.append(_BLOCK_SEPARATOR)
            offset += len(_BLOCK_SEPARATOR)
        parts.append(block.text)
        spans.append(
            Span(block.kind, offset, offset + len(block.text), block.page, block.page_label)
        )
        offset += len(block.text)
    text = "".join(parts)
    sections = _sections(opened, len(text))
    return Document(meta, text, tuple(spans), sections, page_count, content_hash)


def _sections(opened: list[tuple[int, tuple[str, ...], Block]], length: int) -> tuple[Section, ...]:
    sections: list[Section] = []
    for i, (start, path, block) in enumerate(opened):
        end = opened[i + 1][0] if i + 1 < len(opened) else length
        sections.append(Section(path, start, end, block.page, block.page_label))
    # Text before the first heading of a wrapped extraction belongs to that heading (the
    # extractor put the heading "Samenvatting" after the first lines of its own section).
    if len(sections) >= 2 and not sections[0].path and opened[1][2].level == 0:
        first, second = sections[0], sections[1]
        sections[:2] = [replace(second, start=first.start, page=first.page or second.page)]
    return tuple(sections)
