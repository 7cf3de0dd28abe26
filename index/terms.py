"""The terms of a text as the keyword index and the answer composer both see them.

The reports are Dutch, the questions Dutch or English. Text is lower-cased, accent-folded
("enquêtes" = "enquetes"), split into words at anything that is not a letter or digit (so
"expert-enquêtes" gives "expert" and "enquetes"), stripped of Dutch and English stop words and
stemmed (twice) with the Snowball Dutch stemmer. English words in a question pass through the Dutch
stemmer too; they still match the English terms that Dutch reports use ("deterrence", "Nuclear
Planning Group"). BM25 (index.lexical) ranks passages by these terms; the assistant matches
question terms to sentences with the same function, so the two never disagree about a word.

Example:
    >>> tokenize("De expert-enquêtes van het kabinet")
    ['expert', 'enquet', 'kabinet']
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN

from ingest.language import language_words

TOKENIZER = "fold-nl_en_stop-snowball_dutch-v1"
"""Names the tokenisation; an index saved with another one gets its BM25 rebuilt at load."""

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
