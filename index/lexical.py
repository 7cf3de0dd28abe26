"""BM25 over passages, on the terms of index.terms (Dutch stemming, stop words, accents folded).

Each passage is indexed with its header and its sections' leads (:func:`lexical_texts`), so
that a passage deep in a chapter still matches the chapter's theme and authors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from index.terms import TOKENIZER, tokenize
from ingest.types import Chunk

__all__ = ["B", "K1", "TOKENIZER", "LexicalIndex", "lexical_texts"]

K1 = 1.2
B = 0.75


def lexical_texts(chunks: Sequence[Chunk], context: int) -> list[str]:
    """What BM25 indexes for each passage: header and text, then the first ``context``
    characters of each enclosing section's first passage (its lead: in an edited volume, the
    chapter's question and its authors), so that a passage deep in a chapter still matches the
    chapter's authors and theme.

    Example:
        >>> a = Chunk.create("d", "Door Jan Jansen.", 0, 16, ("H1",), title="T", ordinal=0)
        >>> b = Chunk.create("d", "Tekst.", 17, 23, ("H1", "H2"), title="T", ordinal=1)
        >>> lexical_texts([a, b], 100)[1]
        'T — H1 › H2\\nTekst.\\nDoor Jan Jansen.'
    """
    leads: dict[tuple[str, tuple[str, ...]], str] = {}
    for piece in chunks:
        leads.setdefault((piece.doc_id, piece.section), piece.text[:context])
    texts = []
    for piece in chunks:
        parents = (
            leads.get((piece.doc_id, piece.section[:i])) for i in range(1, len(piece.section))
        )
        extra = [lead for lead in parents if lead] if context else []
        texts.append("\n".join([piece.embedding_text(), *extra]))
    return texts


class LexicalIndex:
    """A BM25 index over a fixed list of texts; rows are positions in that list.

    Saved with the index (:meth:`save`, :meth:`load`): rebuilding it at load takes seconds at
    100,000 passages, reading it milliseconds (bench/RESULTS.md).

    Example:
        >>> lex = LexicalIndex(["De kernwapens van Frankrijk.", "Migratie naar Europa."])
        >>> int(lex.top("kernwapen", 1)[0][0])
        0
    """

    def __init__(self, texts: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        self._size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self._size:
            # A passage without terms still needs a row; the empty token gives it one.
            corpus = [tokenize(t) or [""] for t in texts]
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return self._size

    def save(self, folder: Path) -> None:
        """Write the index into ``folder`` (created); nothing is written for an empty index."""
        folder.mkdir(parents=True, exist_ok=True)
        if self._size:
            self._bm25.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> LexicalIndex:
        """Read an index written by :meth:`save` over ``size`` texts.

        Raises:
            OSError, ValueError: the folder is missing, unreadable, or holds another size.
        """
        index = cls([])
        if size:
            index._bm25 = bm25s.BM25.load(str(folder))
            index._size = int(index._bm25.scores["num_docs"])
            if index._size != size:
                raise ValueError(f"{folder}: BM25 index of {index._size} passages, not {size}")
        return index

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (float32, zeros when no term is known)."""
        if not self._size:
            return np.zeros(0, dtype=np.float32)
        ids = self._bm25.get_tokens_ids(tokenize(query))
        if not ids:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores_from_ids(ids), dtype=np.float32)

    def top(
        self, query: str | np.ndarray, n: int, mask: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``n`` best rows with a positive score, best first, equal scores in row order
        (every backend breaks ties so); ``mask`` (bool) limits rows.

        ``query`` is a query string, or the scores :meth:`scores` gave for one.
        """
        scores = self.scores(query) if isinstance(query, str) else query
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, int(np.count_nonzero(scores > 0)))
        if n <= 0:
            return []
        cut = np.partition(scores, len(scores) - n)[len(scores) - n]  # the n-th best score
        rows = np.flatnonzero(scores >= cut)  # the n best and any tied with the n-th
        best = rows[np.lexsort((rows, -scores[rows]))][:n]
        return [(int(i), float(scores[i])) for i in best]
