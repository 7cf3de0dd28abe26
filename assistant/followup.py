"""Turning a follow-up question into one that stands alone, without an LLM."""

from __future__ import annotations

import re
from collections.abc import Sequence

_LEADS = re.compile(
    r"^(en|maar|ook|dus|and|but|also|so|what about|how about|hoe zit het( dan)? met|"
    r"wat dan met|en wat|en hoe|en waarom|en wie)\b",
    re.IGNORECASE,
)
_PRONOUNS = frozenset(
    "hij zij ze zijn haar hun hen dit dat deze die daar daarover ervan erover it its they "
    "their them this that these those he she his her there".split()
)


def needs_context(question: str) -> bool:
    """Whether a question leans on the conversation before it.

    Example:
        >>> needs_context("En wat zegt het over China?"), needs_context("Wat is de EU?")
        (True, False)
    """
    words = re.findall(r"[\w'-]+", question.lower())
    if _LEADS.match(question.strip()):
        return True
    return len(words) <= 7 and any(w in _PRONOUNS for w in words)


def rewrite_followup(history: Sequence[tuple[str, str]], question: str) -> str:
    """The question, completed with the previous question when it depends on it.

    ``history`` holds (question, answer) pairs, oldest first.

    Example:
        >>> rewrite_followup([("Wat zegt het rapport over techno-nationalisme?", "…")],
        ...                  "En wat zegt het over China?")
        'En wat zegt het over China? (Wat zegt het rapport over techno-nationalisme?)'
    """
    if not history or not needs_context(question):
        return question
    previous = history[-1][0].strip()
    return f"{question.strip()} ({previous})"
