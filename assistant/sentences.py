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
    paragraph: int = 0  # which paragraph of the passage


def passage_units(text: str) -> list[str]:
    """Quotable units of a passage: sentences of paragraphs, and list items.

    Example:
        >>> passage_units("Kopje\\n\\nEerste zin is hier. Tweede zin volgt.\\n\\n- een\\n\\n- twee")
        ['Eerste zin is hier.', 'Tweede zin volgt.', '- een', '- twee']
    """
    return [text for _, text in numbered_units(text)]


def numbered_units(text: str) -> list[tuple[int, str]]:
    """``passage_units`` with the number of the paragraph each unit stands in."""
    units: list[tuple[int, str]] = []
    for number, block in enumerate(re.split(r"\n\s*\n", text)):
        block = " ".join(block.split())
        if _BULLET.match(block):
            units.append((number, block))  # an item stands alone; an announcing sentence brings it
        elif block:
            units.extend((number, block[a:b]) for a, b in split_sentences(block))
    return [(n, u) for n, u in units if len(u) >= _MIN_CHARS or _BULLET.match(u)]


def is_list_item(text: str) -> bool:
    return bool(_BULLET.match(text))


def candidates(passages: list[str]) -> list[Candidate]:
    """Every quotable unit of the passages, first occurrence only (passages overlap)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for i, text in enumerate(passages):
        for j, (paragraph, unit) in enumerate(numbered_units(text)):
            key = re.sub(r"\W+", "", unit.lower())
            if key in seen or _CONTACT.search(unit):
                continue
            seen.add(key)
            out.append(Candidate(i, j, unit, paragraph))
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


_PARTICLE = r"(?:\b(?:[Vv]an|[Dd]e|[Dd]er|[Dd]en|[Tt]en|[Tt]er|von)\s+)"
_PERSON = rf"{_PARTICLE}*\b[A-Z][a-zà-ÿ]+(?:\s+{_PARTICLE}*[A-Z][a-zà-ÿ]+){{0,2}}"
_NAMED = re.compile(
    rf"(?:\b(?:volgens|according to|by|door)\s+)?"  # "volgens Jaap de Hoop Scheffer"
    rf"{_PERSON}\s+(?:en|and|&)\s+{_PERSON}"  # "Middeldorp and Van Schaik"
    rf"|\b(?:volgens|according to)\s+{_PERSON}"
)


def without_people(question: str) -> str:
    """The question minus the people it names, for judging which sentence answers it.

    Names find the right article (search uses the whole question), but within it a byline that
    repeats the names says nothing about what the question asks.

    Example:
        >>> without_people("Why do Middeldorp and Van Schaik argue for eurobonds?")
        'Why do argue for eurobonds?'
    """
    stripped = _NAMED.sub(" ", question)
    return " ".join(stripped.split()) or question
