"""What a question asks: the kind of answer it expects, how many items, and what it is about.

Every later step of the extractive answer reads this small typed result: which sentences can
answer (a "who" question needs a name, a "when" question a date), whether a list is asked for and
how long it is, whether the question asks for a judgement the reports would have to make
themselves ("most likely", "het beste"), and whether it is about the authors (only then may a
biography or the colophon be quoted).

Example:
    >>> q = analyse("Welke drie scenario's schetst Clingendael voor de trans-Atlantische relatie?")
    >>> q.expects, q.count, q.list_noun
    ('list', 3, "scenario's")
    >>> analyse("In welk jaar hield Robert Gates zijn toespraak?").expects
    'year'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from assistant.language import detect_language

Expectation = Literal[
    "person", "organisation", "place", "number", "year", "list", "reason", "recommendation",
    "comparison", "description", "other",
]  # fmt: skip

COUNT_WORDS = {
    "twee": 2, "drie": 3, "vier": 4, "vijf": 5, "zes": 6, "zeven": 7, "acht": 8, "negen": 9,
    "tien": 10, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip
_COUNT = "|".join([*COUNT_WORDS, r"\d{1,2}"])

_RAW_PATTERNS: tuple[tuple[Expectation, str], ...] = (
        ("year", r"(^|[,;?]\s*|\b(en|and)\s+)(wanneer|when)\b|"
                 r"\b(in welk jaar|uit welk jaar|sinds wanneer|vanaf wanneer|"
                 r"(in |from )?what year|(in |from )?which year|since when|welke datum|"
                 r"what date|op welke datum)\b"),
        ("number", r"\b(hoeveel|how many|how much|welk(e)? (percentage|aandeel|bedrag)|"
                   r"what (share|percentage|proportion|amount)|hoe (groot|hoog) (is|was|zijn|"
                   r"waren|wordt|worden) |how (large|big|high|much) (is|was|are|were|will)|"
                   r"(what|which) (interest )?rates?|interest rate|rente|"
                   r"looptijd|maturity)\b"),
        ("person", r"^(wie|who|whom)\b(?! (is|was|zijn|are|were) (?-i:[A-Z]))|"
                   r"\b(welke|which|what) (\w+ ){0,2}(persoon|person|minister|president|premier|"
                   r"auteur|author|onderzoeker|researcher|expert|defensieminister|"
                   r"politicus|politician|commissaris|commissioner|diplomaat|diplomat|"
                   r"moderator|spreker|speaker|generaal|general|leider|leader)\b"),
        ("organisation", r"\b(welk(e)?|which|what) (\w+ ){0,2}(bedrijf|bedrijven|onderneming|"
                         r"company|companies|firm|organisatie|organisation|organization|"
                         r"instituut|institute|agency|agentschap|denktank|think tank|partij|"
                         r"party|fonds|fund|dienst|service|universiteit|university|"
                         r"ministerie|ministry|krant|newspaper|bank)\b"),
        ("place", r"^(waar|where)\b|\b(in welk(e)? (land|stad|regio|provincie)|"
                  r"(which|what) (country|city|region|province)|capital|hoofdstad)\b"),
        ("recommendation", r"\b(aanbevel\w*|beveelt|adviseer\w*|advies|raadt|raden|"
                           r"recommend\w*|advise\w*|advice|handelingsperspectie\w*|"
                           r"moet nederland|should (the netherlands|the eu|europe|nederland))\b"),
        ("comparison", r"\b(verschil\w*|verschillen|differ\w*|vergelijk\w*|compar\w*|"
                       r"versus|tegenover|anders dan|in contrast|onderscheid\w*)\b"),
        ("reason", r"^(waarom|why)\b|\b(waarom|why|om welke reden|for what reason|"
                   r"what reasons?|welke redenen?|hoe komt het|how come)\b"),
)  # fmt: skip
_PATTERNS = tuple((kind, re.compile(p, re.IGNORECASE)) for kind, p in _RAW_PATTERNS)
_LIST = re.compile(
    rf"\b(welke|which|what are the|what|noem|name|list)\s+(?:(?P<count>{_COUNT})\s+)?"
    rf"(?:\w+\s+){{0,2}}?(?P<noun>\w+(?:'s|’s|en|ën|s|ies))\b",
    re.IGNORECASE,
)
_COUNTED = re.compile(rf"\b(?P<count>{_COUNT})\s+(?:\w+\s+)??(?P<noun>\w+(?:'s|’s|en|s|ies))\b",
                      re.IGNORECASE)  # fmt: skip
# Plural nouns a "welke …" question uses without asking for a list.
_NOT_LISTS = frozenset(
    "jaar jaren procent percentage landen rol kansen gevolgen redenen reden is".split()
)
# A judgement the reports must make themselves for a question to be answerable from them.
JUDGEMENTS: dict[str, tuple[str, ...]] = {
    "meest waarschijnlijk": ("meest waarschijnlijk", "waarschijnlijkst", "most likely"),
    "most likely": ("meest waarschijnlijk", "waarschijnlijkst", "most likely"),
    "likeliest": ("meest waarschijnlijk", "waarschijnlijkst", "most likely"),
    "het beste": ("het beste", "de beste", "best"),
    "de beste": ("het beste", "de beste", "best"),
    "the best": ("het beste", "de beste", "the best"),
    "meest effectief": ("meest effectie", "effectiefst", "most effective"),
    "most effective": ("meest effectie", "effectiefst", "most effective"),
}
_JUDGEMENT = re.compile(r"\b(" + "|".join(JUDGEMENTS) + r")\b", re.IGNORECASE)
# "Welk van de drie scenario's bevelen zij aan?": a choice among items the reports must make.
CHOICE = "choice"
JUDGEMENTS[CHOICE] = ("aanbevolen", "bevelen", "beveelt", "voorkeur", "kiezen voor", "kiest voor",
                      "pleiten voor", "pleit voor", "recommend", "prefer")  # fmt: skip
_CHOICE = re.compile(
    r"\b(welk|welke|which)\s+(\w+\s+)?(van de|van deze|of the|of these)\b.*\b(aanbevelen|"
    r"bevelen\b.*\baan|beveelt\b.*\baan|voorkeur|kiezen|kiest|verkiezen|recommend\w*|prefer\w*|"
    r"favou?r\w*|advocate\w*)",
    re.IGNORECASE,
)
_ABOUT_PEOPLE = re.compile(
    r"\b(auteurs?|authors?|schrijvers?|onderzoekers?|researchers?|universiteit|university|"
    r"functie|functies|position|verbonden|affiliat\w*|biografie|biography|werkzaam|"
    r"achtergrond|background|colofon|colophon|contact|uitgever|publisher|moderator|"
    r"sprekers?|speakers?|deelnemers?|participants?|wie|who|redactie|editors?)\b",
    re.IGNORECASE,
)


# A person named in the question ("Ben Knapen", "Danny Pronk"): their biography may answer it.
_PERSON_NAMED = re.compile(
    r"(?<![.?!]\s)(?<!^)\b[A-Z][a-zà-ÿ]+\s+(?:(?:van|de|der|den|ten|ter)\s+)*[A-Z][a-zà-ÿ]{2,}\b"
)


@dataclass(frozen=True)
class QuestionAnalysis:
    """What one question asks for.

    Attributes:
        text: the question as asked (after cleaning; a follow-up is analysed as typed, not as
            rewritten, so that the earlier question's "drie scenario's" is not counted twice).
        language: "nl" or "en", the language of the answer's own words.
        expects: the kind of answer: a person, organisation, place, number, year, a list, a
            reason, a recommendation, a comparison, a description ("Wie is X?") or other.
        count: how many items a list question asks for ("drie scenario's" → 3), else None.
        list_noun: the plural noun of a list question ("scenario's"), else "".
        judgement: a judgement the question asks the reports to make ("meest waarschijnlijk"),
            else "".
        about_people: the question asks about people or the report's makers, so biographies
            and the colophon may answer it.
    """

    text: str
    language: str
    expects: Expectation
    count: int | None = None
    list_noun: str = ""
    judgement: str = ""
    about_people: bool = False

    @property
    def wants_list(self) -> bool:
        return self.expects == "list" or self.count is not None


def analyse(question: str) -> QuestionAnalysis:
    """Read what ``question`` asks for (Dutch or English); see :class:`QuestionAnalysis`.

    Example:
        >>> analyse("Wie is Danny Pronk?").expects
        'description'
        >>> analyse("What does HCSS recommend on intelligence cooperation?").expects
        'recommendation'
        >>> analyse("En welk scenario is het meest waarschijnlijk?").judgement
        'meest waarschijnlijk'
    """
    text = " ".join(question.split())
    expects: Expectation = "other"
    for kind, pattern in _PATTERNS:
        if pattern.search(text):
            expects = kind
            break
    if expects == "other" and re.match(r"^(wie|who)\s+(is|was|zijn|are|were)\b", text, re.I):
        expects = "description"
    count, noun = _list_request(text)
    open_kind = expects in ("other", "recommendation", "reason", "comparison")
    if (count is not None and open_kind) or (noun and expects == "other"):
        expects = "list"
    judgement = _JUDGEMENT.search(text)
    chosen = CHOICE if _CHOICE.search(text) else ""
    return QuestionAnalysis(
        text=text,
        language=detect_language(text),
        expects=expects,
        count=count,
        list_noun=noun,
        judgement=judgement.group(1).lower() if judgement else chosen,
        about_people=expects in ("person", "description")
        or bool(_ABOUT_PEOPLE.search(text) or _PERSON_NAMED.search(text)),
    )


def _list_request(text: str) -> tuple[int | None, str]:
    """(count, plural noun) of a list question, e.g. (3, "scenario's"); (None, "") if none."""
    for pattern in (_COUNTED, _LIST):
        for match in pattern.finditer(text):
            noun = match.group("noun")
            if noun.lower() in _NOT_LISTS or len(noun) < 4:
                continue
            raw = match.groupdict().get("count")
            count = None
            if raw:
                count = int(raw) if raw.isdigit() else COUNT_WORDS[raw.lower()]
                if count < 2 or count > 12:
                    continue
            if pattern is _LIST and not _plural(noun):
                continue
            return count, noun
    return None, ""


def _plural(noun: str) -> bool:
    """A plural-looking noun: "scenario's", "instrumenten", "technologieën", "methods"."""
    low = noun.lower()
    return low.endswith(("'s", "’s", "ies")) or (
        len(low) > 5
        and (low.endswith(("en", "ën")) or (low.endswith("s") and not low.endswith("ss")))
    )
