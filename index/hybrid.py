"""Hybrid search: passage vectors, sentence vectors and BM25 fused by reciprocal rank; neighbouring
passages of one section merged into one.

Three rankings are fused: the passages' own vectors, the passages' best-matching sentence
(index.sentences) and BM25. Passages that follow each other in one section and both rank high are
returned as one merged passage (a span of up to ``merge_neighbours`` stored passages, gaps of one
filled), so the top results show an argument whole instead of its pieces.

Example:
    >>> index = SearchIndex.load(Path("~/.local/share/legatus/index"), EmbeddingSettings())
    ... # doctest: +SKIP
    >>> for hit in index.search("Wat is de Nuclear Planning Group?", k=3):  # doctest: +SKIP
    ...     print(hit.rank, hit.document.title, hit.chunk.section_label, hit.page)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from index.dense import DenseIndex, vector_id
from index.embedding import Embedder, get_embedder
from index.lexical import (
    K1,
    TOKENIZER,
    B,
    LexicalIndex,
    lexical_texts,
    neutral_terms,
)
from index.sentences import SentenceIndex
from index.settings import EmbeddingSettings, IndexSettings
from index.store import REBUILD_HINT, read_index
from index.types import (
    EmbeddingInfo,
    Hit,
    IndexManifest,
    IndexMismatchError,
    LexicalInfo,
    SearchFilters,
)
from ingest.language import guess_language
from ingest.types import Chunk, DocumentMeta, PageStart
from ingest.units import footnote_opening

Mode = Literal["hybrid", "dense", "lexical"]


@dataclass(frozen=True)
class Candidate:
    """A passage (by row) with what each retriever said about it."""

    row: int
    score: float
    dense: tuple[int, float] | None = None  # (1-based rank, cosine)
    lexical: tuple[int, float] | None = None  # (1-based rank, BM25)
    sentence: tuple[int, float] | None = None  # (1-based rank, cosine of the best sentence)


def fuse(
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    *,
    rrf_k: float = 60.0,
    dense_weight: float = 1.0,
    lexical_weight: float = 1.0,
    sentence: Sequence[tuple[int, float]] = (),
    sentence_weight: float = 1.0,
) -> list[Candidate]:
    """Reciprocal-rank fusion of rankings of rows, best first.

    A row scores ``dense_weight / (rrf_k + dense_rank) + lexical_weight / (rrf_k + lexical_rank)
    + sentence_weight / (rrf_k + sentence_rank)`` (a missing rank adds nothing). Ties keep the
    dense order, then the lexical order, then the sentence order.

    Example:
        >>> [c.row for c in fuse([(1, 0.9), (2, 0.8)], [(2, 7.0), (3, 5.0)])]
        [2, 1, 3]
    """
    found: dict[int, dict[str, tuple[int, float]]] = {}
    rankings = (("dense", dense, dense_weight), ("lexical", lexical, lexical_weight),
                ("sentence", sentence, sentence_weight))  # fmt: skip
    for name, ranking, _ in rankings:
        for rank, (row, score) in enumerate(ranking, start=1):
            found.setdefault(row, {})[name] = (rank, score)
    candidates = []
    for row, seen in found.items():
        score = sum(w / (rrf_k + seen[name][0]) for name, _, w in rankings if name in seen)
        candidates.append(
            Candidate(row, score, seen.get("dense"), seen.get("lexical"), seen.get("sentence"))
        )
    return sorted(candidates, key=lambda c: -c.score)  # stable: insertion order breaks ties


def single(
    ranking: Sequence[tuple[int, float]], kind: Literal["dense", "lexical"]
) -> list[Candidate]:
    """Candidates from one retriever's ranking, scored by that retriever."""
    return [
        Candidate(row, score, **{kind: (rank, score)})
        for rank, (row, score) in enumerate(ranking, start=1)
    ]


def drop_overlapping(
    candidates: Sequence[Candidate], chunks: Sequence[Chunk], k: int, max_overlap: float = 0.5
) -> list[Candidate]:
    """The first ``k`` candidates, setting aside any that shares more than ``max_overlap`` of its
    text (or of the other's, if shorter) with one already taken from the same report; those set
    aside fill up the list only if fewer than ``k`` remain.

    Example:
        >>> from ingest.types import Chunk
        >>> cs = [Chunk.create("d", "x" * 10, s, s + 10, (), title="T", ordinal=0)
        ...       for s in (0, 2, 8)]
        >>> [c.row for c in drop_overlapping([Candidate(r, 1.0) for r in (0, 1, 2)], cs, 2)]
        [0, 2]
    """
    taken: list[Candidate] = []
    skipped: list[Candidate] = []
    for cand in candidates:
        if len(taken) == k:
            break
        piece = chunks[cand.row]
        if any(overlap_share(piece, chunks[t.row]) > max_overlap for t in taken):
            skipped.append(cand)
        else:
            taken.append(cand)
    return taken + skipped[: k - len(taken)]


def overlap_share(a: Chunk, b: Chunk) -> float:
    """Characters two passages of one report share, as a share of the shorter; 0 across reports."""
    if a.doc_id != b.doc_id:
        return 0.0
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(shared, 0) / max(min(a.end - a.start, b.end - b.start), 1)


@dataclass
class Span:
    """Neighbouring passages of one section returned as one: rows ``first..last`` (store order)."""

    best: Candidate  # the best-ranked passage in it: its scores are the span's
    first: int
    last: int

    @property
    def rows(self) -> range:
        return range(self.first, self.last + 1)


def merge_neighbours(
    candidates: Sequence[Candidate], chunks: Sequence[Chunk], k: int, size: int, scan: int
) -> list[Span]:
    """The first ``k`` spans: a candidate next to a span already taken (same report and section,
    at most one passage between) joins it while the span stays within ``size`` passages, else
    it starts a span of its own. Once ``k`` spans stand, the candidates up to position ``scan``
    may still join them; then the scan stops.

    Example:
        >>> from ingest.types import Chunk
        >>> cs = [Chunk.create("d", "x", i, i + 1, ("S",), title="T", ordinal=i) for i in range(5)]
        >>> spans = merge_neighbours([Candidate(r, 1.0) for r in (2, 4, 0)], cs, 2, 3, 10)
        >>> [(s.first, s.last) for s in spans]
        [(2, 4), (0, 0)]
        >>> spans = merge_neighbours([Candidate(r, 1.0) for r in (0, 1, 2, 3, 4)], cs, 2, 3, 2)
        >>> [(s.first, s.last) for s in spans]  # all neighbours: scan on until k spans stand
        [(0, 2), (3, 3)]
    """
    spans: list[Span] = []
    for position, cand in enumerate(candidates):
        if position >= scan and len(spans) >= k:
            break
        piece = chunks[cand.row]
        if any(s.first <= cand.row <= s.last for s in spans):
            continue
        for span in spans:  # a span lies in one section of one report
            head = chunks[span.first]
            first, last = min(span.first, cand.row), max(span.last, cand.row)
            if (
                (head.doc_id, head.section) == (piece.doc_id, piece.section)
                and span.first - 2 <= cand.row <= span.last + 2
                and last - first < size
            ):
                span.first, span.last = first, last
                break
        else:
            if len(spans) < k:
                spans.append(Span(cand, cand.row, cand.row))
    return spans


def join_passages(pieces: Sequence[Chunk]) -> Chunk:
    """Consecutive passages of one document as one passage (their overlaps counted once; the
    whitespace between passages that do not overlap restored as a space or a paragraph break, so
    the text stays as long as ``end - start``).

    Example:
        >>> from ingest.types import Chunk
        >>> text = "Een. Twee. Drie."
        >>> a = Chunk.create("d", text[0:10], 0, 10, ("S",), title="T", ordinal=0, page=1)
        >>> b = Chunk.create("d", text[5:16], 5, 16, ("S",), title="T", ordinal=1, page=2)
        >>> joined = join_passages([a, b])
        >>> joined.text, joined.page, joined.page_end
        ('Een. Twee. Drie.', 1, 2)
    """
    if len(pieces) == 1:
        return pieces[0]
    text = pieces[0].text
    end = pieces[0].end
    for piece in pieces[1:]:
        if piece.start <= end:
            text += piece.text[end - piece.start :]
        else:  # the whitespace between two passages: a space, or a paragraph break
            gap = piece.start - end
            text += (" " if gap == 1 else "\n\n" + " " * (gap - 2)) + piece.text
        end = max(end, piece.end)
    first = pieces[0]
    pages = [p for piece in pieces for p in (piece.page, piece.page_end) if p is not None]
    return Chunk.create(
        first.doc_id, text, first.start, end, first.section, title=first.title,
        ordinal=first.ordinal, page=min(pages, default=None),
        page_end=max(pages, default=None), page_label=first.page_label,
        section_page=first.section_page, page_starts=_joined_page_starts(pieces),
    )  # fmt: skip


def _joined_page_starts(pieces: Sequence[Chunk]) -> tuple[PageStart, ...]:
    """The page starts inside consecutive passages joined into one: each piece's own, and its
    first page where it begins on another page than the text before it."""
    starts = [s for piece in pieces for s in piece.page_starts]
    starts += [(p.start, p.page, p.page_label) for p in pieces[1:] if p.page is not None]
    out: list[PageStart] = []
    page = pieces[0].page
    for start in sorted(starts, key=lambda s: (s[0], s[1])):
        if start[1] != page:
            out.append(start)
            page = start[1]
    return tuple(out)


class SearchIndex:
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
        self.manifest = manifest
        self.settings = settings or IndexSettings()
        self.chunks: tuple[Chunk, ...] = tuple(chunks)
        self.documents: dict[str, DocumentMeta] = {
            doc_id: entry.meta() for doc_id, entry in manifest.documents.items()
        }
        self._dense = dense
        self._embedder = embedder
        self._vector_ids = np.fromiter((vector_id(c.id) for c in self.chunks), dtype=np.int64)
        self._row_of = {int(v): row for row, v in enumerate(self._vector_ids)}
        self._rows_by_id = {c.id: row for row, c in enumerate(self.chunks)}
        self._doc_rows = np.array([c.doc_id for c in self.chunks], dtype=object)
        self._languages = np.array(
            [self.documents[c.doc_id].language for c in self.chunks], dtype=object
        )
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

    def __len__(self) -> int:
        return len(self.chunks)

    def chunk(self, chunk_id: str) -> Chunk:
        """The passage with this id.

        Raises:
            KeyError: no passage has this id.
        """
        return self.chunks[self._rows_by_id[chunk_id]]

    def footnote(self, chunk_id: str, number: str, reach: int = 4) -> tuple[Hit, list[str]] | None:
        """Footnote ``number`` as cited in passage ``chunk_id``: the first stored passage of the
        same report, from that one up to ``reach`` passages on, with a paragraph opening with
        the number ("5 Atlantic Council, …"), as a hit (rank 0: it was not searched for; score
        0), and the footnote's units. None if there is no such passage (or no ``chunk_id``)."""
        row = self._rows_by_id.get(chunk_id)
        if row is None:
            return None
        doc = self.chunks[row].doc_id
        for piece in self.chunks[row : row + reach + 1]:
            if piece.doc_id != doc:
                break
            units = footnote_opening(piece.text, number)
            if units:
                hit = Hit(piece, self.documents[doc], 0, 0.0, parts=(piece.id,))
                return hit, units
        return None

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
            candidates = single(self._lexical.top(query, n, mask), "lexical")
        else:
            vector = self._query_vector(query)
            candidates = fuse(
                self._dense_ranking(vector, n, mask),
                self._lexical.top(self._lexical_scores(query), n, mask),
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
        out: dict[str, np.ndarray] = {}
        for chunk_id in chunk_ids:
            row = self._rows_by_id.get(chunk_id)
            if row is not None:
                vid = int(self._vector_ids[row])
                out.update(self._sentences.unit_vectors(self.chunks[row], vid))
        return out

    def _lexical_scores(self, query: str) -> np.ndarray:
        """BM25 scores; for passages in another language than the question, only the question's
        names, acronyms and numbers count (its other words are mostly noise there)."""
        scores = self._lexical.scores(query)
        language = guess_language(query)
        if not self.settings.cross_lingual_terms or not language:
            return scores
        other = (self._languages != language) & (self._languages != "")
        if not other.any():
            return scores
        return np.where(other, self._lexical.scores(neutral_terms(query)), scores)

    def _mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or not filters.active:
            return None
        allowed = [doc_id for doc_id, meta in self.documents.items() if filters.accepts(meta)]
        return np.isin(self._doc_rows, np.array(allowed, dtype=object))

    def _query_vector(self, query: str) -> np.ndarray:
        vector = self._embedder.encode_queries([query])[0]
        if vector.shape[-1] != self._dense.dimension:
            raise IndexMismatchError(
                f"the model makes {vector.shape[-1]}-dimensional vectors but the index holds "
                f"{self._dense.dimension}-dimensional ones; {REBUILD_HINT}"
            )
        return vector

    def _dense_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None
    ) -> list[tuple[int, float]]:
        allowed = self._vector_ids[mask] if mask is not None else None
        found = self._dense.search(vector, n, allowed)
        return [(self._row_of[vid], score) for vid, score in found]

    def _sentence_ranking(
        self, vector: np.ndarray, n: int, mask: np.ndarray | None
    ) -> list[tuple[int, float]]:
        """Passages by the cosine of their best-matching sentence, best first."""
        scores = self._sentences.best_per_run(vector)
        rows = self._sentence_rows
        if mask is not None:
            keep = mask[rows]
            rows, scores = rows[keep], scores[keep]
        if len(scores) > n:  # the n best, and any tied with the n-th
            cut = np.partition(scores, len(scores) - n)[len(scores) - n]
            keep = scores >= cut
            rows, scores = rows[keep], scores[keep]
        order = np.lexsort((rows, -scores))[:n]  # ties: report order
        return [(int(rows[i]), float(scores[i])) for i in order]

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


def lexical_info(settings: IndexSettings) -> LexicalInfo:
    """How the BM25 index is built under ``settings``, for the manifest."""
    return LexicalInfo(
        tokenizer=TOKENIZER, k1=K1, b=B, section_context=settings.lexical_section_context
    )


def embedding_info(embedder: Embedder) -> EmbeddingInfo:
    """How ``embedder`` makes vectors, for the manifest (loads the model to learn its dimension)."""
    s = embedder.settings
    return EmbeddingInfo(
        model=s.model,
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        normalized=True,
        query_prompt=s.query_prompt,
        passage_prompt=s.passage_prompt,
    )


def check_embedding(stored: EmbeddingInfo, embedder: Embedder, *, where: Path) -> None:
    """Refuse an index whose vectors another model (or prompt) made: they are not comparable.

    Raises:
        IndexMismatchError: the model id or a prompt differs.
    """
    s = embedder.settings
    mine = {"model": embedder.model_id, "query prompt": s.query_prompt,
            "passage prompt": s.passage_prompt}  # fmt: skip
    theirs = {"model": stored.model_id, "query prompt": stored.query_prompt,
              "passage prompt": stored.passage_prompt}  # fmt: skip
    for what, value in mine.items():
        if theirs[what] != value:
            raise IndexMismatchError(
                f"the index at {where} was built with embedding {what} {theirs[what]!r}, but "
                f"{value!r} is configured; {REBUILD_HINT}, or set LEGATUS_EMBEDDING__MODEL back "
                f"to {stored.model!r}"
            )
