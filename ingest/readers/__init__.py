"""Readers of the ingest stage: one file in, a `RawDocument` (metadata and blocks) out.

`read_raw` picks the reader by suffix and refuses, with an `IngestError` that names the file and
says what to do, anything it cannot read: unknown formats, empty, oversized (see
`ingest.settings.ReadLimits`), damaged, encrypted or scanned files, ZIP bombs, undecodable text,
invalid metadata sidecars.

Example:
    >>> from pathlib import Path
    >>> doc = read_raw(Path("data/reports/clingendael-state-of-the-union-2026.txt"))
    >>> doc.meta.publisher, doc.blocks[0].kind
    ('Instituut Clingendael', 'raw')
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest.language import guess_language
from ingest.readers.docx import read_docx
from ingest.readers.html import read_html
from ingest.readers.markdown import read_markdown
from ingest.readers.meta import SIDECAR_SUFFIX, build_meta, find_sidecar
from ingest.readers.pdf import read_pdf
from ingest.readers.text import read_text
from ingest.settings import ReadLimits
from ingest.types import IngestError, RawDocument

READERS: dict[str, Callable[[Path], RawDocument]] = {
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
    ".docx": read_docx,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_text,
}
SUPPORTED_SUFFIXES = frozenset(READERS)
# Readers of packages that unpack: they check what the package declares before unpacking it.
_UNPACKING_READERS: dict[str, Callable[[Path, ReadLimits], RawDocument]] = {".docx": read_docx}

__all__ = [
    "READERS",
    "SIDECAR_SUFFIX",
    "SUPPORTED_SUFFIXES",
    "build_meta",
    "find_sidecar",
    "guess_language",
    "is_readable",
    "read_raw",
]


def is_readable(path: Path) -> bool:
    """Whether ``path`` has a suffix `read_raw` reads (a ``.meta.toml`` sidecar has not)."""
    return path.suffix.lower() in READERS and not path.name.endswith(SIDECAR_SUFFIX)


def read_raw(path: str | Path, *, limits: ReadLimits | None = None) -> RawDocument:
    """Read a report file (.pdf, .html/.htm, .docx, .md/.markdown, .txt) into a `RawDocument`.

    Args:
        path: the report; its metadata sidecar, if any, sits next to it (see `ingest.readers.meta`).
        limits: file size limits by format, checked before the file is opened (default:
            `ReadLimits()`).

    Raises:
        IngestError: the file cannot be read; the message names it, says why and what to do.
    """
    path = Path(path)
    limits = limits or ReadLimits()
    suffix = path.suffix.lower()
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise IngestError(
            f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; convert it to one "
            f"of {known}"
        )
    try:
        if path.is_dir():
            raise IngestError(f"{path}: is a folder, not a file; name a report file")
        if not path.is_file():
            raise IngestError(f"{path}: no such file; check the path")
        size = path.stat().st_size
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise IngestError(f"{path}: is empty (0 bytes); download or export it again")
    max_bytes = limits.bytes_for(suffix)
    if size > max_bytes:
        raise IngestError(
            f"{path}: is {size:,} bytes ({size / 2**20:.1f} MiB), over the limit of "
            f"{max_bytes // 2**20} MiB "
            f"for {suffix} files ({limits.setting_for(suffix)}); split the report, or raise the "
            "limit if the file really is a single report"
        )
    unpacking = _UNPACKING_READERS.get(suffix)
    document = unpacking(path, limits) if unpacking else reader(path)
    if not any(block.text.strip() for block in document.blocks):
        raise IngestError(
            f"{path}: contains no text; check that it is the report itself and not an empty export"
        )
    return document
