"""The PostgreSQL index's tables, their versions, and the facts an index is built with.

The schema is versioned: ``legatus_schema`` holds the version the database is at, and
:func:`migrate` brings it up to :data:`SCHEMA_VERSION` one step at a time, all in one
transaction under an advisory lock (two processes starting at once migrate once; a failed
step leaves the database as it was). A database at a newer version than this code knows is
refused, never written.

What an index was built with (embedding model and dimension, chunking, the keyword analyser)
sits in ``legatus_index`` as the files backend keeps it in ``manifest.json``; :func:`check_facts`
compares it with what the reader or writer uses, so that vectors of two models never mix.

Tables: ``reports`` (one row per report: content hash, metadata, access labels, when indexed),
``passages`` (the stored passages in report order, their vector and term count),
``passage_terms`` (term → passage → frequency, with the passage's report, place and length:
BM25's inverted index, read without touching ``passages``), ``term_stats`` (each term's
document frequency) and ``bm25_totals`` (passages and terms in all: the average length), kept
up to date by each report's write in its own transaction,
``sentences`` (each passage's sentence vectors and context vectors, as ``index.sentences``
stores them).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from index.types import IndexMismatchError, IndexSchemaError, SearchIndexError

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 4
_LOCK = 0x6C656761  # the advisory lock migrations take ("lega")
WRITE_LOCK = 0x6C656777  # the advisory lock a report's write takes ("legw"): one at a time


class DatabaseError(SearchIndexError):
    """The database could not be reached or read; the message says what to do."""


def connect(dsn: str) -> psycopg.Connection[Any]:
    """A connection to ``dsn`` (``postgresql://…``) in autocommit mode, or a message saying
    why not.

    Raises:
        DatabaseError: no driver, or the server refused or is not there.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise DatabaseError(
            "the PostgreSQL driver is missing: pip install 'psycopg[binary]'"
        ) from exc
    try:
        # autocommit: every ``conn.transaction()`` block is a transaction of its own (without
        # it, a first plain query would open one that every later block merely nests in).
        return psycopg.connect(dsn, connect_timeout=10, autocommit=True)
    except psycopg.Error as exc:
        raise DatabaseError(
            f"cannot connect to the database at {_safe(dsn)}: {str(exc).strip()} "
            "(for a local one: `legatus db start`, then use the address `legatus db status` gives)"
        ) from exc


def schema_version(conn: psycopg.Connection[Any]) -> int:
    """The version the database's Legatus tables are at; 0 when it has none yet."""
    row = conn.execute("SELECT to_regclass('legatus_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT max(version) FROM legatus_schema").fetchone()
    return int(got[0]) if got and got[0] is not None else 0


def migrate(conn: psycopg.Connection[Any], dimension: int) -> int:
    """Bring the database to :data:`SCHEMA_VERSION` (creating it for vectors of ``dimension``
    on first use) in one transaction; the version it is at afterwards.

    Raises:
        IndexSchemaError: the database is at a newer version than this code knows.
        IndexMismatchError: it holds vectors of another dimension.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise IndexSchemaError(
                f"the database's Legatus tables are at schema version {version}; this Legatus "
                f"knows up to {SCHEMA_VERSION}: upgrade Legatus (a database is never downgraded)"
            )
        for step in range(version, SCHEMA_VERSION):
            _MIGRATIONS[step](conn, dimension)
            conn.execute("INSERT INTO legatus_schema (version) VALUES (%s)", (step + 1,))
        stored = facts(conn).get("dimension")
        if stored is None:
            set_fact(conn, "dimension", dimension)
        elif stored != dimension:
            raise IndexMismatchError(
                f"the database holds {stored}-dimensional vectors and the model makes "
                f"{dimension}-dimensional ones: use the model it was built with, or another "
                "database for this one"
            )
    return SCHEMA_VERSION


def facts(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What the index was built with (``legatus_index``); {} before the first migration."""
    if schema_version(conn) == 0:
        return {}
    return {key: value for key, value in conn.execute("SELECT key, value FROM legatus_index")}


def check_facts(conn: psycopg.Connection[Any], expected: Mapping[str, Any]) -> None:
    """Record the facts not yet recorded; refuse when a recorded one differs.

    Raises:
        IndexMismatchError: naming each fact that differs, stored and expected.
    """
    stored = facts(conn)
    differ = [k for k, v in expected.items() if k in stored and stored[k] != v]
    if differ:
        detail = "; ".join(f"{k}: built with {stored[k]!r}, now {expected[k]!r}" for k in differ)
        raise IndexMismatchError(
            f"the database's index was built differently ({detail}): re-index into a new "
            "database, or set these back"
        )
    with conn.transaction():
        for key, value in expected.items():
            if key not in stored:
                set_fact(conn, key, value)


def set_fact(conn: psycopg.Connection[Any], key: str, value: Any) -> None:
    """Record (or replace) one fact of ``legatus_index``."""
    conn.execute(
        "INSERT INTO legatus_index (key, value) VALUES (%s, %s::jsonb) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        (key, json.dumps(value)),
    )


VECTOR_INDEXES = {
    "passages_embedding_hnsw": "passages USING hnsw (embedding vector_ip_ops)",
    "sentences_embedding_hnsw": "sentences USING hnsw (embedding vector_ip_ops)",
}
"""The HNSW indexes of the passage and sentence vectors (inner product: the vectors are
normalised), made above ``IndexSettings.postgres_hnsw_threshold`` passages."""

HNSW_BUILD = "m = 16, ef_construction = 64"
"""HNSW build settings (bench/RESULTS.md: 23 s for 100,000 passages here, recall@10 0.97-0.99
at ef_search 100-200)."""


def has_vector_indexes(conn: psycopg.Connection[Any]) -> bool:
    """Whether the HNSW indexes are there (and searches should use them)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
        " AND indexname = ANY(%s)",
        (list(VECTOR_INDEXES),),
    ).fetchone()
    return (int(row[0]) if row else 0) == len(VECTOR_INDEXES)


def fit_vector_indexes(conn: psycopg.Connection[Any], threshold: int) -> bool:
    """Make the HNSW indexes when the database holds ``threshold`` passages or more, drop them
    when it holds fewer (exact search is then fast, and exact); whether they are there now.

    Building blocks writes to the tables for its duration (readers go on) and runs once: an
    index, once made, is kept up to date by PostgreSQL as rows come and go.
    """
    row = conn.execute("SELECT count(*) FROM passages").fetchone()
    wanted = (int(row[0]) if row else 0) >= threshold
    with conn.transaction():
        conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, target in VECTOR_INDEXES.items():
            if wanted:  # fixed names and settings: nothing a user wrote
                conn.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target} WITH ({HNSW_BUILD})")
            else:
                conn.execute(f"DROP INDEX IF EXISTS {name}")
    return wanted


def _v1(conn: psycopg.Connection[Any], dimension: int) -> None:
    """The first schema: reports, passages with terms and vectors, sentence vectors."""
    d = int(dimension)
    for statement in (
        "CREATE EXTENSION IF NOT EXISTS vector",
        "CREATE TABLE legatus_schema (version integer PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE legatus_index (key text PRIMARY KEY, value jsonb NOT NULL)",
        "CREATE TABLE reports (doc_id text PRIMARY KEY, content_hash text NOT NULL,"
        " meta jsonb NOT NULL, access text[] NOT NULL DEFAULT '{}',"
        " indexed_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE passages (chunk_id text PRIMARY KEY,"
        " doc_id text NOT NULL REFERENCES reports ON DELETE CASCADE,"
        " ordinal integer NOT NULL, chunk jsonb NOT NULL, terms tsvector NOT NULL,"
        f" embedding vector({d}) NOT NULL, UNIQUE (doc_id, ordinal))",
        "CREATE TABLE sentences (chunk_id text NOT NULL REFERENCES passages ON DELETE CASCADE,"
        f" position integer NOT NULL, text text NOT NULL, embedding vector({d}) NOT NULL,"
        f" context vector({d}), PRIMARY KEY (chunk_id, position))",
        "CREATE INDEX passages_terms ON passages USING gin (terms)",
        "CREATE INDEX reports_access ON reports USING gin (access)",
    ):
        conn.execute(statement)  # fixed text and an integer: nothing a user wrote


def _v2(conn: psycopg.Connection[Any], dimension: int) -> None:
    """Term frequencies for BM25 as the files backend ranks (bm25s, Lucene's formula) over the
    project's own terms: an inverted index (term → passages) and each passage's term count."""
    for statement in (
        "ALTER TABLE passages ADD COLUMN n_terms integer NOT NULL DEFAULT 0",
        "CREATE TABLE passage_terms (term text NOT NULL,"
        " chunk_id text NOT NULL REFERENCES passages ON DELETE CASCADE,"
        " tf integer NOT NULL, PRIMARY KEY (term, chunk_id))",
        "CREATE INDEX passage_terms_chunk ON passage_terms (chunk_id)",
    ):
        conn.execute(statement)


def _v3(conn: psycopg.Connection[Any], dimension: int) -> None:
    """The passages' tsvector goes: the keyword ranking reads ``passage_terms`` (which holds
    the same terms with their counts), and rows are written by COPY, which cannot compute it."""
    conn.execute("ALTER TABLE passages DROP COLUMN terms")


def _v4(conn: psycopg.Connection[Any], dimension: int) -> None:
    """BM25 without a query-time count: each posting carries its passage's report, place and
    length, and the document frequencies and totals are kept as reports are written, so a
    keyword search reads only the postings of its terms (bench/RESULTS.md)."""
    for statement in (
        "ALTER TABLE passage_terms ADD COLUMN doc_id text, ADD COLUMN ordinal integer,"
        " ADD COLUMN dl integer",
        "UPDATE passage_terms t SET doc_id = p.doc_id, ordinal = p.ordinal, dl = p.n_terms"
        " FROM passages p WHERE p.chunk_id = t.chunk_id",
        "ALTER TABLE passage_terms ALTER COLUMN doc_id SET NOT NULL,"
        " ALTER COLUMN ordinal SET NOT NULL, ALTER COLUMN dl SET NOT NULL",
        "CREATE INDEX passage_terms_doc ON passage_terms (doc_id)",
        "CREATE TABLE term_stats (term text PRIMARY KEY, df integer NOT NULL)",
        "INSERT INTO term_stats SELECT term, count(*) FROM passage_terms GROUP BY term",
        "CREATE TABLE bm25_totals (one boolean PRIMARY KEY DEFAULT true CHECK (one),"
        " passages bigint NOT NULL, terms bigint NOT NULL)",
        "INSERT INTO bm25_totals SELECT true, count(*), coalesce(sum(n_terms), 0) FROM passages",
    ):
        conn.execute(statement)


_MIGRATIONS: tuple[Callable[[Any, int], None], ...] = (_v1, _v2, _v3, _v4)
"""Step ``i`` brings a database at version ``i`` to ``i + 1``; append, never edit."""


def _safe(dsn: str) -> str:
    """``dsn`` without a password.

    Example:
        >>> _safe("postgresql://legatus:secret@db.example:5432/legatus")
        'postgresql://legatus:***@db.example:5432/legatus'
    """
    head, sep, tail = dsn.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return dsn
    user = head.rsplit(":", 1)[0]
    return f"{user}:***@{tail}"
