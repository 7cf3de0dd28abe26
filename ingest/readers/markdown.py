"""Markdown reader: headings, paragraphs, list items, table rows, quotes, code, footnotes.

A line-based reading of CommonMark/GFM that is enough for reports written in Markdown: ATX and
setext headings, ``-``/``*``/``+``/``1.`` lists (wrapped lines joined to their item), pipe tables
(separator row dropped), ``>`` quotes, fenced code (kept verbatim as a paragraph), ``[^1]:``
footnotes and YAML front matter (its ``title:`` is used). Emphasis, inline code marks, images
and link targets are removed from the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.readers.meta import build_meta
from ingest.readers.text import decode_text, read_bytes, squash
from ingest.types import Block, BlockKind, RawDocument

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*")
_BREAK = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ITEM = re.compile(r"( *)([-*+]|\d{1,9}[.)])[ \t]+(.*)")
_QUOTE = re.compile(r" {0,3}>[ \t]?(.*)")
_FOOTNOTE = re.compile(r" {0,3}\[\^([^\]]+)\]:[ \t]*(.*)")
_LINK_DEF = re.compile(r" {0,3}\[[^\]]+\]:[ \t]*\S+.*")
_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")

_INLINE = [
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images
    (re.compile(r"\[\^([^\]]+)\]"), r"[\1]"),  # footnote references
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # inline links
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"`+([^`]*?)`+"), r"\1"),  # inline code
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # emphasis, not snake_case
    (re.compile(r"~~(.+?)~~"), r"\1"),  # strikethrough
    (re.compile(r"</?[A-Za-z][^>]*>"), " "),  # inline HTML tags
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])"), r"\1"),  # backslash escapes
]


def inline_text(text: str) -> str:
    """Inline markup removed, whitespace collapsed: ``**Zie** [hier](u)`` → ``Zie hier``."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return squash(text)


@dataclass
class _Parser:
    blocks: list[Block] = field(default_factory=list)
    kind: BlockKind | None = None  # of the open block, whose lines are in `lines`
    lines: list[str] = field(default_factory=list)
    level: int = 0

    def close(self) -> None:
        if self.kind is not None:
            text = inline_text(" ".join(self.lines))
            if text:
                self.blocks.append(Block(self.kind, text, level=self.level))
        self.kind, self.lines, self.level = None, [], 0

    def open(self, kind: BlockKind, line: str, level: int = 0) -> None:
        self.close()
        self.kind, self.lines, self.level = kind, [line], level


def parse_markdown(text: str) -> tuple[list[Block], str]:
    """Blocks of a Markdown text, and the title its front matter gives ("" if none).

    Example:
        >>> blocks, _ = parse_markdown("# Kop\\n\\n- een **punt**")
        >>> [(b.kind, b.text) for b in blocks]
        [('heading', 'Kop'), ('list_item', '- een punt')]
    """
    lines = text.split("\n")
    title, start = _front_matter(lines)
    p = _Parser()
    i = start
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if fence := _FENCE.match(line):
            p.close()
            i = _code_block(lines, i, fence.group(1), p.blocks)
            continue
        if _is_table_start(lines, i):
            p.close()
            i = _table(lines, i, p.blocks)
            continue
        if not stripped or (
            _BREAK.fullmatch(line) and not (p.kind == "paragraph" and _SETEXT.fullmatch(line))
        ):
            p.close()
        elif heading := _ATX.fullmatch(line):
            p.open("heading", heading.group(2) or "", len(heading.group(1)))
            p.close()
        elif (setext := _SETEXT.fullmatch(line)) and p.kind == "paragraph":
            p.kind, p.level = "heading", 1 if setext.group(1)[0] == "=" else 2
            p.close()
        elif note := _FOOTNOTE.fullmatch(line):
            p.open("footnote", f"{note.group(1)} {note.group(2)}")
        elif _LINK_DEF.fullmatch(line):
            p.close()
        elif (item := _ITEM.fullmatch(line)) and _starts_list(item.group(2), p.kind):
            marker = item.group(2)
            prefix = "- " if marker in "-*+" else marker[:-1] + ". "
            p.open("list_item", prefix + item.group(3))
        elif quote := _QUOTE.fullmatch(line):
            if p.kind != "quote":
                p.open("quote", quote.group(1))
            elif quote.group(1).strip():
                p.lines.append(quote.group(1))
            else:
                p.close()  # a blank "> " line separates quoted paragraphs
                p.kind = "quote"
        elif p.kind in ("paragraph", "list_item", "quote", "footnote"):
            p.lines.append(stripped.removesuffix("\\"))  # continuation of the open block
        else:
            p.open("paragraph", stripped.removesuffix("\\"))
        i += 1
    p.close()
    return p.blocks, title


def _starts_list(marker: str, open_kind: BlockKind | None) -> bool:
    # As in CommonMark, only "1." may interrupt a paragraph: a wrapped line that happens to start
    # with "2022. " stays in its paragraph.
    return open_kind != "paragraph" or not marker[0].isdigit() or marker[:-1] == "1"


def _front_matter(lines: list[str]) -> tuple[str, int]:
    if not lines or lines[0].strip() != "---":
        return "", 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            title = next(
                (
                    line.split(":", 1)[1].strip().strip("\"'")
                    for line in lines[1:end]
                    if line.lower().startswith("title:")
                ),
                "",
            )
            return title, end + 1
    return "", 0


def _code_block(lines: list[str], i: int, fence: str, out: list[Block]) -> int:
    body: list[str] = []
    i += 1
    while i < len(lines) and not lines[i].strip().startswith(fence):
        body.append(lines[i])
        i += 1
    code = "\n".join(body).strip("\n")
    if code.strip():
        out.append(Block("paragraph", code))
    return i + 1


def _is_table_start(lines: list[str], i: int) -> bool:
    return (
        "|" in lines[i]
        and i + 1 < len(lines)
        and "|" in lines[i + 1]
        and _TABLE_SEPARATOR.fullmatch(lines[i + 1]) is not None
    )


def _table(lines: list[str], i: int, out: list[Block]) -> int:
    header, i = lines[i], i + 2  # skip the separator row
    rows = [header]
    while i < len(lines) and lines[i].strip() and "|" in lines[i]:
        rows.append(lines[i])
        i += 1
    for row in rows:
        row = row.strip()
        row = row[1:] if row.startswith("|") else row
        row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
        cells = [inline_text(cell.replace("\\|", "|")) for cell in re.split(r"(?<!\\)\|", row)]
        if any(cells):
            out.append(Block("table_row", " | ".join(cells)))
    return i


def read_markdown(path: Path) -> RawDocument:
    """Read a Markdown file into structured blocks.

    Example::

        doc = read_markdown(Path("notes.md"))
        doc.blocks[0].kind, doc.blocks[0].level  # ('heading', 1)
    """
    text = decode_text(read_bytes(path), path).replace("\f", "\n")
    blocks, title = parse_markdown(text)
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    return RawDocument(
        meta=build_meta(path, title=title, text="\n".join(b.text for b in blocks)),
        blocks=tuple(blocks),
    )
