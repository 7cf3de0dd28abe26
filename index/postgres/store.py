"""Reports in the PostgreSQL index: each written, replaced or removed in one transaction.

A reader sees a report as it was before a write or as it is after, never half of it: the old
rows are deleted and the new ones inserted in one transaction, and PostgreSQL shows other
sessions only committed transactions. A writer killed in the middle (``kill -9``, a full disk,
a lost connection) leaves the previous version in place, as its transaction never commits.

What is stored per passage is what the files backend keeps in its folder: the passage itself
(``ingest.types.Chunk`` as JSON), its vector, the analysed terms of its keyword text with their
counts (``index.terms.tokenize``: the project's own folding and Dutch stems, so that
PostgreSQL's own Dutch stemmer does not change the matching), and each of its sentences with its
vector and context vector.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.postgres.schema import WRITE_LOCK
from index.settings import IndexSettings
from index.store import chunk_from_fields, chunk_json
from index.terms import tokenize
from index.types import DocumentEntry, IndexCorruptError
from ingest.types import Chunk

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class StoredSentence:
    """One sentence of a passage with its vector and context vector."""

    text: str
    vector: np.ndarray
    context: np.ndarray


@dataclass(frozen=True)
class StoredPassage:
    """One passage as written: the passage, its vector, its keyword text, its sentences."""

    chunk: Chunk
    vector: np.ndarray
    keyword_text: str
    sentences: Sequence[StoredSentence] = ()


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of ``vector`` (float32 values written so they read back exactly).

    Example:
        >>> vector_literal(np.array([0.5, -1.0, 0.25], dtype=np.float32))
        '[0.5,-1,0.25]'
    """
    return "[" + ",".join(f"{float(x):.9g}" for x in np.asarray(vector, dtype=np.float32)) + "]"


def stored_hashes(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Report id → content hash of the version stored: what an incremental ingest compares."""
    return {doc: digest for doc, digest in conn.execute("SELECT doc_id, content_hash FROM reports")}


def put_report(
    conn: psycopg.Connection[Any],
    entry: DocumentEntry,
    passages: Iterable[StoredPassage],
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write report ``entry`` with its ``passages`` (in report order), replacing any version
    stored before, in one transaction (its access labels, ``entry.access``, in the column the
    searches check); the number of passages written. ``progress`` is called
    with the count written so far after each passage (their terms and sentences follow).

    Raises:
        ValueError: a passage of another report, or passages out of order.
    """
    rows = list(passages)
    last = -1
    for p in rows:
        if p.chunk.doc_id != entry.doc_id or p.chunk.ordinal <= last:
            raise ValueError(
                f"passage {p.chunk.id} is not the next passage of report {entry.doc_id}"
            )
        last = p.chunk.ordinal
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        _uncount(cur, [entry.doc_id])
        cur.execute("DELETE FROM reports WHERE doc_id = %s", (entry.doc_id,))
        cur.execute(
            "INSERT INTO reports (doc_id, content_hash, meta, access) VALUES (%s, %s, %s, %s)",
            (
                entry.doc_id,
                entry.content_hash,
                json.dumps(entry.model_dump(mode="json"), ensure_ascii=False),
                list(entry.access),
            ),
        )
        # COPY, not INSERT per row: a report of a few hundred passages has tens of thousands
        # of term rows (bench/RESULTS.md).
        terms = {p.chunk.id: tokenize(p.keyword_text) or [""] for p in rows}  # as index.lexical
        with cur.copy(
            "COPY passages (chunk_id, doc_id, ordinal, chunk, embedding, n_terms) FROM STDIN"
        ) as copy:
            for written, p in enumerate(rows, start=1):
                piece = p.chunk
                copy.write_row((
                    piece.id, piece.doc_id, piece.ordinal, chunk_json(piece),
                    vector_literal(p.vector), len(terms[piece.id]),
                ))  # fmt: skip
                if progress:
                    progress(written)
        with cur.copy(
            "COPY passage_terms (term, chunk_id, tf, doc_id, ordinal, dl) FROM STDIN"
        ) as copy:
            for p in rows:
                found = terms[p.chunk.id]
                place = (entry.doc_id, p.chunk.ordinal, len(found))
                for term, tf in Counter(found).items():
                    copy.write_row((term, p.chunk.id, tf, *place))
        # BM25's statistics, in the same transaction: a reader sees them with the rows
        cur.execute(
            "INSERT INTO term_stats (term, df) SELECT term, count(*) FROM passage_terms"
            " WHERE doc_id = %s GROUP BY term ORDER BY term"
            " ON CONFLICT (term) DO UPDATE SET df = term_stats.df + EXCLUDED.df",
            (entry.doc_id,),
        )
        cur.execute(
            "UPDATE bm25_totals SET passages = passages + %s, terms = terms + %s",
            (len(rows), sum(len(found) for found in terms.values())),
        )
        with cur.copy(
            "COPY sentences (chunk_id, position, text, embedding, context) FROM STDIN"
        ) as copy:
            for p in rows:
                for i, sentence in enumerate(p.sentences):
                    copy.write_row((
                        p.chunk.id, i, sentence.text, vector_literal(sentence.vector),
                        vector_literal(sentence.context),
                    ))  # fmt: skip
    return len(rows)


def remove_reports(conn: psycopg.Connection[Any], doc_ids: Iterable[str]) -> int:
    """Remove these reports and everything of them, in one transaction; how many there were."""
    ids = list(doc_ids)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        _uncount(cur, ids)
        cur.execute("DELETE FROM reports WHERE doc_id = ANY(%s)", (ids,))
        return cur.rowcount


def _uncount(cur: psycopg.Cursor[Any], doc_ids: list[str]) -> None:
    """Take the passages of these reports out of BM25's statistics (before they are deleted,
    in the same transaction)."""
    cur.execute(
        "UPDATE term_stats s SET df = s.df - o.n FROM (SELECT term, count(*) AS n"
        " FROM passage_terms WHERE doc_id = ANY(%s) GROUP BY term) o WHERE s.term = o.term",
        (doc_ids,),
    )
    cur.execute(
        "UPDATE bm25_totals SET passages = passages - o.n, terms = terms - o.t FROM"
        " (SELECT count(*) AS n, coalesce(sum(n_terms), 0) AS t FROM passages"
        " WHERE doc_id = ANY(%s)) o",
        (doc_ids,),
    )


def stored_chunks(conn: psycopg.Connection[Any]) -> list[Chunk]:
    """Every stored passage, report by report in report order.

    Raises:
        IndexCorruptError: a stored passage cannot be read back.
    """
    rows = conn.execute("SELECT chunk FROM passages ORDER BY doc_id, ordinal")
    try:
        return [chunk_from_fields(fields) for (fields,) in rows]
    except (KeyError, TypeError) as exc:
        raise IndexCorruptError(f"a stored passage cannot be read back ({exc})") from exc


def stored_entries(conn: psycopg.Connection[Any]) -> dict[str, DocumentEntry]:
    """Each stored report's entry (metadata, hash, passage ids), by id."""
    rows = conn.execute("SELECT doc_id, meta FROM reports ORDER BY doc_id")
    return {doc: DocumentEntry.model_validate(meta) for doc, meta in rows}


def from_files_index(
    path: Path, section_context: int, only: Collection[str] | None = None
) -> list[tuple[DocumentEntry, list[StoredPassage]]]:
    """The reports of the files index at ``path`` (those in ``only``, if given) as the
    PostgreSQL index stores them (its own vectors, not computed again), report by report in the
    order of its manifest: ``section_context`` is its ``lexical_section_context``.

    Raises:
        SearchIndexError: as ``index.store.read_index``.
    """
    from index.dense import vector_id
    from index.lexical import lexical_texts
    from index.sentences import chunk_units
    from index.store import read_index

    manifest, chunks, dense, _, sentences = read_index(path)
    keyword = dict(zip((c.id for c in chunks), lexical_texts(chunks, section_context), strict=True))
    units = dict(zip((c.id for c in chunks), chunk_units(chunks), strict=True))
    by_id = {c.id: c for c in chunks}
    out = []
    for entry in manifest.documents.values():
        if only is not None and entry.doc_id not in only:
            continue
        rows = []
        for chunk_id in entry.chunk_ids:
            piece = by_id[chunk_id]
            owner = vector_id(chunk_id)
            own, around = sentences.rows_of(owner), sentences.context_rows_of(owner)
            rows.append(
                StoredPassage(
                    chunk=piece,
                    vector=dense.vectors([owner])[0],
                    keyword_text=keyword[chunk_id],
                    sentences=[  # as the files index: none when rows and units disagree
                        StoredSentence(text, own[i], around[i])
                        for i, text in enumerate(units[chunk_id])
                    ]
                    if len(own) == len(units[chunk_id])
                    else [],
                )
            )
        out.append((entry, rows))
    return out


def import_files_index(
    conn: psycopg.Connection[Any], path: Path, settings: IndexSettings | None = None
) -> tuple[int, int, int]:
    """Bring the database's index to what the files index at ``path`` holds, with that index's
    own vectors: reports whose content hash or metadata (title, access labels, ...) differs
    are written (one transaction each), reports it lacks are removed, the rest left alone.
    (written, removed, unchanged) reports. Then the vector indexes are fitted to the new size
    (``schema.fit_vector_indexes``, at ``settings.postgres_hnsw_threshold``).

    Raises:
        SearchIndexError: as ``index.store.read_index``; IndexMismatchError: the database's
            index was built with another model, dimension or keyword analysis.
    """
    from index.postgres.schema import check_facts, fit_vector_indexes, migrate, set_fact
    from index.store import read_manifest

    manifest = read_manifest(path)
    migrate(conn, manifest.embedding.dimension)
    check_facts(
        conn,
        {
            "embedding": manifest.embedding.model_dump(mode="json"),
            "lexical": manifest.lexical.model_dump(mode="json"),
        },
    )
    before = stored_entries(conn)
    changed = {d for d, e in manifest.documents.items() if before.get(d) != e}
    written = 0
    if changed:
        for entry, passages in from_files_index(path, manifest.lexical.section_context, changed):
            put_report(conn, entry, passages)
            written += 1
    removed = remove_reports(conn, set(before) - set(manifest.documents))
    # What the page shows of the index (when it was updated, how it was built); the report
    # list itself is the reports table.
    set_fact(conn, "manifest", manifest.model_dump(mode="json", exclude={"documents", "counts"}))
    fit_vector_indexes(conn, (settings or IndexSettings()).postgres_hnsw_threshold)
    return written, removed, len(manifest.documents) - written


def reports_identity(conn: psycopg.Connection[Any]) -> str:
    """A digest of which reports are stored at which version: it changes with every write."""
    row = conn.execute(
        "SELECT md5(coalesce(string_agg(doc_id || ':' || content_hash || ':' || indexed_at,"
        " ',' ORDER BY doc_id), '')) FROM reports"
    ).fetchone()
    return str(row[0]) if row else ""
