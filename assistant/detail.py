"""Does a sentence give the detail a question asks for?

A question names a subject and asks for one detail of it: "Welk bedrijf heeft Solvinity
overgenomen?" is about Solvinity and asks for a company; "Hoeveel zou Nederland moeten
investeren in …?" asks for an amount of money. A report that mentions the subject without the
detail does not answer the question, and quoting the subject's sentences would look like an
answer while being none. So the answer must contain a sentence that holds both: a word of the
subject (an *anchor*) and a token of the asked-for kind (a year, a date, an amount, a
percentage, a name that the question does not already give).

Example:
    >>> from assistant.question import analyse
    >>> q = analyse("Welk bedrijf heeft Solvinity overgenomen?")
    >>> gives_detail(q, "Solvinity werd in 2025 overgenomen.", ["solvinity"])
    False
    >>> gives_detail(q, "Solvinity werd overgenomen door Kyndryl.", ["solvinity"])
    True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from assistant.question import QuestionAnalysis
from index.lexical import fold, tokenize

_MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december "
    "january february march may june july august october"
).split()
_YEAR = re.compile(r"(?<![\w.,])(1[89]\d\d|20\d\d)(?![\w])")
_DATE = re.compile(
    rf"\b(\d{{1,2}}\s+({'|'.join(_MONTHS)})|({'|'.join(_MONTHS)})\s+\d{{1,2}}\b)", re.IGNORECASE
)
_NUMBER = re.compile(
    r"(?i)(?<!figuur )(?<!figure )(?<!tabel )(?<!table )(?<!kader )(?<!artikel )"
    r"(?<![\w.,-])\d+(?:[.,]\d+)*(?![\w-]|[.,]\d)|\b(twee|drie|vier|vijf|zes|zeven|acht|negen|"
    r"tien|twintig|honderd|duizend|two|three|four|five|six|seven|eight|nine|ten|twenty|"
    r"hundred|thousand|dozens?|tientallen|honderden|duizenden)\b"
)
_MONEY = re.compile(
    r"(?i)[€$£]\s?\d|\d[\d.,]*\s*(euro|dollar|pond|mln|mld|miljoen|miljard|million|billion|"
    r"bn|m\b)|\b(euro|dollar)\b"
)
_PERCENT = re.compile(r"(?i)\d[\d.,]*\s*(%|procent|percent|procentpunt)")
_RATE = re.compile(r"(?i)\d[\d.,]*\s*(%|procent|percent|jaar|years?|maanden|months?)")
_NAME = re.compile(
    r"\b[A-Z][a-zà-ÿ'’]+(?:\s+(?:van|de|der|den|von|ter|ten|la|le|du|da))*\s+[A-Z][a-zà-ÿ'’-]+"
)
_PROPER = re.compile(r"(?<![.!?:]\s)(?<!^)\b(?:[A-Z][\w&'’-]*[a-z][\w&'’-]*|[A-Z]{2,}[\w-]*)")

# What kind of amount a quantity question asks for, by the words that ask it.
_MONEY_ASKED = re.compile(
    r"(?i)\b(investeren|investering\w*|kost\w*|cost\w*|betaal\w*|betalen|pay|paid|budget\w*|"
    r"bedrag\w*|amount|beurswaarde|marktwaarde|waarde|worth|value|prijs|price|euro|dollars?|"
    r"subsid\w*|fonds\w*|fund\w*|uitgaven|spend\w*)\b"
)
_PERCENT_ASKED = re.compile(r"(?i)\b(percentage|procent|percent|aandeel|share|proportion|deel)\b")
_RATE_ASKED = re.compile(r"(?i)\b(rente|interest|rate|looptijd|maturity|termijn)\b")
_DATE_ASKED = re.compile(r"(?i)\b(datum|date|dag|day|op welke|which day)\b")

# Words of a question that say what kind of detail it wants, not what it is about.
_DETAIL_WORDS = frozenset(
    tokenize(
        "jaar year datum date dag day percentage procent percent aandeel share bedrag amount "
        "aantal number hoeveel many much bedrijf company organisatie organisation land country "
        "stad city persoon person naam name welk welke which what who wie wanneer when waar "
        "where hoog hoge groot high large rapport report studie study auteurs authors "
        "strategische monitor clingendael hcss zegt says say noemt names beschrijft describe"
    )
)


def asked_kind(q: QuestionAnalysis) -> str:
    """The token kind the answer must hold: money, percent, rate, count, date, year, person,
    organisation, place; "" when any sentence may answer (reasons, lists, descriptions)."""
    if q.expects == "number":
        if _RATE_ASKED.search(q.text):
            return "rate"
        if _PERCENT_ASKED.search(q.text):
            return "percent"
        if _MONEY_ASKED.search(q.text):
            return "money"
        return "count"
    if q.expects == "year":
        return "date" if _DATE_ASKED.search(q.text) else "year"
    if q.expects in ("person", "organisation", "place"):
        return q.expects
    return ""


def anchors(
    question: str, idf: Mapping[str, float], keep: int = 2, *, names_only: bool = False
) -> list[str]:
    """The question's rarest subject terms (stemmed), which a sentence giving the detail must
    share: the words that ask for the detail and the report's own name are not subject terms.
    With ``names_only`` (an English question over Dutch reports, whose other words the
    reports translate) only its names, acronyms and numbers count.

    Example:
        >>> anchors("Welk bedrijf heeft Solvinity overgenomen?", {"solvinity": 5.0, "overgenom": 2.0})
        ['solvinity', 'overgenom']
    """
    if names_only:
        numbers = re.findall(r"\b\w*\d\w*\b", question)
        question = " ".join([*(m.group(0) for m in _PROPER.finditer(question.strip())), *numbers])
    terms = [t for t in dict.fromkeys(tokenize(question)) if t not in _DETAIL_WORDS]
    terms.sort(key=lambda t: -idf.get(t, max(idf.values(), default=1.0)))
    return terms[:keep]


def _new_names(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    asked = fold(question)
    return any(fold(m.group(0)).split()[-1] not in asked for m in pattern.finditer(sentence))


def has_kind(kind: str, sentence: str, question: str) -> bool:
    """``sentence`` holds a token of ``kind`` that the question does not already give."""
    if kind == "money":
        return bool(_MONEY.search(sentence))
    if kind == "percent":
        return bool(_PERCENT.search(sentence))
    if kind == "rate":
        return bool(_RATE.search(sentence))
    if kind == "count":
        asked = set(_NUMBER.findall(question))
        return any(m.group(0) not in asked for m in _NUMBER.finditer(sentence))
    if kind == "year":
        given = set(_YEAR.findall(question))
        return any(y not in given for y in _YEAR.findall(sentence))
    if kind == "date":
        return bool(_DATE.search(sentence))
    if kind == "person":
        return _new_names(_NAME, sentence, question)
    if kind in ("organisation", "place"):
        return _new_names(_PROPER, sentence, question)
    return True


def _anchored(sentence: str, terms: Sequence[str]) -> bool:
    if not terms:
        return True
    words = set(tokenize(sentence))
    return any(t in words or any(w.startswith(t) or t.startswith(w) for w in words if len(w) >= 5)
               for t in terms)  # fmt: skip


def gives_detail(q: QuestionAnalysis, sentence: str, terms: Sequence[str]) -> bool:
    """True if ``sentence`` gives the kind of detail ``q`` asks for about its subject
    (``terms``, see :func:`anchors`); always True for questions that ask for no typed detail."""
    kind = asked_kind(q)
    return not kind or (has_kind(kind, sentence, q.text) and _anchored(sentence, terms))
