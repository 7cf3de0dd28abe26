"""BM25 over passages: Dutch stemming, Dutch and English stop words, accents folded.

The reports are Dutch, the questions Dutch or English. Text is lower-cased, accent-folded
("enquêtes" = "enquetes"), split into words at anything that is not a letter or digit (so
"expert-enquêtes" gives "expert" and "enquetes"), stripped of Dutch and English stop words and
stemmed (twice) with the Snowball Dutch stemmer. English words in a question pass through the Dutch
stemmer too; they still match the English terms that Dutch reports use ("deterrence", "Nuclear
Planning Group").

Example:
    >>> tokenize("De expert-enquêtes van het kabinet")
    ['expert', 'enquet', 'kabinet']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from ingest.language import language_words
from ingest.types import Chunk

TOKENIZER = "fold-nl_en_stop-snowball_dutch-v1"
"""Names the tokenisation; an index saved with another one gets its BM25 rebuilt at load."""
K1 = 1.2
B = 0.75

_WORD = re.compile(r"[^\W_]+")
# Words bm25s's lists lack that carry no meaning in a question about a report.
_EXTRA_STOPWORDS = (
    "wel welke waarom hoe wat wie waar wanneer volgens rapport report according".split()
)


def fold(text: str) -> str:
    """Case- and accent-folded text: "Enquêtes" → "enquetes"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STOPWORDS = frozenset(fold(w) for w in (*STOPWORDS_DUTCH, *STOPWORDS_EN, *_EXTRA_STOPWORDS))


_NAME_LIKE = re.compile(r"[^\W_][\w'’-]*")


def neutral_terms(text: str) -> str:
    """The words of ``text`` that survive translation: names, acronyms and numbers.

    A question in English about a Dutch report shares these with the report ("Knapen", "ASML",
    "F-35", "2022") and little else, so BM25 uses only these across languages.

    Example:
        >>> neutral_terms("Why does Macron mention the F-35 and ASML in 2026?")
        'Macron F-35 ASML 2026'
    """
    words = _NAME_LIKE.findall(text)
    function_words = language_words()["en"] | language_words()["nl"]
    keep = [
        w
        for w in words
        if any(ch.isdigit() for ch in w) or (w[0].isupper() and w.casefold() not in function_words)
    ]
    return " ".join(keep)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("dutch")


def tokenize(text: str) -> list[str]:
    """The BM25 terms of ``text``: folded, split, stop words and 1-letter words dropped, stemmed."""
    words = [w for w in _WORD.findall(fold(text)) if len(w) > 1 and w not in STOPWORDS]
    stem = _stemmer().stemWords
    # Twice: Snowball Dutch takes "kernwapens" to "kernwapen" but "kernwapen" to "kernwaap";
    # a second pass brings the plural to the singular's stem (it leaves other stems as they are).
    return list(stem(stem(words)))


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
        """The ``n`` best rows with a positive score, best first; ``mask`` (bool) limits rows.

        ``query`` is a query string, or the scores :meth:`scores` gave for one.
        """
        scores = self.scores(query) if isinstance(query, str) else query
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        n = min(n, int(np.count_nonzero(scores > 0)))
        if n <= 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best]
