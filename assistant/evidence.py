"""The structure around a quotable sentence: headings, front and back matter, what a sentence
refers back to, and the items of a list.

Reports are written in sections under headings; a passage's text may begin with its heading,
and some parts of a report (the colophon, the table of contents, the authors' biographies, the
bibliography) say nothing about the subject a question asks about even when they repeat its
words. These pure functions tell them apart, so that an answer never consists of a heading alone
and never quotes a biography for a question about policy.

Example:
    >>> is_heading("Drie scenario's voor later", ("Thema 6", "Drie scenario's voor later"))
    True
    >>> is_biography("Danny Pronk is Senior Research Fellow bij Clingendael.")
    True
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from index.terms import fold

# Sections that are front or back matter, not content.
_MATTER = re.compile(
    r"^(colofon|colophon|over de auteurs?|about the authors?|auteurs|authors|inhoud|"
    r"inhoudsopgave|contents|table of contents|literatuur\w*|bibliogra\w*|bronnen|references|"
    r"sources|noten|notes|endnotes|eindnoten|dankwoord|acknowledg\w*|disclaimer)\b",
    re.IGNORECASE,
)
_ROLE = (
    r"(onderzoeker|researcher|research fellow|fellow|directeur|director|hoogleraar|professor|"
    r"analist|analyst|adviseur|advisor|adviser|medewerker|promovendus|phd|docent|lecturer|"
    r"coördinator|coordinator|programmaleider|head of|hoofd|voorzitter|chair|lid van|member of|"
    r"gastonderzoeker|redacteur|editor|journalist|consultant|strateeg|strategist)"
)
_BIO = re.compile(
    rf"^(?:\*\*)?(?:[A-Z][\w'’.-]+\s+){{1,4}}(?:\*\*\s+)?(?:\([^)]*\)\s+)?(?:is|was|werkt|works)\b"
    rf".{{0,120}}\b{_ROLE}"
    rf"|^(?:expert view\s+)?(?:door|by|met|with)\s+\*\*"  # a byline: "Expert View door **X**"
    rf"|^\W*(?:\w+:\s*)?\*\*[^*]{{3,60}}\*\*,\s"  # a programme's speaker: "▶ **X**, role"
    rf"|[”\"],?\s+(?:by|door)\s+[A-Z]"  # a study listed with its authors: "“Title,” by X"
    rf"|^(?:Hij|Zij|He|She)\s+(?:is|was|werkt|works|doet onderzoek|promoveerde|studeerde|"
    rf"researches|studied|holds)\b",
    re.IGNORECASE,
)
_TOC_LINE = re.compile(r"(\t|\.{3,}|\s{2,})\d{1,3}\s*$")
_THEMA = re.compile(r"^(thema|theme|hoofdstuk|chapter|deel|part|bijlage|annex)\s+\d+\s*[|:]",
                    re.IGNORECASE)  # fmt: skip
_SENTENCE_END = re.compile(r"[.!?…:;”\"’)]\s*$|\[\d+\]$")
# Words a sentence opens with when it leans on the one before it (or on its heading).
_REFERRING = re.compile(
    r"^(?:\W*)(?:dit|deze|die|dat|dergelijke|hij|zij|ze|het|hierdoor|daardoor|daarom|daarbij|"
    r"daarnaast|bovendien|ook|tegelijk\w*|echter|wel|in dit|in deze|bij dit|bij deze|"
    r"this|these|those|that|such|it|he|she|they|in this|under this|therefore|however|also|"
    r"moreover|at the same time)\b",
    re.IGNORECASE,
)


def is_matter(section: Sequence[str]) -> bool:
    """A section of front or back matter (colophon, contents, biographies, bibliography)."""
    return any(_MATTER.match(part.strip("*# ")) for part in section)


def is_biography(sentence: str) -> bool:
    """A sentence of an author's biography ("X is senior onderzoeker bij …", "Hij doet
    onderzoek naar …")."""
    return bool(_BIO.search(sentence.strip()))


def is_heading(unit: str, section: Sequence[str]) -> bool:
    """A unit that is a heading rather than a sentence: one of the passage's own section
    headings, a "Thema 3 | …" line, a table-of-contents line ("Inleiding<tab>4"), or a short
    line of capitalised words without any closing punctuation."""
    text = unit.strip().strip("*#").strip()
    key = fold(re.sub(r"\W+", " ", text)).strip()
    if any(key == fold(re.sub(r"\W+", " ", part)).strip() for part in section):
        return True
    if _THEMA.match(text) or _TOC_LINE.search(unit):
        return True
    words = text.split()
    return (
        len(words) <= 14
        and not _SENTENCE_END.search(text)
        and text[:1].isupper()
        and (
            not re.search(
                r"\b(is|zijn|was|waren|wordt|worden|heeft|hebben|kan|moet|are|were|has|have)\b",
                text,
            )  # fmt: skip
        )
    )


def refers_back(sentence: str) -> bool:
    """A sentence that opens by pointing back ("Dit scenario …", "Hij …", "This …"), so a
    reader needs the sentence before it (or its heading) to know what it is about."""
    return bool(_REFERRING.match(sentence))


@dataclass(frozen=True)
class Item:
    """One item of a list found in the report: its label (a heading, a lead term) and the
    unit that carries it."""

    unit: int  # index into the candidate pool
    label: str


_LABELLED = re.compile(
    r"(?:^|\s)(?P<word>[A-Z][a-zà-ÿ]+)\s+(?P<n>\d{1,2}|[A-H])\s*[:.)–-]\s+(?P<rest>\S.*)$"
)
_BOLD_LEAD = re.compile(r"^\W{0,3}\*\*(?P<term>[^*]{2,80})\*\*")
_ORDINAL = re.compile(
    r"^(ten eerste|ten tweede|ten derde|ten vierde|ten vijfde|ten slotte|first(?:ly)?|"
    r"second(?:ly)?|third(?:ly)?|fourth(?:ly)?|finally|allereerst|in de eerste plaats|"
    r"in de tweede plaats|in de derde plaats|(?:de|het) (?:eerste|tweede|derde|vierde|vijfde)|"
    r"the (?:first|second|third|fourth|fifth))\b",
    re.IGNORECASE,
)


def labelled_item(unit: str) -> tuple[str, str, str] | None:
    """``("Scenario", "1", "De zure appel Europa wil …")`` for a unit that carries a labelled,
    numbered item ("Scenario 1: …", "Wereld B: …", "Optie 2. …"), else None.

    Example:
        >>> labelled_item("Het gewenste scenario Scenario 2: Koorddans Europa behoudt de VS.")
        ('Scenario', '2', 'Koorddans Europa behoudt de VS.')
    """
    match = _LABELLED.search(unit)
    if match is None:
        return None
    return match.group("word"), match.group("n"), match.group("rest")


def bold_lead(unit: str) -> str:
    """The bold term a list item or paragraph opens with ("**Kopgroepvorming** …"), or ""."""
    match = _BOLD_LEAD.match(unit)
    return match.group("term").strip() if match else ""


def is_ordinal(unit: str) -> bool:
    """A unit that opens with an ordinal ("Ten eerste", "Second", "Ten slotte")."""
    return bool(_ORDINAL.match(unit.strip("*- ")))
