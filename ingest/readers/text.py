"""Plain-text reader, and the byte and character helpers the other readers share."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ingest.readers.meta import build_meta
from ingest.types import Block, IngestError, RawDocument

# C0/C1 control characters except \t, \n (\r is normalised to \n first) and \f (kept apart).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
# Invisible characters that only get in the way of quoting: soft hyphen, zero-width space/joiners,
# word joiner, BOM.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_BOMS_UTF16 = (b"\xff\xfe", b"\xfe\xff")


def read_bytes(path: Path) -> bytes:
    """Read a file, turning OS errors into an `IngestError` that names the file."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise IngestError(
            f"{path}: cannot be read ({exc.strerror or exc}); check that the file exists and "
            "that you may read it"
        ) from exc


def clean_chars(text: str, *, form_feeds: bool = False) -> str:
    """NFC-normalise, unify line ends and drop control characters except newline and tab.

    Args:
        text: the text to clean.
        form_feeds: keep form feeds (page separators) instead of dropping them.
    """
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not form_feeds:
        text = text.replace("\f", "")
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """One-line text for a structured block: invisible characters gone, whitespace collapsed."""
    return " ".join(_INVISIBLE.sub("", clean_chars(text)).split())


def _looks_like_text(text: str, sample: int = 100_000) -> bool:
    """Fewer than 1 % control characters (other than whitespace) in the first ``sample`` chars."""
    head = text[:sample]
    if not head:
        return True
    bad = sum(1 for ch in head if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    return bad / len(head) < 0.01


def decode_text(data: bytes, path: Path) -> str:
    """Decode a text file: UTF-8 (BOM or not), UTF-16 with a BOM, else cp1252 if it looks like text.

    The result has ``\\n`` line ends and no control characters but tab, newline and form feed.

    Raises:
        IngestError: the bytes are binary or in an encoding this cannot tell.
    """
    if data.startswith(_BOMS_UTF16):
        try:
            return clean_chars(data.decode("utf-16"), form_feeds=True)
        except UnicodeDecodeError as exc:
            raise IngestError(
                f"{path}: starts with a UTF-16 byte-order mark but is not valid UTF-16; "
                "re-save it as UTF-8"
            ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # cp1252 (Windows Western European) is what older Dutch tooling writes; only accept it
        # when the result reads as text, so that binary files are refused rather than mangled.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = ""
        if not text or b"\x00" in data or not _looks_like_text(text):
            raise IngestError(
                f"{path}: is neither UTF-8 nor Windows-1252 text (binary file or unknown "
                "encoding); convert it to UTF-8, or give it the suffix of its real format"
            ) from None
    if not _looks_like_text(text):
        raise IngestError(
            f"{path}: contains binary data, not text (or is UTF-16 without a byte-order "
            "mark); give it the suffix of its real format, or save the text as UTF-8"
        )
    return clean_chars(text, form_feeds=True)


def read_text(path: Path) -> RawDocument:
    """Read a plain-text file into raw blocks.

    The text comes back as it is, line breaks included: one ``raw`` block, or one per page when
    the file has form feeds as page separators (as ``pdftotext`` writes them).

    Example:
        >>> doc = read_text(Path("data/reports/hcss-strategische-monitor-2022.txt"))
        >>> doc.blocks[0].kind
        'raw'
    """
    text = decode_text(read_bytes(path), path)
    pages = text.split("\f")
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()  # pdftotext ends every page, the last one included, with a form feed
    if len(pages) > 1:
        blocks = tuple(
            Block("raw", page_text, page=number)
            for number, page_text in enumerate(pages, start=1)
            if page_text.strip()
        )
        page_count = len(pages)
    else:
        body = pages[0] if pages else ""
        blocks = (Block("raw", body),) if body.strip() else ()
        page_count = 0
    meta = build_meta(path, text=text.replace("\f", "\n"))
    return RawDocument(meta=meta, blocks=blocks, page_count=page_count)
