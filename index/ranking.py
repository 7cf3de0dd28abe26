"""Pure ranking: reciprocal-rank fusion of the retrievers' rankings, and neighbouring passages of
one section merged into one.

Three rankings are fused: the passages' own vectors, the passages' best-matching sentence
(index.sentences) and BM25. Passages that follow each other in one section and both rank high are
returned as one merged passage (a span of up to ``merge_neighbours`` stored passages, gaps of one
filled), so the top results show an argument whole instead of its pieces. Every function here
works on rows and scores alone, so that any backend (index.search, a database) ranks alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ingest.types import Chunk, PageStart


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
