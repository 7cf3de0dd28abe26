"""Deciding that the reports do not answer a question, rather than guessing.

Two signals, both deliberately conservative (a wrong citation is worse than no answer, but a
refusal of an answerable question is a failure too):

* the best sentence found is not similar enough to the question (measured on the dev set);
* the question names something specific (a number, a year, an acronym, a quoted phrase, a
  multi-word name) that none of the retrieved passages mentions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

# English acronyms in a question have Dutch twins in Dutch reports.
_ALIASES = {
    "nato": ("navo",), "uk": ("vk",), "us": ("vs",), "usa": ("vs",), "un": ("vn",),
    "gdp": ("bbp",), "cfsp": ("gbvb",), "eu": ("eu",), "ai": ("ai", "ki"),
}
_NUMBERISH = re.compile(r"\b[\w-]*\d[\w-]*\b")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
_QUOTED = re.compile(r"[“\"‘']([^”\"’']{3,60})[”\"’']")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def specific_terms(question: str) -> list[str]:
    """What a passage must mention to answer the question: numbers, acronyms, quoted phrases.

    Example:
        >>> specific_terms("Hoe groot wordt het MFK voor 2028-2034?")
        ['2028-2034', 'MFK']
    """
    terms = [t.strip("-") for t in _NUMBERISH.findall(question)]
    terms += [a for a in _ACRONYM.findall(question)]
    terms += _QUOTED.findall(question)
    return list(dict.fromkeys(t for t in terms if t))


def missing_terms(question: str, passages: Sequence[str]) -> list[str]:
    """The specific terms of the question that no passage mentions."""
    text = _fold(" ".join(passages))
    missing = []
    for term in specific_terms(question):
        key = _fold(term).rstrip("s") if term.isupper() else _fold(term)
        options = (key, *_ALIASES.get(key, ()))
        if not any(re.search(rf"(?<!\w){re.escape(o)}", text) for o in options):
            missing.append(term)
    return missing
