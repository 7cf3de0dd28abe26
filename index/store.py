"""The index folder on disk: ``manifest.json``, the FAISS index and the chunk store.

Layout::

    index/
      manifest.json   IndexManifest: schema, embedding model, chunk settings, documents, counts
      dense.faiss     FAISS IndexIDMap2 (flat or HNSW) over the passage vectors
      chunks.jsonl    one passage per line (ingest.types.Chunk fields), documents in id order
      bm25/           the BM25 index (bm25s arrays), rows in chunk-store order
      sentences.npz   every passage's sentence vectors and their context vectors (index.sentences)

The BM25 index is saved rather than rebuilt at load: rebuilding takes ~20 s at 100,000
passages, reading it ~20 ms (bench/RESULTS.md).

A new version is written into a temporary folder beside the target and swapped in with two
renames (the old folder is moved aside, the new one moved in, the old one deleted). A crash before
the swap leaves the old index untouched; the only moment without a folder at the target is
between the two renames, and then readers and the next writer use the folder moved aside.
A process that has loaded the index holds it in memory and is unaffected by a swap.

Example:
    >>> manifest, chunks, dense, lexical, sentences = read_index(Path("var/index"))
    ... # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from index.dense import DenseIndex, vector_id
from index.lexical import LexicalIndex
from index.sentences import SENTENCES_FILE, SentenceIndex
from index.types import (
    SCHEMA_VERSION,
    IndexCorruptError,
    IndexManifest,
    IndexNotFoundError,
    IndexSchemaError,
)
from ingest.types import Chunk

MANIFEST_FILE = "manifest.json"
DENSE_FILE = "dense.faiss"
CHUNKS_FILE = "chunks.jsonl"
LEXICAL_DIR = "bm25"
REBUILD_HINT = "rebuild it with `legatus ingest --rebuild`"


def read_manifest(path: Path) -> IndexManifest:
    """The manifest of the index at ``path``.

    Raises:
        IndexNotFoundError: there is no index there.
        IndexMismatchError: it was written with another schema version.
        IndexCorruptError: the manifest is unreadable.
    """
    folder = _folder_or_raise(path)
    return _parse_manifest(folder / MANIFEST_FILE)


def read_index(
    path: Path, *, ef_search: int = 128
) -> tuple[IndexManifest, list[Chunk], DenseIndex, LexicalIndex, SentenceIndex]:
    """Manifest, passages (in store order), dense, BM25 and sentence index at ``path``.

    Raises:
        IndexNotFoundError: there is no index there.
        IndexMismatchError: it was written with another schema version.
        IndexCorruptError: a file is missing, unreadable, or the files disagree.
    """
    folder = _folder_or_raise(path)
    manifest = _parse_manifest(folder / MANIFEST_FILE)
    chunks = _read_chunks(folder / CHUNKS_FILE)
    dense = DenseIndex.read(folder / DENSE_FILE, manifest.dense, ef_search=ef_search)
    listed = sum(len(d.chunk_ids) for d in manifest.documents.values())
    if not len(chunks) == len(dense) == listed == manifest.counts.chunks:
        raise IndexCorruptError(
            f"{folder}: the files disagree ({len(chunks)} passages stored, {len(dense)} vectors, "
            f"{listed} listed in the manifest); {REBUILD_HINT}"
        )
    try:
        lexical = LexicalIndex.load(folder / LEXICAL_DIR, len(chunks))
    except (OSError, ValueError, KeyError) as exc:
        raise IndexCorruptError(f"{folder}: unreadable BM25 index ({exc}); {REBUILD_HINT}") from exc
    try:
        sentences = SentenceIndex.load(folder / SENTENCES_FILE, manifest.embedding.dimension)
    except IndexCorruptError as exc:
        raise IndexCorruptError(f"{exc}; {REBUILD_HINT}") from exc
    owners = set(sentences.owners.tolist())
    if len(sentences) != manifest.counts.sentences or not owners <= {
        vector_id(c.id) for c in chunks
    }:
        raise IndexCorruptError(
            f"{folder}: the sentence vectors do not belong to the stored passages; {REBUILD_HINT}"
        )
    return manifest, chunks, dense, lexical, sentences


def write_index(
    path: Path,
    manifest: IndexManifest,
    chunks: Sequence[Chunk],
    dense: DenseIndex,
    lexical: LexicalIndex,
    sentences: SentenceIndex,
) -> None:
    """Write a complete index folder at ``path``, replacing any there, all or nothing.

    Hold :func:`writer_lock` around reading the old index and writing the new one.
    """
    target = path.expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        dense.write(tmp / DENSE_FILE)
        _write_chunks(tmp / CHUNKS_FILE, chunks)
        lexical.save(tmp / LEXICAL_DIR)
        sentences.save(tmp / SENTENCES_FILE)
        # The manifest goes last: a folder with a manifest is a complete folder.
        _write_file(tmp / MANIFEST_FILE, manifest.model_dump_json(indent=1))
        _fsync(tmp / DENSE_FILE)
        _fsync(tmp)
        _swap(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(path: Path) -> Iterator[None]:
    """Only one writer at a time per index folder (an advisory lock file beside it)."""
    target = path.expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".{target.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- folders ---------------------------------------------------------------------------------


def _backups(target: Path) -> list[Path]:
    return sorted(target.parent.glob(f".{target.name}.old-*"), key=lambda p: p.stat().st_mtime)


def _readable_folder(target: Path) -> Path | None:
    if (target / MANIFEST_FILE).is_file():
        return target
    if target.exists():
        return None
    complete = [b for b in _backups(target) if (b / MANIFEST_FILE).is_file()]
    return complete[-1] if complete else None


def _folder_or_raise(path: Path) -> Path:
    target = path.expanduser()
    folder = _readable_folder(target)
    if folder is not None:
        return folder
    if target.exists() and any(target.iterdir()):
        raise IndexCorruptError(
            f"{target} is not an index folder (no {MANIFEST_FILE}); point LEGATUS_INDEX__PATH at "
            f"an index, or move the folder away and run `legatus ingest`"
        )
    raise IndexNotFoundError(
        f"no index at {target}; run `legatus ingest` to build it (or set LEGATUS_INDEX__PATH)"
    )


def _recover(target: Path) -> None:
    """Finish an interrupted swap: put the folder moved aside back, drop stale temporaries."""
    if not target.exists():
        complete = [b for b in _backups(target) if (b / MANIFEST_FILE).is_file()]
        if complete:
            os.replace(complete[-1], target)
    for stale in [*_backups(target), *target.parent.glob(f".{target.name}.new-*")]:
        shutil.rmtree(stale, ignore_errors=True)


def _swap(new: Path, target: Path) -> None:
    if not target.exists():
        os.replace(new, target)
        return
    aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.replace(target, aside)  # onto the empty folder just made: allowed, and atomic
    try:
        os.replace(new, target)
    except BaseException:
        os.replace(aside, target)
        raise
    shutil.rmtree(aside, ignore_errors=True)


# --- files -----------------------------------------------------------------------------------


def _parse_manifest(file: Path) -> IndexManifest:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{file}: unreadable manifest ({exc}); {REBUILD_HINT}") from exc
    version = raw.get("schema_version") if isinstance(raw, dict) else None
    if version != SCHEMA_VERSION:
        raise IndexSchemaError(
            f"{file.parent}: index schema version {version} but this Legatus reads version "
            f"{SCHEMA_VERSION}; {REBUILD_HINT}"
        )
    try:
        return IndexManifest.model_validate(raw)
    except ValidationError as exc:
        raise IndexCorruptError(f"{file}: invalid manifest ({exc}); {REBUILD_HINT}") from exc


def chunk_json(piece: Chunk) -> str:
    """A stored passage as the chunk store (and the PostgreSQL backend) keeps it: JSON."""
    return json.dumps(dataclasses.asdict(piece), ensure_ascii=False)


def chunk_from_fields(fields: dict[str, Any]) -> Chunk:
    """A stored passage from the fields :func:`chunk_json` wrote.

    Raises:
        KeyError, TypeError: the fields are not a passage's.
    """
    fields["section"] = tuple(fields["section"])
    # absent in indexes written before pages inside passages were recorded
    fields["page_starts"] = tuple(map(tuple, fields.get("page_starts", ())))
    return Chunk(**fields)


def _write_chunks(file: Path, chunks: Sequence[Chunk]) -> None:
    with file.open("w", encoding="utf-8") as handle:
        for piece in chunks:
            handle.write(chunk_json(piece))
            handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _read_chunks(file: Path) -> list[Chunk]:
    chunks: list[Chunk] = []
    try:
        with file.open(encoding="utf-8") as handle:
            for line in handle:
                chunks.append(chunk_from_fields(json.loads(line)))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"{file}: unreadable chunk store ({exc}); {REBUILD_HINT}") from exc
    return chunks


def _write_file(file: Path, text: str) -> None:
    with file.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
