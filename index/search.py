"""The embedded index: hybrid, dense or BM25 search over a folder of FAISS and bm25s files.

Example:
    >>> index = SearchIndex.load(Path("~/.local/share/legatus/index"), EmbeddingSettings())
    ... # doctest: +SKIP
    >>> for hit in index.search("Wat is de Nuclear Planning Group?", k=3):  # doctest: +SKIP
    ...     print(hit.rank, hit.document.title, hit.chunk.section_label, hit.page)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.dense import DenseIndex, vector_id
from index.embedding import Embedder, get_embedder
from index.lexical import LexicalIndex, lexical_texts
from index.manifest import check_embedding, lexical_info
from index.ranking import Span, drop_overlapping, fuse, join_passages, merge_neighbours, single
from index.sentences import SentenceIndex
from index.settings import EmbeddingSettings, IndexSettings, Mode
from index.store import REBUILD_HINT, read_index
from index.terms import neutral_terms
from index.types import (
    Hit,
    IndexCounts,
    IndexManifest,
    IndexMismatchError,
    IndexNotFoundError,
    SearchFilters,
)
from ingest.access import Groups, may_read
from ingest.language import guess_language
from ingest.types import Chunk, DocumentMeta
from ingest.units import passage_units


class PassageSearch:
    """What every index backend's search shares, over the passages held in report order: the
    fusion of the dense, BM25 and best-sentence rankings, neighbour merging, filters, hits.

    A backend supplies the three rankings (``_dense_ranking``, ``_lexical_ranking``,
    ``_sentence_ranking``: rows of :attr:`chunks` with scores, best first, only rows ``mask``
    allows; ``groups``, when not None, is the reader's, for a backend that checks the access
    labels once more in its own query) and ``unit_vectors``; :class:`SearchIndex` reads them
    from its files, ``index.postgres.search.PostgresIndex`` from SQL.
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        documents: dict[str, DocumentMeta],
        embedder: Embedder,
        settings: IndexSettings | None,
        dimension: int,
    ) -> None:
        self.settings = settings or IndexSettings()
        self.chunks: tuple[Chunk, ...] = tuple(chunks)
        self.documents: dict[str, DocumentMeta] = documents
        self._embedder = embedder
        self._dimension = dimension
        self._rows_by_id = {c.id: row for row, c in enumerate(self.chunks)}
        self._doc_rows = np.array([c.doc_id for c in self.chunks], dtype=object)
        self._languages = np.array(
            [self.documents[c.doc_id].language for c in self.chunks], dtype=object
        )
        self.manifest: IndexManifest | None = None  # what the page shows of the index
        self._views: dict[frozenset[str], PassageSearch] = {}

    def readable_by(self, groups: Groups) -> PassageSearch:
        """This index as a reader of ``groups`` may see it: only the reports they may read
        (``ingest.access``), in its passages, its reports, its manifest and every search.

        ``self`` when they may read every report (``groups`` None: the index's owner). Views are
        kept per set of groups, so asking again is free.
        """
        if groups is None or all(may_read(m.access, groups) for m in self.documents.values()):
            return self
        view = self._views.get(groups)
        if view is None:
            view = self._views[groups] = ReadableView(self, groups)
        return view

    def __len__(self) -> int:
        return len(self.chunks)

    def chunk(self, chunk_id: str) -> Chunk:
        """The passage with this id.

        Raises:
            KeyError: no passage has this id.
        """
        return self.chunks[self._rows_by_id[chunk_id]]

    def following(self, chunk_id: str, count: int) -> tuple[Chunk, ...]:
        """Stored passage ``chunk_id`` and up to ``count`` passages after it in the same report, in
        report order; () if no passage has this id."""
        row = self._rows_by_id.get(chunk_id)
        if row is None:
            return ()
        doc = self.chunks[row].doc_id
        out = []
        for piece in self.chunks[row : row + count + 1]:
            if piece.doc_id != doc:
                break
            out.append(piece)
        return tuple(out)

    def search(
        self,
        query: str,
        k: int = 5,
        filters: SearchFilters | None = None,
        *,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first.

        Args:
            query: the question, in any language the model reads.
            k: how many passages to return.
            filters: which reports may be searched (by id, publisher, date).
            mode: "hybrid" (reciprocal-rank fusion of both), "dense" (embeddings only) or
                "lexical" (BM25 only, over all the question's words).
        """
        if k <= 0 or not self.chunks:
            return []
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []
        s = self.settings
        n = max(s.candidates, k)
        if mode == "dense":
            candidates = single(self._dense_ranking(self._query_vector(query), n, mask), "dense")
        elif mode == "lexical":
            candidates = single(
                self._lexical_ranking(query, n, mask, cross_lingual=False), "lexical"
            )
        else:
            vector = self._query_vector(query)
            candidates = fuse(
                self._dense_ranking(vector, n, mask),
                self._lexical_ranking(query, n, mask, cross_lingual=True),
                sentence=self._sentence_ranking(vector, n, mask) if s.sentence_weight else (),
                rrf_k=s.rrf_k,
                dense_weight=s.dense_weight,
                lexical_weight=s.lexical_weight,
                sentence_weight=s.sentence_weight,
            )
        if s.merge_neighbours > 1:
            spans = merge_neighbours(candidates, self.chunks, k, s.merge_neighbours, 2 * k)
            return [self._hit(span, rank) for rank, span in enumerate(spans, start=1)]
        if s.max_overlap < 1:
            candidates = drop_overlapping(candidates, self.chunks, k, s.max_overlap)
        return [
            self._hit(Span(c, c.row, c.row), rank) for rank, c in enumerate(candidates[:k], start=1)
        ]

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Sentence text → stored vector and context vector (a ``(2, dimension)`` array) for the
        sentences of these stored passages (a merged passage's ``Hit.parts``), so that an
        answerer need not embed them again."""
        raise NotImplementedError

    def _dense_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        """Rows by the cosine of the passage's vector and ``vector``, best first."""
        raise NotImplementedError

    def _lexical_ranking(
        self,
        query: str,
        n: int,
        mask: np.ndarray | None,
        groups: Groups = None,
        *,
        cross_lingual: bool,
    ) -> list[tuple[int, float]]:
        """Rows with a positive BM25 score, best first; with ``cross_lingual``, passages in
        another language than the question count only its names, acronyms and numbers (when
        the settings say so)."""
        raise NotImplementedError

    def _sentence_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        """Rows by the cosine of their best-matching sentence, best first."""
        raise NotImplementedError

    def _other_language(self, query: str) -> np.ndarray | None:
        """Which rows are in another (known) language than ``query``; None when the question's
        words should count everywhere (setting off, language unknown, or no such rows)."""
        language = guess_language(query)
        if not self.settings.cross_lingual_terms or not language:
            return None
        other = (self._languages != language) & (self._languages != "")
        return other if other.any() else None

    def _mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or not filters.active:
            return None
        allowed = [doc_id for doc_id, meta in self.documents.items() if filters.accepts(meta)]
        return np.isin(self._doc_rows, np.array(allowed, dtype=object))

    def _query_vector(self, query: str) -> np.ndarray:
        vector = self._embedder.encode_queries([query])[0]
        if vector.shape[-1] != self._dimension:
            raise IndexMismatchError(
                f"the model makes {vector.shape[-1]}-dimensional vectors but the index holds "
                f"{self._dimension}-dimensional ones; {REBUILD_HINT}"
            )
        return vector

    def _hit(self, span: Span, rank: int) -> Hit:
        cand = span.best
        pieces = [self.chunks[r] for r in span.rows]
        piece = join_passages(pieces)
        return Hit(
            chunk=piece,
            document=self.documents[piece.doc_id],
            rank=rank,
            score=cand.score,
            dense_score=cand.dense[1] if cand.dense else None,
            lexical_score=cand.lexical[1] if cand.lexical else None,
            dense_rank=cand.dense[0] if cand.dense else None,
            lexical_rank=cand.lexical[0] if cand.lexical else None,
            sentence_score=cand.sentence[1] if cand.sentence else None,
            parts=tuple(p.id for p in pieces),
        )


class SearchIndex(PassageSearch):
    """A loaded index: hybrid, dense-only or BM25-only search over the indexed passages.

    Load it once and keep it; searching is thread-safe for reading. The embedding model loads on
    the first dense or hybrid search.

    Example:
        >>> index = SearchIndex.load(Path("var/index"), EmbeddingSettings())  # doctest: +SKIP
        >>> hits = index.search("Welke methoden gebruikte de Strategische Monitor?", k=5,
        ...                     filters=SearchFilters(publishers=("HCSS",)))  # doctest: +SKIP
        >>> hits[0].chunk.text[:40], hits[0].score  # doctest: +SKIP
    """

    def __init__(
        self,
        manifest: IndexManifest,
        chunks: Sequence[Chunk],
        dense: DenseIndex,
        embedder: Embedder,
        settings: IndexSettings | None = None,
        lexical: LexicalIndex | None = None,
        sentences: SentenceIndex | None = None,
    ) -> None:
        documents = {doc_id: entry.meta() for doc_id, entry in manifest.documents.items()}
        super().__init__(chunks, documents, embedder, settings, dense.dimension)
        self.manifest = manifest
        self._dense = dense
        self._vector_ids = np.fromiter((vector_id(c.id) for c in self.chunks), dtype=np.int64)
        self._row_of = {int(v): row for row, v in enumerate(self._vector_ids)}
        if lexical is None or manifest.lexical != lexical_info(self.settings):
            # saved with other lexical settings (or not at all): build it here
            lexical = LexicalIndex(
                lexical_texts(self.chunks, self.settings.lexical_section_context)
            )
        self._lexical = lexical
        self._sentences = sentences or SentenceIndex.empty(dense.dimension)
        self._sentence_rows = np.fromiter(  # store row of each passage with sentences
            (self._row_of[int(v)] for v in self._sentences.run_owners),
            dtype=np.int64,
            count=len(self._sentences.run_owners),
        )
        # Passages written without their sentence vectors (a report `legatus watch` has just
        # added, its sentences still being embedded) take part in the sentence ranking by their
        # passage vector, so that a new report is not outranked merely for lacking them.
        self._stand_in_rows = np.zeros(0, dtype=np.int64)
        self._stand_ins = np.zeros((0, dense.dimension), dtype=np.float32)
        if manifest.counts.sentences_pending:
            have = set(self._sentence_rows.tolist())
            waiting = [
                row
                for row, piece in enumerate(self.chunks)
                if row not in have and passage_units(piece.text)
            ]
            self._stand_in_rows = np.asarray(waiting, dtype=np.int64)
            if waiting:
                self._stand_ins = dense.vectors(self._vector_ids[self._stand_in_rows])

    @classmethod
    def load(
        cls,
        path: Path,
        embedding_settings: EmbeddingSettings,
        settings: IndexSettings | None = None,
        *,
        embedder: Embedder | None = None,
    ) -> SearchIndex:
        """Read the index folder at ``path``.

        Raises:
            IndexNotFoundError: there is no index at ``path``.
            IndexMismatchError: it was built with another schema or embedding model.
            IndexCorruptError: its files are unreadable or inconsistent.
        """
        settings = settings or IndexSettings()
        embedder = embedder or get_embedder(embedding_settings)
        manifest, chunks, dense, lexical, sentences = read_index(
            path, ef_search=settings.hnsw_ef_search
        )
        check_embedding(manifest.embedding, embedder, where=path)
        return cls(manifest, chunks, dense, embedder, settings, lexical, sentences)

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Sentence text → stored vector and context vector (a ``(2, dimension)`` array) for the
        sentences of these stored passages (a merged passage's ``Hit.parts``), so that an
        answerer need not embed them again."""
        out: dict[str, np.ndarray] = {}
        for chunk_id in chunk_ids:
            row = self._rows_by_id.get(chunk_id)
            if row is not None:
                vid = int(self._vector_ids[row])
                out.update(self._sentences.unit_vectors(self.chunks[row], vid))
        return out

    def _lexical_ranking(
        self,
        query: str,
        n: int,
        mask: np.ndarray | None,
        groups: Groups = None,
        *,
        cross_lingual: bool,
    ) -> list[tuple[int, float]]:
        if not cross_lingual:
            return self._lexical.top(query, n, mask)
        scores = self._lexical.scores(query)
        other = self._other_language(query)
        if other is not None:  # there, only the question's names, acronyms and numbers count
            scores = np.where(other, self._lexical.scores(neutral_terms(query)), scores)
        return self._lexical.top(scores, n, mask)

    def _dense_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        allowed = self._vector_ids[mask] if mask is not None else None
        found = self._dense.search(vector, n, allowed)
        return [(self._row_of[vid], score) for vid, score in found]

    def _sentence_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        """Passages by the cosine of their best-matching sentence, best first."""
        scores = self._sentences.best_per_run(vector)
        rows = self._sentence_rows
        if len(self._stand_in_rows):
            scores = np.concatenate([scores, self._stand_ins @ vector.astype(np.float32)])
            rows = np.concatenate([rows, self._stand_in_rows])
        if mask is not None:
            keep = mask[rows]
            rows, scores = rows[keep], scores[keep]
        if len(scores) > n:  # the n best, and any tied with the n-th
            cut = np.partition(scores, len(scores) - n)[len(scores) - n]
            keep = scores >= cut
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:n]  # ties: report order
        return [(int(rows[i]), float(scores[i])) for i in order]


class ReadableView(PassageSearch):
    """An index as one reader may see it: the reports of ``groups`` only, searched inside the
    index (the FAISS ID selector, the BM25 and sentence masks, the SQL filter), never by
    dropping results after a top-k. Made by :meth:`PassageSearch.readable_by`.

    What the view holds is all of what its reader can learn: its passages, its reports, its
    manifest (titles, counts, filter choices), its neighbours and footnotes, its searches. The
    keyword statistics (document frequencies, average length) stay those of the whole index,
    as a search engine's do: a score, not a passage.
    """

    def __init__(self, base: PassageSearch, groups: frozenset[str]) -> None:
        documents = {d: m for d, m in base.documents.items() if may_read(m.access, groups)}
        self._base = base
        self._base_rows = np.flatnonzero(
            np.isin(base._doc_rows, np.array(list(documents), dtype=object))
        )
        super().__init__(
            [base.chunks[r] for r in self._base_rows], documents, base._embedder, base.settings,
            base._dimension,
        )  # fmt: skip
        self.groups = groups
        self._view_row = {int(b): row for row, b in enumerate(self._base_rows)}
        self.manifest = readable_manifest(base.manifest, documents)

    def _in_base(self, mask: np.ndarray | None) -> np.ndarray:
        full = np.zeros(len(self._base.chunks), dtype=bool)
        full[self._base_rows] = True if mask is None else mask
        return full

    def _back(self, ranking: list[tuple[int, float]]) -> list[tuple[int, float]]:
        rows = self._view_row
        return [(rows[r], score) for r, score in ranking if r in rows]

    def _dense_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        return self._back(self._base._dense_ranking(vector, n, self._in_base(mask), self.groups))

    def _sentence_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None, groups: Groups = None
    ) -> list[tuple[int, float]]:
        found = self._base._sentence_ranking(vector, n, self._in_base(mask), self.groups)
        return self._back(found)

    def _lexical_ranking(
        self,
        query: str,
        n: int,
        mask: np.ndarray | None,
        groups: Groups = None,
        *,
        cross_lingual: bool,
    ) -> list[tuple[int, float]]:
        found = self._base._lexical_ranking(
            query, n, self._in_base(mask), self.groups, cross_lingual=cross_lingual
        )
        return self._back(found)

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        return self._base.unit_vectors([c for c in chunk_ids if c in self._rows_by_id])


def readable_manifest(
    manifest: IndexManifest | None, documents: dict[str, DocumentMeta]
) -> IndexManifest | None:
    """``manifest`` with only the reports in ``documents``, and its counts of those."""
    if manifest is None:
        return None
    entries = {d: e for d, e in manifest.documents.items() if d in documents}
    counts = IndexCounts(
        documents=len(entries),
        chunks=sum(len(e.chunk_ids) for e in entries.values()),
        pages=sum(e.page_count for e in entries.values()),
    )  # sentences: not counted per report, so not shown for a part of the index
    return manifest.model_copy(update={"documents": entries, "counts": counts})


def open_index(
    settings: IndexSettings,
    embedding_settings: EmbeddingSettings,
    *,
    embedder: Embedder | None = None,
) -> PassageSearch:
    """The index the settings choose: the folder at ``settings.path`` or, with the postgres
    backend, the database at ``settings.dsn``.

    Raises:
        SearchIndexError: as :meth:`SearchIndex.load` or ``PostgresIndex.connect``, or a
            postgres backend without an address.
    """
    if settings.backend == "files":
        return SearchIndex.load(settings.path, embedding_settings, settings, embedder=embedder)
    if not settings.dsn:
        raise IndexNotFoundError(
            "the postgres backend needs the database's address: set LEGATUS_INDEX__DSN "
            "(for a local one, the address `legatus db status` prints)"
        )
    from index.postgres.search import PostgresIndex  # the driver only when it is chosen

    return PostgresIndex.connect(settings.dsn, embedding_settings, settings, embedder=embedder)
