"""Building and updating the index folder from ingested reports, re-embedding only what changed.

The index stage takes reports as ingest made them (``ingest.Report``: document, passages,
file); a passage whose embedding text (header and passage) is already in the index reuses the
stored vector, so only new or changed passages are embedded: an unchanged passage keeps its id
(a hash of document id, offsets and text) and its vector, and one that only moved because text
before it changed gets a new id but the old vector.

Reports indexed earlier and not given now are kept, unless they were read from under one of the
``prune_under`` folders (then they were deleted there and are removed), or their file is in
``keep_paths`` or under a folder in it (it failed to read, or the folder could not be listed,
this time: the indexed version stays, since the file is unknown rather than gone).

Example:
    >>> batch = ingest.read_batch(ingest.discover(["data/reports"]))  # doctest: +SKIP
    >>> reports = ingest.prepare(batch, ChunkSettings())  # doctest: +SKIP
    >>> stats = update_index(Path("var/index"), reports, ChunkSettings(),
    ...                      get_embedder(EmbeddingSettings()))  # doctest: +SKIP
    >>> stats.embedded_chunks, stats.reused_chunks  # doctest: +SKIP
    (12, 233)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.dense import DenseIndex, vector_id
from index.embedding import Embedder
from index.lexical import LexicalIndex, lexical_texts
from index.manifest import check_embedding, embedding_info, lexical_info
from index.sentences import SentenceIndex, chunk_units, context_texts
from index.settings import IndexSettings
from index.store import read_index, write_index, writer_lock
from index.types import (
    SCHEMA_VERSION,
    DocumentEntry,
    IndexCounts,
    IndexManifest,
    IndexNotFoundError,
    IndexSchemaError,
    SearchIndexError,
)
from ingest.settings import ChunkSettings
from ingest.types import Chunk, Document, Report

EMBED_BATCH = 64
"""Passages per call to the embedder (the progress callback fires after each)."""
_PACKAGES = ("legatus", "faiss-cpu", "bm25s", "PyStemmer", "sentence-transformers", "numpy")


@dataclass(frozen=True)
class IndexStats:
    """What an update did.

    Example:
        >>> IndexStats(documents=2, chunks=245, embedded_chunks=245).reused_chunks
        0
    """

    documents: int  # in the index after the update
    chunks: int
    added: tuple[str, ...] = ()  # document ids
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # indexed earlier, not re-read, left as they were
    embedded_chunks: int = 0
    reused_chunks: int = 0
    removed_chunks: int = 0
    seconds: float = 0.0
    written: bool = False  # False when nothing changed and the folder was left alone
    dense_kind: str = ""
    embedded_sentences: int = 0  # sentence texts embedded: units and their two-unit windows
    upgraded: bool = False  # the old folder was written by another Legatus version: rebuilt
    sentences_pending: int = 0  # passages written without their sentence vectors (deferred)


@dataclass
class _Old:
    manifest: IndexManifest
    chunks: dict[str, Chunk]
    dense: DenseIndex
    sentences: SentenceIndex
    by_text: dict[bytes, str]  # digest of embedding text → id of a chunk embedded from it


def _text_key(piece: Chunk) -> bytes:
    return hashlib.blake2b(piece.embedding_text().encode(), digest_size=16).digest()


def update_index(
    path: Path,
    reports: Sequence[Report],
    chunk_settings: ChunkSettings,
    embedder: Embedder,
    settings: IndexSettings | None = None,
    *,
    prune_under: Sequence[Path] = (),
    keep_paths: Collection[Path] = (),
    rebuild: bool = False,
    defer_sentences: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> IndexStats:
    """Bring the index at ``path`` up to date with ``reports``, writing it atomically.

    Args:
        path: the index folder (created if missing).
        reports: the reports just read and cut (``ingest.prepare``); each one's file is
            recorded and used for pruning.
        chunk_settings: the settings their passages were cut with (recorded in the manifest).
        embedder: the passage embedder; must match the index's model unless ``rebuild``.
        settings: dense index parameters (HNSW threshold, ...).
        prune_under: indexed reports recorded under these folders (or equal to these files)
            and absent from ``reports`` are removed.
        keep_paths: files that failed to read and folders that could not be listed; reports
            recorded with these paths, or under these folders, are kept.
        rebuild: ignore the existing index and embed everything again.
        defer_sentences: write new passages without their sentence vectors, so that the update
            is searchable after embedding the passages alone (about half the time); the next
            update, e.g. ``update_index(path, [], ...)``, embeds what is missing. Meanwhile
            those passages are ranked by their passage vectors and BM25, and the answerer
            embeds their sentences when it quotes them (``assistant.extractive``).
        progress: called as ``progress(done, total)`` with the texts (passages, then their
            sentences) embedded so far and the number to embed, before the first batch and after
            each.

    Raises:
        IndexMismatchError: the existing index was built with another schema or model.
        IndexCorruptError: the existing index is unreadable (use ``rebuild``).
        EmbeddingError: the model could not be loaded.
    """
    started = time.perf_counter()
    settings = settings or IndexSettings()
    documents = [r.document for r in reports]
    with writer_lock(path):
        upgraded = False
        try:
            old = None if rebuild else _read_old(path, embedder)
        except IndexSchemaError:
            old, upgraded = None, True  # written by another version: embed everything again
        new_chunks = {r.doc_id: list(r.chunks) for r in reports}
        entries = {r.doc_id: _entry(r.document, r.chunks, r.path) for r in reports}
        _keep_indexed_at(entries, old)
        kept, removed = _carry_over(old, entries, prune_under, keep_paths)
        entries.update(kept)
        all_chunks = _ordered(entries, new_chunks, old)
        reuse, embed = _split_reusable(all_chunks, old)
        pending = _without_sentences(reuse, old)
        statuses = _statuses(documents, old, entries, new_chunks)
        removed_chunks = _removed_chunks(old, {c.id for c in all_chunks})
        kind = "hnsw" if len(all_chunks) >= settings.hnsw_threshold else "flat"
        if old is not None and not (
            embed
            or (pending and not defer_sentences)
            or removed_chunks
            or _changed(old, entries, chunk_settings, kind, settings)
        ):
            return IndexStats(
                documents=len(entries), chunks=len(all_chunks), unchanged=statuses["unchanged"],
                kept=tuple(kept), reused_chunks=len(reuse), seconds=time.perf_counter() - started,
                dense_kind=old.manifest.dense.kind, sentences_pending=len(pending),
            )  # fmt: skip
        with_units = [] if defer_sentences else [*embed, *pending.values()]
        units = chunk_units(with_units)
        # unit texts and the two-unit windows of the context vectors, each embedded once
        windows = (t for group in units for t in context_texts(group) if t is not None)
        unique_units = list(dict.fromkeys([*(u for group in units for u in group), *windows]))
        vectors = _embed([c.embedding_text() for c in embed] + unique_units, embedder, progress)
        unit_vectors = dict(zip(unique_units, vectors[len(embed) :], strict=True))
        vectors = vectors[: len(embed)]
        dense = _dense(old, reuse, embed, vectors, removed_chunks, settings, embedder)
        fresh = {c.id: group for c, group in zip(with_units, units, strict=True)}
        sentences = _sentences(old, all_chunks, reuse, fresh, unit_vectors, embedder)
        waiting = (c for c in [*embed, *pending.values()] if c.id not in fresh)
        deferred = sum(1 for c in waiting if chunk_units([c])[0])
        lexical = LexicalIndex(lexical_texts(all_chunks, settings.lexical_section_context))
        manifest = _manifest(
            old, entries, chunk_settings, dense, sentences, embedder, settings, deferred
        )
        write_index(path, manifest, all_chunks, dense, lexical, sentences)
    return IndexStats(
        documents=len(entries),
        chunks=len(all_chunks),
        added=statuses["added"],
        updated=statuses["updated"],
        unchanged=statuses["unchanged"],
        removed=tuple(removed),
        kept=tuple(kept),
        embedded_chunks=len(embed),
        reused_chunks=len(reuse),
        removed_chunks=removed_chunks,
        seconds=time.perf_counter() - started,
        written=True,
        dense_kind=dense.info.kind,
        embedded_sentences=len(unique_units),
        upgraded=upgraded,
        sentences_pending=deferred,
    )


def _read_old(path: Path, embedder: Embedder) -> _Old | None:
    try:
        manifest, chunks, dense, _, sentences = read_index(path)
    except IndexNotFoundError:
        return None
    check_embedding(manifest.embedding, embedder, where=path)
    return _Old(
        manifest, {c.id: c for c in chunks}, dense, sentences, {_text_key(c): c.id for c in chunks}
    )


def _entry(doc: Document, chunks: Sequence[Chunk], path: Path | None) -> DocumentEntry:
    m = doc.meta
    return DocumentEntry(
        doc_id=m.doc_id, title=m.title, source_file=m.source_file,
        path=str(path.expanduser().absolute()) if path else "", publisher=m.publisher,
        date=m.date, language=m.language, url=m.url, authors=list(m.authors),
        access=list(m.access),
        content_hash=doc.content_hash, page_count=doc.page_count,
        section_count=len(doc.sections), chunk_ids=[c.id for c in chunks],
    )  # fmt: skip


def _keep_indexed_at(entries: dict[str, DocumentEntry], old: _Old | None) -> None:
    """Stamp each entry with when its version was indexed: the old stamp when the report is as
    it was (same text, passages and metadata; an index from before the stamps gives its last
    update), now when it is new or changed."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for doc_id, entry in entries.items():
        was = old.manifest.documents.get(doc_id) if old else None
        stamp = now
        if old and was and was.model_copy(update={"indexed_at": ""}) == entry:
            stamp = was.indexed_at or old.manifest.updated_at
        entries[doc_id] = entry.model_copy(update={"indexed_at": stamp})


def _carry_over(
    old: _Old | None,
    entries: Mapping[str, DocumentEntry],
    prune_under: Sequence[Path],
    keep_paths: Collection[Path],
) -> tuple[dict[str, DocumentEntry], list[str]]:
    """Old documents not given now: (kept, removed ids)."""
    if old is None:
        return {}, []
    scopes = [p.expanduser().absolute() for p in prune_under]
    failed = [p.expanduser().absolute() for p in keep_paths]
    kept: dict[str, DocumentEntry] = {}
    removed: list[str] = []
    for doc_id, entry in old.manifest.documents.items():
        if doc_id in entries:
            continue
        where = Path(entry.path) if entry.path else None
        pruned = where is not None and any(where == s or where.is_relative_to(s) for s in scopes)
        unknown = where is not None and any(where == f or where.is_relative_to(f) for f in failed)
        if pruned and not unknown:
            removed.append(doc_id)
        else:
            kept[doc_id] = entry
    return kept, removed


def _ordered(
    entries: Mapping[str, DocumentEntry], new_chunks: Mapping[str, list[Chunk]], old: _Old | None
) -> list[Chunk]:
    """All passages, documents in id order; kept documents' passages come from the old store."""
    out: list[Chunk] = []
    for doc_id in sorted(entries):
        if doc_id in new_chunks:
            out.extend(new_chunks[doc_id])
        elif old is not None:
            out.extend(old.chunks[cid] for cid in entries[doc_id].chunk_ids)
    return out


def _split_reusable(
    chunks: Sequence[Chunk], old: _Old | None
) -> tuple[list[tuple[Chunk, str]], list[Chunk]]:
    """(passage, id of the old passage whose vector it reuses) pairs, and passages to embed.

    A vector depends only on the embedding text (header and passage), so any old passage with
    the same text lends its vector: an unchanged passage (same id), and also one that only moved
    because text before it changed (new offsets, new id).
    """
    reuse: list[tuple[Chunk, str]] = []
    embed: list[Chunk] = []
    for piece in chunks:
        donor = old.by_text.get(_text_key(piece)) if old else None
        if donor is None:
            embed.append(piece)
        else:
            reuse.append((piece, donor))
    return reuse, embed


def _without_sentences(reuse: Sequence[tuple[Chunk, str]], old: _Old | None) -> dict[str, Chunk]:
    """Reused passages whose donor was written without its sentence vectors (``defer_sentences``)
    though it has sentences: id → passage. A passage with no rows is looked at further only then,
    and few are (a passage without quotable units, one deferred)."""
    if old is None:
        return {}
    out: dict[str, Chunk] = {}
    for piece, donor in reuse:
        if not len(old.sentences.rows_of(vector_id(donor))) and chunk_units([piece])[0]:
            out[piece.id] = piece
    return out


def _statuses(
    documents: Sequence[Document],
    old: _Old | None,
    entries: Mapping[str, DocumentEntry],
    new_chunks: Mapping[str, list[Chunk]],
) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {"added": [], "updated": [], "unchanged": []}
    for doc in documents:
        if old is None or doc.doc_id not in old.manifest.documents:
            out["added"].append(doc.doc_id)
            continue
        same = old.manifest.documents[doc.doc_id] == entries[doc.doc_id] and all(
            old.chunks.get(c.id) == c for c in new_chunks[doc.doc_id]
        )
        out["unchanged" if same else "updated"].append(doc.doc_id)
    return {k: tuple(v) for k, v in out.items()}


def _removed_chunks(old: _Old | None, now: set[str]) -> int:
    return 0 if old is None else sum(1 for cid in old.chunks if cid not in now)


def _changed(
    old: _Old,
    entries: Mapping[str, DocumentEntry],
    cfg: ChunkSettings,
    kind: str,
    settings: IndexSettings,
) -> bool:
    """True if the folder would differ (metadata, paths, chunk settings, kind of dense index,
    BM25 settings) even without new vectors."""
    return (
        old.manifest.documents != dict(entries)
        or old.manifest.chunking != cfg
        or old.manifest.dense.kind != kind
        or old.manifest.lexical != lexical_info(settings)
    )


def _embed(
    texts: Sequence[str], embedder: Embedder, progress: Callable[[int, int], None] | None
) -> np.ndarray:
    parts: list[np.ndarray] = []
    if progress and texts:
        progress(0, len(texts))
    for start in range(0, len(texts), EMBED_BATCH):
        batch = texts[start : start + EMBED_BATCH]
        parts.append(embedder.encode_passages(batch))
        if progress:
            progress(start + len(batch), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


def _dense(
    old: _Old | None,
    reuse: Sequence[tuple[Chunk, str]],
    embed: Sequence[Chunk],
    vectors: np.ndarray,
    removed_chunks: int,
    settings: IndexSettings,
    embedder: Embedder,
) -> DenseIndex:
    new_ids = np.fromiter((vector_id(c.id) for c in embed), dtype=np.int64)
    reuse_ids = np.fromiter((vector_id(c.id) for c, _ in reuse), dtype=np.int64)
    donor_ids = np.fromiter((vector_id(donor) for _, donor in reuse), dtype=np.int64)
    if len(set(new_ids.tolist()) | set(reuse_ids.tolist())) != len(new_ids) + len(reuse_ids):
        raise SearchIndexError("two passages map to the same vector id; please report this bug")
    kind = "hnsw" if len(new_ids) + len(reuse_ids) >= settings.hnsw_threshold else "flat"
    if (
        old is not None
        and old.dense.info.kind == kind == "hnsw"
        and not removed_chunks
        and np.array_equal(reuse_ids, donor_ids)
    ):
        # An HNSW graph cannot drop nodes but can take new ones: add instead of rebuilding it.
        old.dense.add(vectors, new_ids)
        return old.dense
    reused = (
        old.dense.vectors(donor_ids.tolist())
        if old is not None
        else np.zeros((0, vectors.shape[1]), dtype=np.float32)
    )
    return DenseIndex.build(
        np.concatenate([reused, vectors]),
        np.concatenate([reuse_ids, new_ids]),
        hnsw_threshold=settings.hnsw_threshold,
        hnsw_m=settings.hnsw_m,
        hnsw_ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
        dimension=embedder.dimension,
    )


def _sentences(
    old: _Old | None,
    chunks: Sequence[Chunk],
    reuse: Sequence[tuple[Chunk, str]],
    fresh: Mapping[str, Sequence[str]],
    unit_vectors: Mapping[str, np.ndarray],
    embedder: Embedder,
) -> SentenceIndex:
    """The sentence and context vectors of all passages, in store order: a passage whose units
    were just embedded (``fresh``: id → units) takes those, a reused one its donor's rows (same
    text, same sentences), a new one whose sentences are deferred none."""
    donors = {c.id: donor for c, donor in reuse}
    blocks: list[np.ndarray] = []
    context: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    empty = np.zeros((0, embedder.dimension), dtype=np.float32)
    for piece in chunks:
        if piece.id in fresh:
            group = fresh[piece.id]
            rows = around = empty
            if group:
                windows = context_texts(group)
                rows = np.stack([unit_vectors[u] for u in group])
                around = np.stack(
                    [unit_vectors[w or u] for u, w in zip(group, windows, strict=True)]
                )
        elif piece.id in donors:
            assert old is not None  # only passages of an existing index are reused
            owner = vector_id(donors[piece.id])
            rows, around = old.sentences.rows_of(owner), old.sentences.context_rows_of(owner)
        else:
            rows = around = empty  # deferred: the next update embeds them
        blocks.append(rows)
        context.append(around)
        owners.append(np.full(len(rows), vector_id(piece.id), dtype=np.int64))
    if not blocks:
        return SentenceIndex.empty(embedder.dimension)
    return SentenceIndex(np.concatenate(blocks), np.concatenate(owners), np.concatenate(context))


def _manifest(
    old: _Old | None,
    entries: Mapping[str, DocumentEntry],
    chunk_settings: ChunkSettings,
    dense: DenseIndex,
    sentences: SentenceIndex,
    embedder: Embedder,
    settings: IndexSettings,
    pending: int,
) -> IndexManifest:
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    documents = {d: entries[d] for d in sorted(entries)}
    return IndexManifest(
        schema_version=SCHEMA_VERSION,
        created_at=old.manifest.created_at if old else now,
        updated_at=now,
        embedding=embedding_info(embedder),
        dense=dense.info,
        lexical=lexical_info(settings),
        chunking=chunk_settings,
        counts=IndexCounts(
            documents=len(documents),
            chunks=len(dense),
            pages=sum(e.page_count for e in documents.values()),
            sentences=len(sentences),
            sentences_pending=pending,
        ),
        documents=documents,
        package_versions=_versions(),
    )


def _versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for name in _PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return out
