"""Cutting passages into the sentences an answer can quote, and scoring them against a question."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import tokenize
from ingest.chunking import split_sentences

_BULLET = re.compile(r"^\s*(?:[-•▪●◦–]|\d{1,2}[.)])\s")
_MIN_CHARS = 25
# Colophon and contact lines: never an answer.
_CONTACT = re.compile(r"@|www\.|https?://|P\.O\. Box|\b\d{4} ?[A-Z]{2}\b|Follow us|Email:")


@dataclass(frozen=True)
class Candidate:
    """A sentence (or a run of list items) of one retrieved passage."""

    passage: int  # index into the retrieved passages
    position: int  # order inside the passage
    text: str


def passage_units(text: str) -> list[str]:
    """Quotable units of a passage: sentences of paragraphs, list items kept together.

    Example:
        >>> passage_units("Kopje\\n\\nEerste zin is hier. Tweede zin volgt.\\n\\n- een\\n\\n- twee")
        ['Eerste zin is hier.', 'Tweede zin volgt.', '- een - twee']
    """
    units: list[str] = []
    items: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        if not block:
            continue
        if _BULLET.match(block):
            items.append(block)
            continue
        if items:
            units.append(" ".join(items))
            items = []
        units.extend(block[a:b] for a, b in split_sentences(block))
    if items:
        units.append(" ".join(items))
    return [u for u in units if len(u) >= _MIN_CHARS or _BULLET.match(u)]


def candidates(passages: list[str]) -> list[Candidate]:
    """Every quotable unit of the passages, first occurrence only (passages overlap)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for i, text in enumerate(passages):
        for j, unit in enumerate(passage_units(text)):
            key = re.sub(r"\W+", "", unit.lower())
            if key in seen or _CONTACT.search(unit):
                continue
            seen.add(key)
            out.append(Candidate(i, j, unit))
    return out


def term_overlap(question_terms: set[str], text: str, weights: dict[str, float]) -> float:
    """Share of the question's term weight that ``text`` contains (0..1)."""
    if not question_terms:
        return 0.0
    terms = set(tokenize(text))
    total = sum(weights.get(t, 1.0) for t in question_terms)
    return sum(weights.get(t, 1.0) for t in question_terms & terms) / total


def prose_share(text: str) -> float:
    """Share of words that are lower-case words: low for name lists, bylines, table headers."""
    words = re.findall(r"[^\W\d_]+", text)
    return sum(w.islower() for w in words) / len(words) if words else 0.0
