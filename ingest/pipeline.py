"""Reading reports from disk into documents: one file, or a whole batch that survives bad files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import chunk
from ingest.clean import clean
from ingest.readers import SUPPORTED_SUFFIXES, read_raw
from ingest.settings import ChunkSettings
from ingest.structure import build_document
from ingest.types import Chunk, Document, IngestError


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(path: str | Path) -> Document:
    """Read, clean and structure one report.

    Example:
        >>> doc = read("data/reports/hcss-strategische-monitor-2022.txt")  # doctest: +SKIP
        >>> doc.sections[1].label  # doctest: +SKIP
        '1. Inleiding'

    Raises:
        IngestError: the file is missing, empty, corrupt, encrypted, unsupported or has no text.
    """
    path = Path(path)
    raw = read_raw(path)
    blocks = clean(list(raw.blocks))
    doc = build_document(raw.meta, blocks, page_count=raw.page_count, content_hash=file_hash(path))
    if not doc.text.strip():
        raise IngestError(f"{path}: no text left after cleaning; is it a scan or an empty page?")
    return doc


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The report files named by ``paths`` (files, or folders searched recursively), sorted.

    Sidecar metadata (``*.meta.toml``) and hidden files are not reports. A named file with an
    unsupported suffix is kept, so that the batch reports it instead of silently ignoring it.
    """
    found: set[Path] = set()
    for item in map(Path, paths):
        if item.is_dir():
            found.update(
                p
                for p in item.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUPPORTED_SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(item).parts)
            )
        else:
            found.add(item)
    return sorted(found)


@dataclass(frozen=True)
class Failure:
    """A file that was skipped, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Batch:
    """The documents read from a batch and the files that were skipped."""

    documents: tuple[Document, ...]
    failures: tuple[Failure, ...]


def read_batch(paths: Iterable[Path], progress: Callable[[Path], None] | None = None) -> Batch:
    """Read every file; a bad file is recorded as a failure and the rest still ingest."""
    documents: list[Document] = []
    failures: list[Failure] = []
    seen: dict[str, Path] = {}
    for path in paths:
        if progress:
            progress(path)
        try:
            doc = read(path)
        except IngestError as exc:
            failures.append(Failure(path, str(exc)))
            continue
        if doc.doc_id in seen:
            failures.append(
                Failure(path, f"same document id '{doc.doc_id}' as {seen[doc.doc_id]}; rename one")
            )
            continue
        seen[doc.doc_id] = path
        documents.append(doc)
    return Batch(tuple(documents), tuple(failures))


def chunk_all(documents: Iterable[Document], cfg: ChunkSettings) -> dict[str, list[Chunk]]:
    return {doc.doc_id: chunk(doc, cfg) for doc in documents}
