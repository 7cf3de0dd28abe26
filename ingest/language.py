"""Dutch or English? A guess from the function words only one of the two languages has.

Ingest guesses a report's language (when its sidecar does not say), the assistant a question's;
both use `guess_language`, a report with a stricter margin than a one-line question.

Example:
    >>> guess_language("Which strategies does the report name?"), guess_language("Welke?")
    ('en', 'nl')
    >>> guess_language("De regering heeft het voorstel van de minister niet aangenomen.")
    'nl'
"""

from __future__ import annotations

import re
from functools import cache

_WORD = re.compile(r"[^\W_]+")
# Question words are function words too, and often all a short question has of its language.
_QUESTION_WORDS = {
    "nl": "welke waarom hoe wat wie waar wanneer volgens hoeveel noemt noemen".split(),
    "en": "what which why how who where when according does did many much".split(),
}


@cache
def language_words() -> dict[str, frozenset[str]]:
    """The function words of each language (bm25s's stop words plus question words)."""
    # Imported here: bm25s loads numpy and scipy, which reading a report does not otherwise need.
    from bm25s.stopwords import STOPWORDS_DUTCH, STOPWORDS_EN_PLUS

    return {
        "nl": frozenset(STOPWORDS_DUTCH).union(_QUESTION_WORDS["nl"]),
        "en": frozenset(STOPWORDS_EN_PLUS).union(_QUESTION_WORDS["en"]),
    }


@cache
def _only() -> dict[str, frozenset[str]]:
    words = language_words()
    return {"nl": words["nl"] - words["en"], "en": words["en"] - words["nl"]}


def guess_language(text: str, *, min_words: int = 1, margin: float = 1.0) -> str:
    """ "nl" or "en" by counting the function words only one of them has; "" when unsure.

    Args:
        text: the text to judge.
        min_words: fewer such words than this in all is "unsure".
        margin: the winner must have more words than the other, and at least ``margin`` times
            as many (a report asks 1.5, so a Dutch report with English quotes stays Dutch).

    Example:
        >>> guess_language("2024 1,2 NL"), guess_language("what wat")
        ('', '')
    """
    words = _WORD.findall(text.casefold())
    only = _only()
    nl = sum(w in only["nl"] for w in words)
    en = sum(w in only["en"] for w in words)
    if nl + en < min_words:
        return ""
    if nl > en and nl >= margin * en:
        return "nl"
    if en > nl and en >= margin * nl:
        return "en"
    return ""
