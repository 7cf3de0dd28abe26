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
from collections.abc import Mapping

from assistant.question import QuestionAnalysis
from assistant.refusal import COUNTRY_STEMS, PLACES
from index.terms import fold, tokenize

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
_PROPER = re.compile(
    r"\b[A-Z]{2,}[\w-]*|(?<![.!?:]\s)(?<![.!?:]\s\*\*)(?<!^)(?<!^\*\*)\b[A-Z][\w&'’-]*[a-z][\w&'’-]*"
)
_ROLE_NAME = re.compile(
    r"\b(premier|minister|president|commissaris|generaal|koning|koningin|kanselier|"
    r"prime minister|chancellor|secretary|professor|prof\.|dr\.)\s+(?:\*\*)?[A-Z][a-zà-ÿ'’-]+"
)
# Capitalised adjectives of place and people ("Europese", "Chinese"): not names.
PLACE_ADJECTIVE = re.compile(r"(?i)(se|sche|isch|ese|ian|ean|an)$")

# What kind of amount a quantity question asks for, by the words that ask it.
_MONEY_ASKED = re.compile(
    r"(?i)\b(investeren|investering\w*|kost\w*|cost\w*|betaal\w*|betalen|pay|paid|budget\w*|"
    r"bedrag\w*|amount|beurswaarde|marktwaarde|waarde|worth|value|prijs|price|euro|dollars?|"
    r"subsid\w*|fonds\w*|fund\w*|uitgaven|spend\w*|lening\w*|loans?|leen\w*)\b"
)
_PERCENT_ASKED = re.compile(r"(?i)\b(percentage|procent|percent|aandeel|share|proportion|deel)\b")
_RATE_ASKED = re.compile(r"(?i)\b(rente|interest|rate|looptijd|maturity|termijn)\b")
_DATE_ASKED = re.compile(r"(?i)\b(datum|date|dag|day|op welke|which day)\b")

# Capitalised words that name nothing specific enough to tie a detail to a subject.
_GENERIC_NAMES = frozenset(
    "eu navo nato vs us usa vn un europa europe europees europese european nederland "
    "nederlandse netherlands dutch strategische strategic monitor state union clingendael "
    "hcss rapport report expert views united states kingdom".split()
)
_NOTE = re.compile(r"^\W{0,2}[\d⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}\s+\S")

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
    if _PLACES_ASKED.search(q.text):
        return "place"
    if q.expects == "list" and q.list_noun:
        return _NAMED_LISTS.get(fold(q.list_noun), "")
    return ""


# "Welke landen …" asks for countries by name, whether or not it reads as a list question.
_PLACES_ASKED = re.compile(
    r"(?i)\b(welke|which|what)\s+(?:\w+\s+)?(landen|lidstaten|countries|member states|steden|"
    r"cities)\b"
)


# The list nouns whose items are names: a list of them must name at least one.
_NAMED_LISTS = {
    "bedrijven": "organisation", "companies": "organisation", "firms": "organisation",
    "organisaties": "organisation", "organisations": "organisation",
    "organizations": "organisation", "auteurs": "person", "authors": "person",
    "onderzoekers": "person", "researchers": "person",
}  # fmt: skip


Anchors = list[tuple[str, ...]]
"""Groups of stemmed subject terms, rarest group first; a group is one name ("Joint
Interagency Task Force-South (JIATFS)" is one group of five terms) or one content word."""

_NAME_RUN = re.compile(
    rf"(?:{_PROPER.pattern})(?:\s+(?:(?:{_PROPER.pattern})|van|de|der|of|the|and|\(|\)))*\)?"
)


def anchors(
    question: str, idf: Mapping[str, float], keep: int = 2, *, cross_lingual: bool = False
) -> Anchors:
    """The question's subject terms that the reports use, which a sentence giving the detail
    (or its paragraph) must share: its names, acronyms and numbers when it has any (they
    identify a subject in any language), else its ``keep`` rarest content words (none for a
    question in another language than the reports, whose words they translate). Words that
    ask for the detail, generic names (the EU, the reports' own names) and years do not count.

    Example:
        >>> anchors("Welk bedrijf kocht Solvinity?", {"solvinity": 5.0, "kocht": 2.0})
        [('solvinity',)]
    """
    groups: list[tuple[str, ...]] = []
    for match in _NAME_RUN.finditer(question.strip()):
        words = [
            w for w in re.findall(r"[\w'’-]+", match.group(0)) if fold(w) not in _GENERIC_NAMES
        ]
        words = [PLACES.get(fold(w), w) for w in words]  # "Ukraine": the report's "Oekraïne"
        group = tuple(t for t in tokenize(" ".join(words)) if _in_vocabulary(t, idf))
        group = tuple(t for t in dict.fromkeys(group) if t not in _DETAIL_WORDS)
        # a name's common words ("Intelligence" in "Intelligence College Europe") do not
        # identify it: keep its rare ones when it has any
        rare = tuple(t for t in group if idf.get(t, _RARE) >= _RARE)
        if rare or group:
            groups.append(rare or group)
    numbers = [n for n in re.findall(r"\b\w*\d\w*\b", question) if not _YEAR.fullmatch(n)]
    groups += [(t,) for t in tokenize(" ".join(numbers)) if _in_vocabulary(t, idf)]
    if not groups and not cross_lingual:
        terms = [t for t in dict.fromkeys(tokenize(question)) if t not in _DETAIL_WORDS]
        terms = [t for t in terms if _in_vocabulary(t, idf) and t not in _GENERIC_NAMES]
        # rare and long: "migratiepartnerschap" says more of a subject than "gesloten"
        terms.sort(key=lambda t: -idf.get(t, 0.0) * min(1.0, len(t) / 12))
        groups = [(t,) for t in terms[:keep]]
    return sorted(dict.fromkeys(groups), key=lambda g: -max(idf.get(t, 0.0) for t in g))


_RARE = 3.4  # idf of a term in about one passage in thirty: rare enough to identify a subject


def _in_vocabulary(term: str, idf: Mapping[str, float]) -> bool:
    if term in idf:
        return True
    head = term[: max(5, len(term) - 3)]
    return len(term) >= 5 and any(t.startswith(head) for t in idf)


def _shares_stem(a: str, b: str) -> bool:
    """Two stems of one word in two languages or inflections ("canada"/"canades")."""
    n = max(5, min(len(a), len(b)) - 3)
    return len(a) >= 5 and len(b) >= 5 and a[:n] == b[:n]


def _new_names(pattern: re.Pattern[str], sentence: str, question: str) -> bool:
    asked = fold(question)
    text = sentence.replace("**", "")
    for m in pattern.finditer(text):
        word = fold(m.group(0)).split()[-1]
        adjective = m.group(0)[1:].islower() and PLACE_ADJECTIVE.search(word)
        if word in asked or (pattern is _PROPER and adjective):
            continue
        return True
    return False


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
        return _new_names(_NAME, sentence, question) or _new_names(_ROLE_NAME, sentence, question)
    if kind in ("organisation", "place"):
        return _new_names(_PROPER, sentence, question)
    return True


def anchored(text: str, groups: Anchors) -> bool:
    """``text`` names the question's subject (see :func:`anchors`): its rarest name, or two
    of its names; one common name alone ("China") stands in too many unrelated sentences."""
    if not groups:
        return True
    words = set(tokenize(text))
    met = [
        g for g in groups if any(t in words or any(_shares_stem(t, w) for w in words) for t in g)
    ]
    return bool(met) and (met[0] == groups[0] or len(met) >= 2)


_CAPITAL = re.compile(r"(?i)\b(hoofdstad|capital)\b")
# Organisations whose names carry their kind ("Universiteit Leiden", "Ministerie van Defensie",
# "Europees Defensiefonds"): asked for by kind, they are given by a name that says it.
_NAMED_KINDS = {
    "universiteit": "universit", "university": "universit", "ministerie": "minist",
    "ministry": "minist", "bank": "bank", "instituut": "institu", "institute": "institu",
    "fonds": "fond", "fund": "fund", "partij": "parti", "party": "part",
}  # fmt: skip
_KIND_ASKED = re.compile(
    r"(?i)\b(?:welk(?:e)?|which|what)\s+(?:\w+\s+){0,2}?(" + "|".join(_NAMED_KINDS) + r")\b"
)


def _type_named(question: str, sentence: str) -> bool:
    """A question asking for an organisation of a named kind ("Aan welke universiteit …") is
    answered only by a sentence that names one of that kind."""
    match = _KIND_ASKED.search(question)
    return match is None or _NAMED_KINDS[match.group(1).lower()] in fold(sentence)


# A quantity the question names by its measure ("het budget van", "the interest rate") is
# answered only by a figure said to be that measure: the words that say so in a report.
_MEASURES = {
    "rente": ("rente",), "interest": ("rente", "interest"), "looptijd": ("looptijd",),
    "maturity": ("looptijd", "maturity"), "budget": ("budget",), "omzet": ("omzet",),
    "turnover": ("omzet", "turnover"), "revenue": ("omzet", "revenue"),
    "beurswaarde": ("beurswaarde", "marktwaarde"), "marktwaarde": ("beurswaarde", "marktwaarde"),
    "market value": ("beurswaarde", "marktwaarde"), "salaris": ("salaris",),
    "prijs": ("prijs",), "price": ("prijs", "price"), "subsidie": ("subsidie",),
    "bevolking": ("bevolking", "inwoners"), "population": ("bevolking", "inwoners"),
}  # fmt: skip
_MEASURE = re.compile(r"(?i)\b(" + "|".join(_MEASURES) + r")")


def measure_named(q: QuestionAnalysis, text: str) -> bool:
    """``text`` names the measure a quantity question asks for, if it asks for one by name."""
    asked = [m.group(1).lower() for m in _MEASURE.finditer(q.text)]
    if not asked or asked_kind(q) not in ("money", "rate", "percent", "count"):
        return True
    folded = fold(text)
    return any(v in folded for a in asked for v in _MEASURES[a])


def gives_detail(
    q: QuestionAnalysis, sentence: str, terms: Anchors, around: str = "", *, note: bool = False
) -> bool:
    """True if ``sentence`` gives the kind of detail ``q`` asks for about its subject: the
    subject (``terms``, see :func:`anchors`) stands in it or in the sentences ``around`` it.
    Always True for questions that ask for no typed detail. A footnote's source line gives
    no detail (it names bodies and dates of its own) unless it is the ``note`` of a sentence
    that names the subject (``around``)."""
    kind = asked_kind(q)
    if not kind:
        return True
    if note:  # the footnote of a chosen sentence (chosen for its subject) dates its source
        return kind in ("year", "date") and has_kind(kind, sentence, q.text)
    if _NOTE.match(sentence):
        return False
    if kind == "place" and _CAPITAL.search(q.text) and not _CAPITAL.search(sentence):
        return False  # a capital is named as one
    if kind == "organisation" and not _type_named(q.text, sentence):
        return False
    window = f"{around} {sentence}"
    return (
        has_kind(kind, sentence, q.text)
        and anchored(window, terms)
        and measure_named(q, window)
        and (kind not in _FIGURES or whose_figure_named(q.text, window))
    )


_FIGURES = frozenset({"money", "percent", "rate", "count"})


def whose_figure_named(question: str, window: str) -> bool:
    """A figure about a country or its people ("What percentage of Dutch people …") is given
    only by a sentence that names that country: a figure about "de Europeanen" is another."""
    asked = {COUNTRY_STEMS[w] for w in re.findall(r"[a-z]+", fold(question)) if w in COUNTRY_STEMS}
    folded = fold(window)
    return all(stem in folded for stem in asked)
