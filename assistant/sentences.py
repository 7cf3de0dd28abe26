"""Cutting passages into the sentences an answer can quote, and scoring them against a question."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.evidence import is_heading
from index.terms import fold, tokenize
from ingest.units import (
    is_list_item,
    numbered_units,
)

__all__ = [
    "Candidate",
    "announced_count",
    "candidates",
    "prose_share",
    "question_parts",
    "report_names",
    "without_reports",
    "term_overlap",
    "without_people",
]

# Colophon and contact lines: never an answer.
_CONTACT = re.compile(r"@|www\.|https?://|P\.O\.|©|\b\d{4} ?[A-Z]{2}\b|Follow us|Email:")


@dataclass(frozen=True)
class Candidate:
    """A sentence (or a run of list items) of one retrieved passage."""

    passage: int  # index into the retrieved passages
    position: int  # order inside the passage
    text: str
    paragraph: int = 0  # which paragraph of the passage


def candidates(passages: Sequence[str], sections: Sequence[Sequence[str]] = ()) -> list[Candidate]:
    """Every quotable unit of the passages, first occurrence only (passages overlap).

    Headings are not quotable (an answer is never a heading alone): a unit that is one of the
    passage's section headings (``sections[i]``), or reads as a heading, is left out.
    """
    seen: set[str] = set()
    out: list[Candidate] = []
    for i, text in enumerate(passages):
        section = sections[i] if i < len(sections) else ()
        for j, (paragraph, unit) in enumerate(numbered_units(text)):
            key = re.sub(r"\W+", "", unit.lower())
            if key in seen or _CONTACT.search(unit):
                continue
            if not is_list_item(unit) and is_heading(unit, section):
                continue
            seen.add(key)
            out.append(Candidate(i, j, unit, paragraph))
    return out


def term_overlap(question_terms: set[str], text: str, weights: dict[str, float]) -> float:
    """Share of the question's term weight that ``text`` contains (0..1).

    A long question term also counts when the text has its head: a Dutch compound or inflection
    begins with it ("helikoptertypes" is met by "helikopter", "hervormd" by "hervorming",
    whose stem is "hervorm").

    Example:
        >>> term_overlap({"helikoptertype"}, "De marine heeft een helikopter.", {})
        1.0
    """
    if not question_terms:
        return 0.0
    terms = set(tokenize(text))
    heads = [t for t in terms if len(t) >= _HEAD_CHARS]
    total = sum(weights.get(t, 1.0) for t in question_terms)
    met = (
        t
        for t in question_terms
        if t in terms or (len(t) >= _COMPOUND_CHARS and any(t.startswith(h) for h in heads))
    )
    return sum(weights.get(t, 1.0) for t in met) / total


_COMPOUND_CHARS = 7  # a question term this long may be met by its head ...
_HEAD_CHARS = 5  # ... of at least this many characters


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


_ASKS = (
    r"(?:(?:in|uit|op|aan|met|tussen|voor|van|from|to|with|for|between|on|at)\s+)?"
    r"(?:wat|welke?|waar\w*|hoe|waarom|wie|wanneer|hoeveel|what|which|how|why|who|whom|where|when)"
)
_PART_BREAK = re.compile(rf"(?:,|;)?\s+(?:en|and)\s+(?={_ASKS}\b)|;\s+", re.IGNORECASE)


def question_parts(question: str) -> list[str]:
    """The sub-questions of a question that asks two things, or [] for a single question.

    A part starts at "en"/"and" followed by a question word ("…, en uit welk jaar stamt die
    toespraak?"); parts without a content word of their own ("en waarom?") stay with the whole.

    Example:
        >>> question_parts("Wie citeren zij over defensie, en uit welk jaar stamt die toespraak?")
        ['Wie citeren zij over defensie', 'uit welk jaar stamt die toespraak']
        >>> question_parts("Hoe hoog is het risico, en waarom?")
        []
    """
    parts = [p.strip(" ?,;") for p in _PART_BREAK.split(question)]
    parts = [p for p in parts if tokenize(p)]
    return parts if len(parts) > 1 else []


_COUNTS = {
    "twee": 2, "drie": 3, "vier": 4, "vijf": 5,
    "two": 2, "three": 3, "four": 4, "five": 5,
}  # fmt: skip
_ANNOUNCED = re.compile(rf"\b({'|'.join(_COUNTS)})\s+(?:\w+\s+)?\w+(?:en|s|ies)\b", re.IGNORECASE)


def announced_count(sentence: str) -> int:
    """How many things a sentence announces ("nog twee grote hindernissen" → 2), else 0.

    Example:
        >>> announced_count("De EU moet nog twee grote hindernissen nemen.")
        2
        >>> announced_count("Het rapport noemt three options."), announced_count("Geen telling.")
        (3, 0)
    """
    match = _ANNOUNCED.search(sentence)
    return _COUNTS[match.group(1).lower()] if match else 0


def report_names(titles_and_publishers: Sequence[str]) -> list[str]:
    """The short names a question may call a report by, from its title and publisher:
    "State of the Union 2026 – Expert Views" gives "state of the union" and "expert views",
    "HCSS en Instituut Clingendael" gives "hcss", "instituut clingendael" and "clingendael".

    Example:
        >>> report_names(["Samenhangen – Strategische Monitor 2022: over autonomie", "HCSS"])
        ['samenhangen', 'strategische monitor', 'over autonomie', 'hcss']
    """
    names: list[str] = []
    for text in titles_and_publishers:
        for part in re.split(r"\s+[–—-]\s+|:\s+|\s+(?:en|and|&)\s+|,\s*", text):
            part = re.sub(r"\b(19|20)\d\d\b", " ", fold(part))
            part = " ".join(part.split())
            if part and len(part.split()) <= 5:
                names.append(part)
                if len(part.split()) == 2 and part.split()[0] in ("instituut", "institute"):
                    names.append(part.split()[1])
    return list(dict.fromkeys(names))


_REF_LEAD = (
    r"(?:(?:volgens|according to|in|of|van|by|door|from|uit)\s+)?(?:de|het|the|een|a)?\s*"
    r"(?:(?:19|20)\d\d\s+)?"
)


def without_reports(question: str, names: Sequence[str]) -> str:
    """The question minus the names of the reports it refers to ("volgens de Strategische
    Monitor", "in the 2022 Strategic Monitor"), for judging which sentence answers it: a
    sentence that repeats the report's name says nothing about what the question asks.
    Words match by their first six letters, so an English rendering of a Dutch name goes too.

    Example:
        >>> without_reports("What does the 2022 Strategic Monitor recommend?",
        ...                 ["strategische monitor"])
        'What does recommend?'
    """
    text = question
    for name in names:
        words = [re.escape(w[:6]) + r"\w*" for w in name.split()]
        pattern = _REF_LEAD + r"\s+".join(words) + r"(?:[’']s)?(?:\s+(?:19|20)\d\d)?(?:-\w+)?\b"
        text = re.sub(rf"(?i)(?<!\w){pattern}", " ", _strip_accents(text))
    stripped = " ".join(text.split())
    return stripped if tokenize(stripped) else question


def _strip_accents(text: str) -> str:
    """``text`` with accents removed (so "coöperatie" meets "cooperatie"), case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
