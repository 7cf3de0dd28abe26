"""PDF reader: pypdf opens the file (encryption, pages, page labels); pdfminer.six lays out text.

Each page becomes one ``raw`` block with the text as laid out: line breaks kept, hyphenation and
running headers left for the cleaner, text boxes (roughly: paragraphs) separated by a blank line.
Two-column pages are read column by column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTComponent, LTFigure, LTPage, LTTextBox
from pypdf import PasswordType, PdfReader

from ingest.readers.meta import build_meta
from ingest.readers.text import clean_chars, read_bytes
from ingest.types import Block, IngestError, RawDocument

# Titles that PDF producers fill in by themselves; they say nothing about the report.
_JUNK_TITLE = re.compile(
    r"(?i)^(?:untitled\b.*|microsoft (?:word|powerpoint) - .*|.*\.(?:pdf|docx?|indd|qxd|pptx?))$"
)


def read_pdf(path: Path) -> RawDocument:
    """Read a PDF into one ``raw`` block per page that has text.

    Example::

        doc = read_pdf(Path("report.pdf"))
        doc.blocks[0].page, doc.blocks[0].page_label  # (1, 'i')

    Raises:
        IngestError: the file is not a PDF, is damaged, needs a password, or has no text layer.
    """
    data = read_bytes(path)
    reader = _open(path, data)
    page_count = len(reader.pages)
    labels = _page_labels(reader, page_count)
    blocks: list[Block] = []
    for number, text in enumerate(_page_texts(path, data), start=1):
        if text.strip():
            label = labels[number - 1] if number <= len(labels) else None
            blocks.append(Block("raw", text, page=number, page_label=label))
    if not blocks:
        raise IngestError(
            f"{path}: has no extractable text in its {page_count} page(s); it is probably "
            "scanned or made of images. Run OCR first (e.g. `ocrmypdf in.pdf out.pdf`) and "
            "ingest the result"
        )
    meta = build_meta(
        path,
        title=_info_title(reader),
        text="\n".join(block.text for block in blocks[:20]),
        language=_declared_language(reader),
    )
    return RawDocument(meta=meta, blocks=tuple(blocks), page_count=page_count)


def _open(path: Path, data: bytes) -> PdfReader:
    if b"%PDF-" not in data[:1024]:
        raise IngestError(
            f"{path}: is not a PDF (no %PDF- header); check the file, or give it the suffix "
            "of its real format"
        )
    # pypdf raises many exception types on damaged input; any of them means "cannot open".
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise IngestError(
                f"{path}: is encrypted with a password; save an unprotected copy (e.g. "
                "`qpdf --decrypt --password=PASSWORD in.pdf out.pdf`) and ingest that"
            )
        if len(reader.pages) == 0:
            raise IngestError(f"{path}: has no pages; check the file or export it again")
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(
            f"{path}: is damaged or truncated and cannot be opened ({_why(exc)}); download or "
            "export it again"
        ) from exc
    return reader


def _page_labels(reader: PdfReader, page_count: int) -> list[str | None]:
    """Printed page labels, or ``None`` per page when the PDF does not define them."""
    try:
        if "/PageLabels" not in reader.root_object:
            return [None] * page_count
        return list(reader.page_labels)
    except Exception:
        # A broken label tree loses the labels, not the document.
        return [None] * page_count


def _info_title(reader: PdfReader) -> str:
    try:
        title = (reader.metadata.title if reader.metadata else None) or ""
    except Exception:
        return ""
    title = " ".join(str(title).split())
    return "" if _JUNK_TITLE.match(title) else title


def _declared_language(reader: PdfReader) -> str:
    try:
        return str(reader.root_object.get("/Lang") or "")
    except Exception:
        return ""


def _page_texts(path: Path, data: bytes) -> Iterable[str]:
    # all_texts: also lay out text inside figures (form XObjects), see `_text_boxes`.
    pages = extract_pages(io.BytesIO(data), password="", laparams=LAParams(all_texts=True))
    number = 0
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except Exception as exc:
            raise IngestError(
                f"{path}: text extraction failed on page {number + 1} ({_why(exc)}); the file is "
                "probably damaged: download or export it again"
            ) from exc
        number += 1
        yield page_text(page)


def page_text(page: LTPage) -> str:
    """The text of a laid-out page: text boxes in reading order, separated by a blank line."""
    boxes = _text_boxes(page)
    parts = [clean_chars(box.get_text()).strip("\n") for box in reading_order(boxes)]
    return "\n\n".join(part for part in parts if part.strip())


def _text_boxes(page: LTPage) -> list[LTTextBox]:
    """The page's text boxes; the text inside figures only when the page has no other text.

    Figure text is mostly chart labels, noise around the body text; but some exporters put a
    whole page's text inside a form XObject, which pdfminer reports as a figure.
    """
    boxes = [box for box in page if isinstance(box, LTTextBox) and box.get_text().strip()]
    if boxes:
        return boxes
    found: list[LTTextBox] = []
    stack: list[LTComponent] = [item for item in page if isinstance(item, LTFigure)]
    while stack:
        item = stack.pop(0)
        if isinstance(item, LTTextBox) and item.get_text().strip():
            found.append(item)
        elif isinstance(item, LTFigure):
            stack.extend(item)
    return found


def reading_order(boxes: Sequence[LTTextBox]) -> list[LTTextBox]:
    """Boxes in reading order: top to bottom, and column by column where a page has two.

    The gutter is the vertical line through the middle half of the text area that the fewest
    boxes cross. Boxes crossing it (titles, full-width paragraphs) cut the page into bands; in a
    band where boxes left and right of the gutter sit side by side, the left column comes first.
    """
    if len(boxes) < 2:
        return list(boxes)
    gutter = _gutter(boxes)
    ordered: list[LTTextBox] = []
    band: list[LTTextBox] = []
    for box in sorted(boxes, key=lambda b: (-b.y1, b.x0)):
        if box.x0 < gutter < box.x1:
            ordered += _order_band(band, gutter)
            ordered.append(box)
            band = []
        else:
            band.append(box)
    return ordered + _order_band(band, gutter)


def _gutter(boxes: Sequence[LTTextBox]) -> float:
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    lo, hi = left + 0.25 * (right - left), left + 0.75 * (right - left)
    centre = (left + right) / 2
    edges = sorted({lo, hi} | {x for b in boxes for x in (b.x0, b.x1) if lo < x < hi})
    candidates = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)] or [centre]

    def crossed(x: float) -> tuple[float, float]:
        return sum(b.height for b in boxes if b.x0 < x < b.x1), abs(x - centre)

    return min(candidates, key=crossed)


def _order_band(band: list[LTTextBox], gutter: float) -> list[LTTextBox]:
    left = [b for b in band if b.x1 <= gutter]
    right = [b for b in band if b.x0 >= gutter]
    side_by_side = any(a.y0 < b.y1 and b.y0 < a.y1 for a in left for b in right)
    if not side_by_side:
        return band  # already top to bottom
    return left + right  # each already top to bottom


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
