"""Search over the PostgreSQL index, ranked as the files backend ranks.

:class:`PostgresIndex` is an ``index.search.PassageSearch``: the fusion, neighbour merging,
filters and hits are the same code as the files backend's; only the three rankings come from
SQL:

* dense: pgvector's inner product (``<#>``) of the passage vectors and the question's
  (the vectors are normalised, so it is their cosine): exact, or through the HNSW index an
  import makes above ``IndexSettings.postgres_hnsw_threshold`` passages;
* BM25: Lucene's formula, as bm25s computes it, over the project's own terms
  (``passage_terms``: term, passage, frequency, with the passage's report, place and length)
  with the corpus's document frequencies and average length as the writes keep them
  (``term_stats``, ``bm25_totals``): a search reads the postings of its terms and nothing
  else; for passages in another language than the question, only the question's
  names, acronyms and numbers (``index.terms.neutral_terms``);
* best sentence: each passage's best sentence cosine (``sentences``), exact or, above the
  threshold, over the nearest sentences the HNSW index of the sentence vectors finds.

Every ranking takes the report filter inside the query (``doc_id = ANY(...)``), never after a
top-k. Equal scores rank in report order (reports by id, passages in text order), as in the
files backend, whose rows are in that order. The passages and report metadata are read once at
connect, as the files backend reads its chunk store (the assistant's section tree and footnote
lookup read them in report order).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.embedding import Embedder, get_embedder
from index.lexical import K1, B
from index.manifest import check_embedding, lexical_info
from index.postgres.schema import (
    SCHEMA_VERSION,
    connect,
    facts,
    has_vector_indexes,
    schema_version,
)
from index.postgres.store import reports_identity, stored_chunks, stored_entries, vector_literal
from index.search import PassageSearch
from index.settings import EmbeddingSettings, IndexSettings
from index.terms import neutral_terms, tokenize
from index.types import (
    EmbeddingInfo,
    IndexCounts,
    IndexManifest,
    IndexMismatchError,
    IndexNotFoundError,
    IndexSchemaError,
    LexicalInfo,
)
from ingest.access import Groups
from ingest.types import Chunk, DocumentMeta

if TYPE_CHECKING:
    import psycopg

_BM25 = """
WITH q AS (SELECT unnest(%(terms)s::text[]) AS term),
stats AS (SELECT passages::float8 AS n, terms::float8 / greatest(passages, 1) AS avgdl
          FROM bm25_totals)
SELECT p.chunk_id,
       sum(ln(1 + (stats.n - s.df + 0.5) / (s.df + 0.5)) * p.tf
           / (%(k1)s * ((1 - %(b)s) + %(b)s * p.dl / stats.avgdl) + p.tf))::real AS score
FROM q JOIN passage_terms p USING (term) JOIN term_stats s USING (term) CROSS JOIN stats
WHERE (%(docs)s::text[] IS NULL OR p.doc_id = ANY(%(docs)s::text[])) AND {readable}
GROUP BY p.chunk_id, p.doc_id, p.ordinal
ORDER BY score DESC, p.doc_id, p.ordinal
LIMIT %(n)s
"""

_DENSE = """
SELECT p.chunk_id, -(p.embedding <#> %(q)s::vector) AS score FROM passages p
WHERE (%(docs)s::text[] IS NULL OR p.doc_id = ANY(%(docs)s::text[])) AND {readable}
ORDER BY p.embedding <#> %(q)s::vector, p.chunk_id
LIMIT %(n)s
"""

_SENTENCE = """
SELECT s.chunk_id, max(-(s.embedding <#> %(q)s::vector)) AS score
FROM sentences s JOIN passages p ON p.chunk_id = s.chunk_id
WHERE (%(docs)s::text[] IS NULL OR p.doc_id = ANY(%(docs)s::text[])) AND {readable}
GROUP BY s.chunk_id, p.doc_id, p.ordinal
ORDER BY score DESC, p.doc_id, p.ordinal
LIMIT %(n)s
"""


_DENSE_ANN = """
SELECT p.chunk_id, -(p.embedding <#> %(q)s::vector) AS score FROM passages p
WHERE (%(docs)s::text[] IS NULL OR p.doc_id = ANY(%(docs)s::text[])) AND {readable}
ORDER BY p.embedding <#> %(q)s::vector
LIMIT %(n)s
"""
"""Dense ranking through the HNSW index: only a distance order lets the planner use it (ties
are put in report order afterwards)."""

_SENTENCE_ANN = """
SELECT chunk_id, max(score) AS score FROM (
    SELECT s.chunk_id, -(s.embedding <#> %(q)s::vector) AS score
    FROM sentences s JOIN passages p ON p.chunk_id = s.chunk_id
    WHERE (%(docs)s::text[] IS NULL OR p.doc_id = ANY(%(docs)s::text[])) AND {readable}
    ORDER BY s.embedding <#> %(q)s::vector
    LIMIT %(sentences)s
) best
GROUP BY chunk_id
ORDER BY score DESC
LIMIT %(n)s
"""
"""Best-sentence ranking through the HNSW index: the nearest sentences, then each passage's
best; enough sentences (``SENTENCES_PER_PASSAGE`` per passage wanted) that ``n`` passages
come out of them."""

SENTENCES_PER_PASSAGE = 8
"""Nearest sentences read per passage wanted (a passage has 5.4 on average, and its best few
are often near each other)."""

_READABLE = """(%(groups)s::text[] IS NULL OR p.doc_id IN (
    SELECT r.doc_id FROM reports r WHERE r.access = '{}' OR r.access && %(groups)s::text[]))"""
"""The access check in every ranking's own query, besides the report list the reader's view
passes (``index.search.ReadableView``): a report whose labels were tightened after this process
read the reports table is not shown until it reloads."""

_BM25, _DENSE, _SENTENCE, _DENSE_ANN, _SENTENCE_ANN = (
    q.replace("{readable}", _READABLE)
    for q in (_BM25, _DENSE, _SENTENCE, _DENSE_ANN, _SENTENCE_ANN)
)


def _best_first(ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
    """Rows by score, ties in report order (an HNSW scan with relaxed order returns them
    nearly sorted; two keyword rankings are merged)."""
    return sorted(ranking, key=lambda rs: (-rs[1], rs[0]))


def _parse_vector(text: str) -> np.ndarray:
    return np.array(text.strip("[]").split(","), dtype=np.float32)


class PostgresIndex(PassageSearch):
    """The PostgreSQL index, searched as the files index is.

    Example:
        >>> index = PostgresIndex.connect("postgresql://…", EmbeddingSettings())  # doctest: +SKIP
        >>> index.search("Wat is de Nuclear Planning Group?", k=3)[0].chunk.section_label
        ... # doctest: +SKIP
    """

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        chunks: Sequence[Chunk],
        documents: dict[str, DocumentMeta],
        embedder: Embedder,
        settings: IndexSettings | None,
        dimension: int,
    ) -> None:
        super().__init__(chunks, documents, embedder, settings, dimension)
        self._conn = conn
        # Closed with this index: a page that loads a new one after an ingest drops the old
        # one once the last question on it is done, and its connection goes with it.
        self._closer = weakref.finalize(self, conn.close)
        self._lock = threading.Lock()  # one connection, one query at a time
        self.manifest: IndexManifest | None = None  # for the page: the reports, when updated
        self.identity = ""  # store.reports_identity when the passages were read
        self.approximate = False  # searches go through the HNSW indexes

    @classmethod
    def connect(
        cls,
        dsn: str,
        embedding_settings: EmbeddingSettings,
        settings: IndexSettings | None = None,
        *,
        embedder: Embedder | None = None,
    ) -> PostgresIndex:
        """Connect to the index in the database at ``dsn`` and read its passages.

        Raises:
            DatabaseError: the database cannot be reached.
            IndexNotFoundError: it holds no Legatus index.
            IndexSchemaError: its schema is older or newer than this code's.
            IndexMismatchError: another model or keyword analysis built it.
        """
        settings = settings or IndexSettings()
        embedder = embedder or get_embedder(embedding_settings)
        conn = connect(dsn)  # autocommit: each query reads what is committed when it runs
        try:
            version = schema_version(conn)
            if version == 0:
                raise IndexNotFoundError(
                    "the database holds no Legatus index yet: index reports into it first"
                )
            if version != SCHEMA_VERSION:
                raise IndexSchemaError(
                    f"the database's Legatus tables are at schema version {version}, this "
                    f"Legatus reads version {SCHEMA_VERSION}: "
                    + ("index into it once to migrate it" if version < SCHEMA_VERSION
                       else "upgrade Legatus")
                )  # fmt: skip
            built = facts(conn)
            if "embedding" in built:
                stored_embedding = EmbeddingInfo.model_validate(built["embedding"])
                check_embedding(stored_embedding, embedder, where="the database")
            if "lexical" in built:
                stored = LexicalInfo.model_validate(built["lexical"])
                if stored != lexical_info(settings):
                    raise IndexMismatchError(
                        f"the database's keyword terms were made with {stored}, not with "
                        f"{lexical_info(settings)}: re-index into it, or set "
                        "LEGATUS_INDEX__LEXICAL_SECTION_CONTEXT back"
                    )
            with conn.transaction():  # passages and reports of one moment, not of two
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                chunks = stored_chunks(conn)
                entries = stored_entries(conn)
                identity = reports_identity(conn)
            approximate = has_vector_indexes(conn)
            if approximate:  # for this session: the beam, and filters kept inside the scan
                conn.execute(f"SET hnsw.ef_search = {int(settings.hnsw_ef_search)}")
                conn.execute("SET hnsw.iterative_scan = relaxed_order")
        except BaseException:
            conn.close()
            raise
        dimension = int(built.get("dimension", embedder.dimension))
        documents = {d: e.meta() for d, e in entries.items()}
        index = cls(conn, chunks, documents, embedder, settings, dimension)
        index.identity = identity
        index.approximate = approximate
        if "manifest" in built:  # recorded by an import: the index as the page describes it
            counts = IndexCounts(
                documents=len(entries), chunks=len(chunks),
                pages=sum(e.page_count for e in entries.values()),
            )  # fmt: skip
            index.manifest = IndexManifest.model_validate(
                {**built["manifest"], "documents": entries, "counts": counts}
            )
        return index

    def close(self) -> None:
        self._closer()

    def _rows(self, query: str, params: dict[str, Any], groups: Groups) -> list[tuple[int, float]]:
        """(row, score) of each chunk id the query returns that this index read at connect;
        ``groups``: only of reports they may read (None: any)."""
        params = {**params, "groups": None if groups is None else sorted(groups)}
        with self._lock:
            found = self._conn.execute(query, params).fetchall()  # type: ignore[call-overload]
        rows = self._rows_by_id
        return [(rows[c], float(score)) for c, score in found if c in rows]

    def _docs(self, mask: np.ndarray | None, where: np.ndarray | None = None) -> list[str] | None:
        """The reports whose rows ``mask`` and ``where`` allow; None: all of them."""
        if mask is None and where is None:
            return None
        keep = np.ones(len(self.chunks), dtype=bool) if mask is None else mask.copy()
        if where is not None:
            keep &= where
        return sorted(set(self._doc_rows[keep].tolist()))

    def _dense_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        params = {"q": vector_literal(vector), "docs": self._docs(mask), "n": n}
        if self.approximate:
            return _best_first(self._rows(_DENSE_ANN, params, groups))
        return self._rows(_DENSE, params, groups)

    def _sentence_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        params = {"q": vector_literal(vector), "docs": self._docs(mask), "n": n}
        if self.approximate:
            params["sentences"] = n * SENTENCES_PER_PASSAGE
            return _best_first(self._rows(_SENTENCE_ANN, params, groups))
        return self._rows(_SENTENCE, params, groups)  # ties in report order, as files

    def _lexical_ranking(
        self,
        query: str,
        n: int,
        mask: np.ndarray | None,
        groups: Groups = None,
        *,
        cross_lingual: bool,
    ) -> list[tuple[int, float]]:
        other = self._other_language(query) if cross_lingual else None
        if other is None:
            return self._bm25(tokenize(query), self._docs(mask), n, groups)
        same = self._bm25(tokenize(query), self._docs(mask, ~other), n, groups)
        rest = self._bm25(tokenize(neutral_terms(query)), self._docs(mask, other), n, groups)
        return _best_first(same + rest)[:n]

    def _bm25(
        self, terms: list[str], docs: list[str] | None, n: int, groups: Groups
    ) -> list[tuple[int, float]]:
        if not terms or docs == []:
            return []
        params = {"terms": terms, "docs": docs, "n": n, "k1": K1, "b": B}
        found = self._rows(_BM25, params, groups)
        # Scores as float32, as bm25s sums them, so that the same passages tie in both backends.
        return [(row, score) for row, score in found if score > 0]

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        ids = [c for c in chunk_ids if c in self._rows_by_id]
        if not ids:
            return {}
        with self._lock:
            found = self._conn.execute(
                # In the order asked: overlapping passages share sentences, and as in the
                # files backend the later passage's vectors (its context) win.
                "SELECT text, embedding::text, context::text FROM sentences"
                " WHERE chunk_id = ANY(%(ids)s)"
                " ORDER BY array_position(%(ids)s::text[], chunk_id), position",
                {"ids": ids},
            ).fetchall()
        return {
            text: np.stack([_parse_vector(own), _parse_vector(around or own)])
            for text, own, around in found
        }
