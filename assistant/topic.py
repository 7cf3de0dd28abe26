"""Does the evidence speak of what the question says it is about?

Many questions name their topic outright: "Wat zegt HCSS over de woningnood?", "Wat zeggen
de rapporten over Chinese investeringen in Nederlandse havens?", "Wat is de visie van
Clingendael op de woningmarkt?". Search always returns the
closest passages, and when the reports never discuss that topic the closest ones are about
something else (scenarios of the world order) or about only a part of it (Chinese investment,
but not in ports). Quoting them looks like an answer while being none. So every word that
identifies the topic must stand in the passages the answer quotes (their text, headings or
title), as the word itself, a compound holding it ("havenbedrijf" for "haven") or, for a
compound in the question ("defensiematerieelsamenwerking"), each of its parts.

Which words identify a topic: the topic phrase's content words, less the words that ask for a
kind of detail and the words so common in the reports (one passage in ten or more) that their
absence from a passage says nothing. A question in another language than the reports is
checked by its names only: its other words are translated by the reports, and no dictionary is
at hand to say how.

Example:
    >>> topic_phrase("Wat zegt HCSS over de woningnood?")
    'de woningnood'
    >>> idf = {"woningnod": 9.0, "hcss": 1.0}
    >>> topic = read_topic("Wat zegt HCSS over de woningnood?", "nl", {"nl"}, idf)
    >>> topic.cover(["HCSS: vier scenario's"])
    TopicCover(checked=('woningnood',), missing=('woningnood',), head=('woningnood',), names=())
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from assistant.detail import PLACE_ADJECTIVE
from assistant.refusal import PLACES, SUBJECT_STEMS
from index.terms import STOPWORDS, fold, tokenize

# "Wat zegt/schrijft … over X?", "What do the reports say/recommend about X?": a question whose
# whole point is its topic X, which ends it. Elsewhere "over" starts a clause of its own
# ("Welke minister citeren zij over onderbesteding, en …"), not the question's topic.
_TOPIC = re.compile(
    r"(?i)^(?:en\s+|and\s+)?(?:wat|hoe|what|how)\b.*?\b(?:zeg\w*|schrijf\w*|schrijv\w*|"
    r"stel\w*|denk\w*|vind\w*|vinden|meld\w*|conclude\w*|staat|staan|beweer\w*|vermeld\w*|"
    r"weten|weet|advise\w*|beveelt|bevelen|raadt|raden|say|says|said|write|writes|wrote|"
    r"think|thinks|state|states|tell|tells|conclude|concludes|know|mention|mentions|"
    r"argue|argues|claim|claims|recommend|recommends|advise|advises|propose|proposes|"
    r"suggest|suggests|find|finds|learn)\b.*?\b(?:over|omtrent|aangaande|betreffende|inzake|"
    r"ten aanzien van|met betrekking tot|about|regarding|concerning|on|with regard to|"
    r"with respect to|as regards)\s+(?P<topic>[^?!,;:]+)[?!.]?\s*$"
)
# "Wat is de visie van HCSS op X?", "Hoe kijkt Clingendael aan tegen X?", "What is HCSS's
# position on X?": a view asked for on a topic X that ends the question.
_VIEW = re.compile(
    r"(?i)\b(?:(?:visie|kijk|standpunt|mening|houding|opvatting|view|views|position|stance|"
    r"perspective)\s+(?:[\w'’-]+\s+){0,4}?(?:op|ten aanzien van|on|towards|regarding)|"
    r"kijk\w*\s+(?:[\w'’-]+\s+){0,4}?aan\s+tegen)\s+(?P<topic>[^?!,;:]+)[?!.]?\s*$"
)
# Words of a topic phrase that point at the reports or ask for a kind of answer, not a subject.
_NOT_SUBJECT = frozenset(
    tokenize(
        "rapport rapporten report reports studie study monitor strategische strategic "
        "clingendael hcss auteurs authors experts expert views hoofdstuk chapter rol role "
        "mening opinion visie view standpunt position aanpak approach toekomst future "
        "jaar year jaren years percentage aantal number bedrag amount"
    )
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NAME = re.compile(r"(?<!^)\b[A-Z][\w'’-]+")
COMMON_IDF = 2.4  # idf of a term in about one passage in ten: too common to identify a topic
_LINKS = ("s", "en", "e", "")  # how Dutch joins the parts of a compound: veiligheid-s-risico


def topic_phrase(question: str) -> str:
    """What a "what does … say about X" question says it is about: X; "" for other questions.

    Example:
        >>> topic_phrase("What does HCSS recommend regarding cyber security?")
        'cyber security'
        >>> topic_phrase("Wat is de visie van HCSS op inlichtingensamenwerking?")
        'inlichtingensamenwerking'
        >>> topic_phrase("Welke minister citeren zij over onderbesteding, en waarom?")
        ''
    """
    match = _TOPIC.search(question.strip()) or _VIEW.search(question.strip())
    return match.group("topic").strip() if match else ""


def _topic_words(topic: str, language: str, languages: Collection[str]) -> list[str]:
    """The folded words of ``topic`` to look for: all content words for a question in a
    language of the reports, else its names only (with the reports' spelling of places)."""
    if language in languages or not languages:
        words = [fold(w) for w in _WORD.findall(topic)]
        return [w for w in words if w not in STOPWORDS and len(w) > 2]
    names = [fold(m.group(0)) for m in _NAME.finditer(" " + topic)]
    return [SUBJECT_STEMS.get(n, PLACES.get(n, n)) for n in names if n not in STOPWORDS]


def _covered(word: str, stems: set[str], words: set[str], depth: int = 0) -> bool:
    """``word`` (folded) stands in the evidence whose terms are ``stems`` and ``words``."""
    stem = (tokenize(word) or [word])[0]
    # the plural's singular ("havens" → "haven"), which stands at the head of compounds; the
    # stemmer's form ("haaf") does not
    singular = re.sub(r"(?:'s|’s|en|s)$", "", word)
    for key in dict.fromkeys((word, stem, singular)):
        if key in stems or key in words:
            return True
        if len(key) >= 4 and any(w.startswith(key) for w in words):  # haven → havenbedrijf
            return True
    # havens → zeehavens; not the singular, which ends words of other meaning ("handhaven")
    if len(word) >= 5 and any(w.endswith(word) for w in words):
        return True
    if depth or len(word) < 9:
        return False
    # a compound of words the evidence holds: veiligheidsrisico = veiligheid + risico
    for cut in range(4, len(word) - 3):
        head, rest = word[:cut], word[cut:]
        for link in _LINKS:
            if link and not head.endswith(link):
                continue
            part = head[: len(head) - len(link)] if link else head
            if (
                len(part) >= 4
                and any(w.startswith(part) for w in words)
                and _covered(rest, stems, words, depth + 1)
            ):
                return True
    return False


@dataclass(frozen=True)
class TopicCover:
    """The words that identify a question's topic, and those the evidence does not speak of.

    ``head`` are the words of the topic before its first preposition ("Chinese investeringen"
    of "Chinese investeringen in Nederlandse havens"): what the topic is. The words after it
    narrow it down, and a question may word them otherwise than the reports ("onder burgers"
    for a passage on "het publiek").
    """

    checked: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def absent(self) -> bool:
        """The evidence is not about the topic: its head, a name in it (a name has no other
        wording, as "burgers" has "het publiek"), or most of it is missing."""
        lost = any(w in self.missing for w in (*self.head, *self.names))
        return lost or 2 * len(self.missing) > len(self.checked)

    @property
    def partly(self) -> bool:
        """Some of the topic is in the evidence: what it says of that part is worth a line."""
        return len(self.missing) < len(self.checked)

    def missing_as_written(self, question: str) -> str:
        """The missing words as ``question`` writes them, quoted: "“Turkije”, “NAVO”"."""
        written = {fold(w): w for w in reversed(_WORD.findall(question))}
        return ", ".join(f"“{written.get(w, w)}”" for w in self.missing)


_PREPOSITION = re.compile(
    r"(?i)\s(?:in|op|van|voor|onder|met|bij|tussen|tegen|naar|uit|over|door|na|als|"
    r"of|on|for|with|among|between|against|to|from|by|after|as|at)\s"
)


@dataclass(frozen=True)
class Topic:
    """The words that identify the topic a question names (see :func:`read_topic`), read once
    and held against each set of evidence."""

    words: tuple[str, ...] = ()
    head: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def cover(self, evidence: Sequence[str]) -> TopicCover:
        """Which of the words no ``evidence`` text (passages with their headings and titles)
        speaks of."""
        if not self.words:
            return TopicCover()
        texts = " ".join(evidence)
        words = {fold(w) for w in _WORD.findall(texts)}
        stems = set(tokenize(texts))
        missing = tuple(w for w in self.words if not _covered(w, stems, words))
        return TopicCover(self.words, missing, self.head, self.names)


def read_topic(
    question: str, language: str, languages: Collection[str], idf: Mapping[str, float]
) -> Topic:
    """The words of the question's topic (see :func:`topic_phrase`) that identify it: not
    those that point at the reports or ask for a kind of answer, nor those in a tenth of the
    passages or more (``idf``); no words when the question names no topic."""
    topic = topic_phrase(question)
    if not topic:
        return Topic()
    head_part = set(_topic_words(_PREPOSITION.split(f" {topic} ")[0], language, languages))
    checked = []
    for word in dict.fromkeys(_topic_words(topic, language, languages)):
        terms = tokenize(word)
        if not terms or any(t in _NOT_SUBJECT for t in terms):
            continue
        if all(idf.get(t, float("inf")) < COMMON_IDF for t in terms):
            continue  # in a tenth of the passages or more: says nothing of a subject
        checked.append(word)
    named = {
        fold(w) for w in _WORD.findall(topic) if w[:1].isupper() and not PLACE_ADJECTIVE.search(w)
    }
    return Topic(
        tuple(checked),
        tuple(w for w in checked if w in head_part),
        tuple(w for w in checked if w in named),
    )


def uncovered_topic(
    question: str,
    language: str,
    evidence: Sequence[str],
    idf: Mapping[str, float],
    languages: Collection[str] = (),
) -> TopicCover:
    """:func:`read_topic` held against ``evidence`` in one call."""
    return read_topic(question, language, languages, idf).cover(evidence)
