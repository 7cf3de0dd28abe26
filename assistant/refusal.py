"""Deciding that the reports do not answer a question, rather than guessing.

The signals are deliberately conservative (a wrong citation is worse than no answer, but a
refusal of an answerable question is a failure too). The question is refused when it names
something specific that none of the retrieved passages mentions:

* a number or year (a year is exempt when it is the date of a retrieved report: "the 2022
  Strategic Monitor"), an acronym (with the Dutch twins of English ones: NATO = NAVO), or a
  quoted phrase;
* a multi-word name such as "Chips Act", unless its words are ones a Dutch report would
  translate ("United States" = "Verenigde Staten");

or (see ``unknown_names``) when it names a place or person no indexed report mentions at all;
or (see ``foreign_to_reports``) when it is written in a language of the reports and not one of
its words occurs in any of them.
Whether the chosen evidence gives the asked-for detail (a number, a name, a year) is decided in
``assistant.detail``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence

from index.terms import fold, tokenize

_ALIASES = {
    "nato": ("navo",), "uk": ("vk",), "us": ("vs",), "usa": ("vs",), "un": ("vn",),
    "gdp": ("bbp",), "cfsp": ("gbvb",), "ai": ("ai", "ki"), "mff": ("mfk",),
}  # fmt: skip
# Capitalised English words that a Dutch report writes in Dutch (or that only qualify a name).
_TRANSLATED = frozenset(
    "united states kingdom union european europe commission council parliament middle east "
    "west north south korea netherlands dutch strategic compass security defence defense "
    "foreign affairs ministry minister court justice nations atlantic pacific indo china "
    "chinese russian american french german british global the of and for royal air force "
    "navy army armed forces prime central bank agency office group new next generation "
    "future".split()
)
_NUMBERISH = re.compile(r"\b[\w-]*\d[\w-]*\b")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
_QUOTED = re.compile(r"[“\"‘]([^”\"’]{3,60})[”\"’]")
_NAME = re.compile(r"\b[A-Z][\w-]+(?:\s+[A-Z][\w-]+)+")
_YEAR = re.compile(r"^(19|20)\d\d$")


def _names(question: str) -> list[str]:
    """Multi-word capitalised names, not counting the question's first word."""
    body = question[1:] if question[:1].isupper() else question
    found = []
    for match in _NAME.finditer(body):
        words = [w for w in match.group(0).split() if fold(w) not in _TRANSLATED]
        if len(words) >= 2:
            found.append(" ".join(words))
    return found


def foreign_to_reports(
    question: str, language: str, terms: Collection[str], languages: Collection[str]
) -> bool:
    """Whether the reports never use a word of ``question``: it is in one of their
    ``languages`` and none of its terms (``index.terms.tokenize``: stop words dropped, stemmed)
    is among the reports' ``terms``. Whatever the search then finds is about something else.

    Only for a question in a language the reports are written in: an English question over
    Dutch reports shares few words with them by nature, and the multilingual search answers it.

    Example:
        >>> terms = set(tokenize("De NAVO versterkt de afschrikking aan de oostflank."))
        >>> foreign_to_reports("Hoe bak ik pannenkoeken?", "nl", terms, {"nl"})
        True
        >>> foreign_to_reports("Wat doet de NAVO?", "nl", terms, {"nl"})
        False
        >>> foreign_to_reports("How do I bake pancakes?", "en", terms, {"nl"})
        False
    """
    if language not in languages:
        return False
    words = tokenize(question)
    return bool(words) and not any(w in terms for w in words)


def specific_terms(question: str, report_years: Iterable[str] = ()) -> list[str]:
    """What a passage must mention to answer the question.

    Example:
        >>> specific_terms("What does the 2022 report say about the European Chips Act?", ["2022"])
        ['Chips Act']
    """
    years = set(report_years)
    terms = [t.strip("-") for t in _NUMBERISH.findall(question)]
    terms = [t for t in terms if not (_YEAR.match(t) and t in years)]
    terms += _ACRONYM.findall(question)
    terms += _QUOTED.findall(question)
    terms += _names(question)
    return list(dict.fromkeys(t for t in terms if t))


_DECADE = re.compile(r"^(1[89]|20)(\d)0s$")


def _term_options(term: str, key: str) -> tuple[str, tuple[str, ...]]:
    """The folded key of a term and the spellings to look for: "MEPs" → mep; NATO → nato, navo."""
    if term.isupper() and key.endswith("s") and len(key) > 2:
        key = key[:-1]
    return key, (key, *_ALIASES.get(key, ()))


def _mentions(term: str, texts: Sequence[str]) -> bool:
    key = fold(term)
    if decade := _DECADE.match(key):  # "1980s": "jaren tachtig", "jaren 80", "1980"
        key = f"{decade.group(1)}{decade.group(2)}"
        tens = rf"jaren\W*({decade.group(2)}0|{_TENS[decade.group(2)]})"
        if any(re.search(tens, t) for t in texts):
            return True
    key, options = _term_options(term, key)
    if any(re.search(rf"(?<!\w){re.escape(o)}", t) for o in options for t in texts):
        return True
    # Two names side by side in a question ("Van Hooft en Hellendoorn Frankrijk") read as one:
    # accept a name whose words all stand, as whole words, in the passages.
    words = key.split()
    return len(words) > 1 and all(
        any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", t) for t in texts) for w in words
    )


def missing_terms(
    question: str, passages: Sequence[str], report_years: Iterable[str] = ()
) -> list[str]:
    """The specific terms of the question that no passage mentions."""
    texts = [fold(p) for p in passages]
    return [t for t in specific_terms(question, report_years) if not _mentions(t, texts)]


_TENS = dict(
    zip(
        "123456789",
        "tien twintig dertig veertig vijftig zestig zeventig tachtig negentig".split(),
        strict=True,
    )
)
# Countries and their people, in English and Dutch: the stem a Dutch report's text holds.
COUNTRY_STEMS = {
    "netherlands": "nederland", "dutch": "nederland", "nederland": "nederland",
    "nederlandse": "nederland", "nederlanders": "nederland", "germany": "duits",
    "german": "duits", "duitsland": "duits", "france": "frank", "french": "fran",
    "frankrijk": "frank", "britain": "brit", "british": "brit", "china": "chin",
    "chinese": "chin", "russia": "rus", "rusland": "rus", "russian": "rus",
}  # fmt: skip
# English names of the subjects a Dutch report writes in Dutch: the stem to look for.
SUBJECT_STEMS = {
    **COUNTRY_STEMS, "europe": "europ", "european": "europ", "uk": "vk", "america": "amerika",
    "american": "amerika", "eu": "eu", "nato": "navo", "us": "vs", "usa": "vs",
}  # fmt: skip


def mentioned(term: str, vocabulary: str) -> bool:
    """``term`` occurs in ``vocabulary`` (the folded text of every indexed report): a term the
    search results lack but the reports have means search missed it, not that they are silent.
    """
    _, options = _term_options(term, fold(term))
    return any(re.search(rf"(?<!\w){re.escape(o)}", vocabulary) for o in options)


# English names of places and peoples a Dutch report writes in Dutch: the stem to look for.
PLACES = {
    "ukraine": "oekra", "ukrainian": "oekra", "turkey": "turk", "belgium": "belg",
    "poland": "pol", "hungary": "hongar", "greece": "grie", "sweden": "zwed",
    "norway": "noor", "spain": "span", "italy": "itali", "brussels": "bruss",
    "hague": "haag", "moscow": "mosk", "beijing": "beij", "denmark": "dene",
    "switzerland": "zwitser", "austria": "oosten", "africa": "afrika", "asia": "azi",
    "arctic": "arctis", "baltic": "balt", "taiwanese": "taiwan", "japanese": "japan",
}  # fmt: skip
_SINGLE = re.compile(r"(?<![.?!:]\s)(?<!^)(?<![\w'’-])([A-Z][a-zà-ÿ]{3,})(?![\w'’-])")


def unknown_names(question: str, vocabulary: str) -> list[str]:
    """Single capitalised names in the question (not its first word, not part of a longer
    name) that no indexed report mentions: "Wat is de hoofdstad van Australië?" → Australië.

    A name is looked up by its stem (English and Dutch spellings share one for most places:
    "Australia"/"Australië"); words a Dutch report writes in Dutch are looked up in Dutch.

    Example:
        >>> unknown_names("What is the capital of Canada?", "de hoofdstad van frankrijk")
        ['Canada']
    """
    body = question.strip()
    found = []
    for match in _SINGLE.finditer(body):
        word = match.group(1)
        before, after = body[: match.start()].rstrip(), body[match.end() :].lstrip()
        if re.search(r"[A-Z][\w'’-]*$", before) or re.match(r"[A-Z]", after):
            continue  # part of a multi-word name: missing_terms looks at those
        key = fold(word)
        if key in _TRANSLATED or key in SUBJECT_STEMS:
            continue
        stem = PLACES.get(key, key[: max(5, len(key) - 4)])
        if not re.search(rf"(?<!\w){re.escape(stem)}", vocabulary):
            found.append(word)
    return found
