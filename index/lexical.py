"""BM25 over passages: Dutch stemming, Dutch and English stop words, accents folded.

The reports are Dutch, the questions Dutch or English. Text is lower-cased, accent-folded
("enquêtes" = "enquetes"), split into words at anything that is not a letter or digit (so
"expert-enquêtes" gives "expert" and "enquetes"), stripped of Dutch and English stop words and
stemmed with the Snowball Dutch stemmer. English words in a question pass through the Dutch
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

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN, STOPWORDS_EN_PLUS

_WORD = re.compile(r"[^\W_]+")
# Words bm25s's lists lack that carry no meaning in a question about a report.
_EXTRA_STOPWORDS = (
    "wel welke waarom hoe wat wie waar wanneer volgens rapport report according".split()
)


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


STOPWORDS = frozenset(_fold(w) for w in (*STOPWORDS_DUTCH, *STOPWORDS_EN, *_EXTRA_STOPWORDS))


_QUESTION_WORDS = {
    "nl": "welke waarom hoe wat wie waar wanneer volgens hoeveel noemt noemen".split(),
    "en": "what which why how who where when according does did many much".split(),
}
_LANGUAGE_WORDS = {
    "nl": frozenset(STOPWORDS_DUTCH).union(_QUESTION_WORDS["nl"]),
    "en": frozenset(STOPWORDS_EN_PLUS).union(_QUESTION_WORDS["en"]),
}
_ONLY = {
    "nl": _LANGUAGE_WORDS["nl"] - _LANGUAGE_WORDS["en"],
    "en": _LANGUAGE_WORDS["en"] - _LANGUAGE_WORDS["nl"],
}


def guess_language(text: str) -> str:
    """ "nl" or "en" by the function words only one of them has; "" when tied.

    Example:
        >>> guess_language("Which strategies does the report name?"), guess_language("Welke?")
        ('en', 'nl')
    """
    words = _WORD.findall(text.casefold())
    nl = sum(w in _ONLY["nl"] for w in words)
    en = sum(w in _ONLY["en"] for w in words)
    return "nl" if nl > en else "en" if en > nl else ""


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
    keep = [
        w
        for w in words
        if any(ch.isdigit() for ch in w)
        or (w[0].isupper() and w.casefold() not in _LANGUAGE_WORDS["en"] | _LANGUAGE_WORDS["nl"])
    ]
    return " ".join(keep)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("dutch")


def tokenize(text: str) -> list[str]:
    """The BM25 terms of ``text``: folded, split, stop words and 1-letter words dropped, stemmed."""
    words = [w for w in _WORD.findall(_fold(text)) if len(w) > 1 and w not in STOPWORDS]
    return list(_stemmer().stemWords(words))


class LexicalIndex:
    """A BM25 index over a fixed list of texts; rows are positions in that list.

    Built in memory from the texts (fast enough to rebuild on every load: see bench/RESULTS.md).

    Example:
        >>> lex = LexicalIndex(["De kernwapens van Frankrijk.", "Migratie naar Europa."])
        >>> int(lex.top("kernwapen", 1)[0][0])
        0
    """

    def __init__(self, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> None:
        self._size = len(texts)
        self._bm25 = bm25s.BM25(k1=k1, b=b)
        if self._size:
            # A passage without terms still needs a row; the empty token gives it one.
            corpus = [tokenize(t) or [""] for t in texts]
            self._bm25.index(corpus, show_progress=False)

    def __len__(self) -> int:
        return self._size

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
