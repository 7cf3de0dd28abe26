"""DOCX reader: body paragraphs and tables in document order, then the footnotes.

Headings come from the paragraph style (``Title``, ``Heading N``, ``Kop N``, or a style based
on one) or an explicit outline level; numbered and bulleted paragraphs become list items with
their marker ("1. ", "a) ", "- "); each table row becomes a ``table_row`` block.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from ingest.readers.meta import build_meta
from ingest.readers.text import read_bytes, squash
from ingest.settings import ReadLimits
from ingest.types import Block, IngestError, RawDocument

_HEADING_STYLE = re.compile(r"(?:heading|kop) ([1-9])")
_LIST_STYLE = re.compile(r"list|lijst|opsomming")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_RATIO_FLOOR = 2**20  # parts smaller than this unpacked are not worth a ratio check


def read_docx(path: Path, limits: ReadLimits | None = None) -> RawDocument:
    """Read a Word document into structured blocks (no pages: DOCX has no fixed layout).

    Example::

        doc = read_docx(Path("report.docx"))
        doc.blocks[0]  # Block(kind='heading', text='1 Inleiding', level=1, ...)
    """
    data = read_bytes(path)
    if data.startswith(_OLE_MAGIC):
        raise IngestError(
            f"{path}: is an old binary Word (.doc) file, not .docx; open it in Word or "
            "LibreOffice and save it as .docx"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise IngestError(f"{path}: is not a DOCX file (not a ZIP package); check the file")
    check_package(path, data, limits or ReadLimits())
    # python-docx raises KeyError, BadZipFile, lxml errors, ... on damaged packages.
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _body_blocks(document) + _footnote_blocks(document)
        properties = document.core_properties
        title, language = properties.title or "", properties.language or ""
    except Exception as exc:
        raise IngestError(
            f"{path}: is a damaged DOCX file and cannot be read ({type(exc).__name__}: {exc}); "
            "open it in Word or LibreOffice and save it again"
        ) from exc
    if not title:
        title = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    return RawDocument(
        meta=build_meta(
            path,
            title=title,
            text="\n".join(block.text for block in blocks),
            language=language,
        ),
        blocks=tuple(blocks),
    )


def check_package(path: Path, data: bytes, limits: ReadLimits) -> None:
    """Refuse a package whose parts declare more than the limits allow, before unpacking any.

    The sizes come from the ZIP's central directory. Python's `zipfile` never yields more bytes
    than a part declares (a part that inflates further fails its CRC), so checking the declared
    sizes bounds what python-docx will unpack and parse.

    Raises:
        IngestError: the package is damaged, or too large unpacked, or a part packs suspiciously
            well (a ZIP bomb).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = package.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise IngestError(
            f"{path}: is a damaged DOCX file and cannot be read ({exc}); open it in Word or "
            "LibreOffice and save it again"
        ) from exc
    total = sum(part.file_size for part in parts)
    xml = sum(part.file_size for part in parts if part.filename.endswith((".xml", ".rels")))
    for declared, limit, what, setting in (
        (total, limits.max_docx_unpacked_mib, "its parts unpack", "MAX_DOCX_UNPACKED_MIB"),
        (xml, limits.max_docx_xml_mib, "its XML parts unpack", "MAX_DOCX_XML_MIB"),
    ):
        if declared > limit * 2**20:
            raise IngestError(
                f"{path}: {what} to {declared / 2**20:.1f} MiB, over the limit of {limit} MiB "
                f"(LEGATUS_LIMITS__{setting}); it was not unpacked. Split the document, or "
                "raise the limit if it really is a single report"
            )
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > _RATIO_FLOOR and ratio > limits.max_compression_ratio:
            raise IngestError(
                f"{path}: part {part.filename} unpacks to {part.file_size / 2**20:.1f} MiB, "
                f"{ratio:.0f} times its packed size (limit {limits.max_compression_ratio}, "
                "LEGATUS_LIMITS__MAX_COMPRESSION_RATIO); this is what a ZIP bomb looks like, "
                "so it was not unpacked. Check where the file comes from, or save it again "
                "from Word"
            )


def _body_blocks(document: Any) -> list[Block]:
    numbering = _Numbering(document)
    blocks: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks += _table_rows(item)
        elif isinstance(item, Paragraph):
            block = _paragraph_block(item, numbering)
            if block is not None:
                blocks.append(block)
    return blocks


def _paragraph_block(paragraph: Paragraph, numbering: _Numbering) -> Block | None:
    text = squash(paragraph.text)
    if not text:
        return None
    level = _heading_level(paragraph, numbering.chains)
    marker = numbering.marker(paragraph)
    if level:
        # Numbered headings ("2.1 Gevoelige technologieën") keep their number: it is cited.
        number = marker if marker and marker != "- " else ""
        return Block("heading", number + text, level=level)
    if marker is not None:
        return Block("list_item", marker + text)
    return Block("paragraph", text)


StyleChains = dict[str | None, list[Any]]
"""Style chains of one document by paragraph style id (``None``: the default style)."""


def _styles(paragraph: Paragraph, chains: StyleChains) -> list[Any]:
    """The paragraph's style and the styles it is based on, nearest first.

    Cached per style id: python-docx finds a style (and the default one, for every paragraph
    without a style) by scanning all styles, about 1 ms each time, three times per paragraph.
    """
    key = paragraph._p.style
    if key not in chains:
        chain: list[Any] = []
        style = paragraph.style
        while style is not None and style not in chain and len(chain) < 10:
            chain.append(style)
            style = style.base_style
        chains[key] = chain
    return chains[key]


def _heading_level(paragraph: Paragraph, chains: StyleChains) -> int:
    for style in _styles(paragraph, chains):
        name = (style.name or "").lower()
        if name == "title":
            return 1
        match = _HEADING_STYLE.fullmatch(name)
        if match:
            return int(match.group(1))
    ppr = paragraph._p.pPr
    outline = ppr.find(qn("w:outlineLvl")) if ppr is not None else None
    if outline is not None:
        value = int(outline.get(qn("w:val"), "9"))
        return value + 1 if value < 9 else 0  # 9 = body text
    return 0


class _Numbering:
    """List markers as Word shows them: one counter per list definition and level, ``lvlText``.

    As in Word, list instances (``w:num``) sharing a definition (``w:abstractNum``) continue
    each other's numbering unless an instance restarts a level with ``w:startOverride``.
    """

    def __init__(self, document: Any) -> None:
        try:
            self._root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            self._root = None
        self.chains: StyleChains = {}
        self._counters: dict[str, list[int | None]] = {}
        self._started: set[tuple[str, int]] = set()
        self._levels: dict[tuple[str, int], tuple[str, str, int]] = {}

    def marker(self, paragraph: Paragraph) -> str | None:
        """ "1. ", "a) ", "2.1 ", "- " for a list or numbered paragraph; ``None`` for others."""
        num_id, ilvl = self._num_pr(paragraph)
        if num_id is None:
            names = ((style.name or "").lower() for style in _styles(paragraph, self.chains))
            return "- " if any(_LIST_STYLE.search(name) for name in names) else None
        abstract, restart = self._instance(num_id, ilvl)
        if abstract is None:
            return "- "
        fmt, text, start = self._level(abstract, ilvl)
        counters = self._counters.setdefault(abstract, [None] * 9)
        if restart is not None and (num_id, ilvl) not in self._started:
            counters[ilvl], start = None, restart
        self._started.add((num_id, ilvl))
        current = counters[ilvl]
        counters[ilvl] = start if current is None else current + 1
        counters[ilvl + 1 :] = [None] * (8 - ilvl)
        if fmt in ("bullet", "none") or not text:
            return "- "

        def number(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            level_fmt, _, level_start = self._level(abstract, level)
            value = counters[level]
            return _format(level_start if value is None else value, level_fmt)

        return re.sub(r"%([1-9])", number, text).strip() + " "

    def _num_pr(self, paragraph: Paragraph) -> tuple[str | None, int]:
        """(numId, level) from the paragraph or its styles; numId ``None`` when not numbered."""
        for element in (paragraph._p, *(s.element for s in _styles(paragraph, self.chains))):
            num_pr = element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is None:
                continue
            num_id = num_pr.find(qn("w:numId"))
            ilvl = num_pr.find(qn("w:ilvl"))
            value = num_id.get(qn("w:val")) if num_id is not None else None
            level = int(ilvl.get(qn("w:val"), "0")) if ilvl is not None else 0
            # numId 0 switches off numbering that a style would give.
            return (value if value not in (None, "0") else None), min(max(level, 0), 8)
        return None, 0

    def _instance(self, num_id: str, ilvl: int) -> tuple[str | None, int | None]:
        """(abstractNumId, startOverride of the level) of a list instance."""
        if self._root is None:
            return None, None
        nums = self._root.xpath(f'./w:num[@w:numId="{num_id}"]')
        if not nums:
            return None, None
        abstract = nums[0].xpath("./w:abstractNumId/@w:val")
        restart = nums[0].xpath(f'./w:lvlOverride[@w:ilvl="{ilvl}"]/w:startOverride/@w:val')
        return (
            str(abstract[0]) if abstract else None,
            int(restart[0]) if restart else None,
        )

    def _level(self, abstract: str, ilvl: int) -> tuple[str, str, int]:
        """(numFmt, lvlText, start) of a level of a list definition."""
        key = (abstract, ilvl)
        if key not in self._levels:
            lvls = self._root.xpath(
                f'./w:abstractNum[@w:abstractNumId="{abstract}"]/w:lvl[@w:ilvl="{ilvl}"]'
            )
            found = [
                lvls[0].find(qn(f"w:{tag}")) if lvls else None
                for tag in ("numFmt", "lvlText", "start")
            ]
            fmt, text, start = (e.get(qn("w:val")) if e is not None else None for e in found)
            self._levels[key] = (
                fmt or ("decimal" if lvls else "bullet"),
                text or "",
                int(start) if start and start.lstrip("-").isdigit() else 1,
            )
        return self._levels[key]


def _format(n: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(n)
        return roman.upper() if fmt == "upperRoman" else roman
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for value, numeral in (
        (1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
        (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"),
    ):  # fmt: skip
        count, n = divmod(n, value)
        out += numeral * count
    return out


def _table_rows(table: Table) -> list[Block]:
    blocks: list[Block] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue  # a merged cell is listed once per grid column it spans
            previous = cell._tc
            cells.append(squash(cell.text))
        if any(cells):
            blocks.append(Block("table_row", " | ".join(cells)))
    return blocks


def _footnote_blocks(document: Any) -> list[Block]:
    """Footnotes as ``footnote`` blocks "N text", numbered in order of reference, at the end."""
    part = next(
        (
            rel.target_part
            for rel in document.part.rels.values()
            if rel.reltype == RELATIONSHIP_TYPE.FOOTNOTES and not rel.is_external
        ),
        None,
    )
    if part is None:
        return []
    root = etree.fromstring(part.blob)
    notes = {
        note.get(qn("w:id")): note
        for note in root.iter(qn("w:footnote"))
        if note.get(qn("w:type")) in (None, "normal")
    }
    blocks: list[Block] = []
    order = [ref.get(qn("w:id")) for ref in document.element.body.iter(qn("w:footnoteReference"))]
    for number, note_id in enumerate(dict.fromkeys(order), start=1):
        note = notes.get(note_id)
        if note is None:
            continue
        paragraphs = (
            "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in note.iter(qn("w:p"))
        )
        text = squash(" ".join(paragraphs))
        if text:
            blocks.append(Block("footnote", f"{number} {text}"))
    return blocks
