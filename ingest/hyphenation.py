"""Deciding what a hyphen at the end of an extracted line means.

PDF extraction leaves words broken across lines (``mede-`` / ``ondertekenaars``) beside real
compounds that happen to break at their own hyphen (``EU-`` / ``lidstaten``). The decision uses
the document's own vocabulary first (a word seen whole elsewhere is whole here too), then Dutch
spelling rules: acronyms and proper nouns keep their hyphen, as do vowel clashes (``zee-egel``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_WORD = re.compile(r"[^\W\d_](?:[\w’']*[^\W_])?", re.UNICODE)
_HYPHENATED = re.compile(r"\b([^\W\d_]+)-([^\W\d_]+)\b", re.UNICODE)
_VOWELS = set("aeiouyáéíóúàèëïöüâêîôû")
# "onderzoeks- en ontwikkelingsbeleid": a hyphen before a conjunction elides a shared part.
_CONJUNCTIONS = frozenset({"en", "of", "tot", "noch", "and", "or", "to"})
# Prefixes that Dutch spelling always joins with a hyphen (niet-statelijke, ex-minister).
_HYPHEN_PREFIXES = frozenset({"niet", "non", "ex", "oud", "pre", "post"})
_INLINE_BREAK = re.compile(r"\b([^\W\d_]+)- ([^\W\d_][\w’']*)")


@dataclass(frozen=True)
class Vocabulary:
    """Words (lower-cased) and hyphenated compounds seen whole in a document."""

    words: frozenset[str]
    compounds: frozenset[str]

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Vocabulary:
        words: set[str] = set()
        compounds: set[str] = set()
        for line in lines:
            # The last word of a line ending in a hyphen is a fragment, not a word.
            body = line[: line.rstrip().rfind(" ")] if line.rstrip().endswith("-") else line
            words.update(w.lower() for w in _WORD.findall(body))
            compounds.update(m.group(0).lower() for m in _HYPHENATED.finditer(body))
        return cls(frozenset(words), frozenset(compounds))


def _trailing_word(text: str) -> str:
    match = re.search(r"([\w’']+)-$", text)
    return match.group(1) if match else ""


def _leading_word(text: str) -> str:
    match = re.match(r"([\w’']+)", text)
    return match.group(1) if match else ""


def join_broken_line(left: str, right: str, vocab: Vocabulary) -> str:
    """Join two consecutive lines of one paragraph, repairing a line-break hyphenation.

    Example:
        >>> v = Vocabulary.from_lines(["de medeondertekenaars en de EU-lidstaten"])
        >>> join_broken_line("zijn mede-", "ondertekenaars van", v)
        'zijn medeondertekenaars van'
        >>> join_broken_line("andere EU-", "lidstaten", v)
        'andere EU-lidstaten'
    """
    left = left.rstrip()
    right = right.strip()
    if not left:
        return right
    if not right:
        return left
    if left.endswith("-") and not left.endswith(" -") and len(left) > 1 and left[-2].isalpha():
        head, tail = _trailing_word(left), _leading_word(right)
        if tail.lower() in _CONJUNCTIONS:
            return f"{left} {right}"
        if head and tail and not keep_hyphen(head, tail, vocab):
            return left[:-1] + right
        if head and tail:
            return left + right
    return f"{left} {right}"


def keep_hyphen(head: str, tail: str, vocab: Vocabulary) -> bool:
    """Whether ``head-`` + ``tail`` at a line break is a real hyphenated compound."""
    if not tail[0].islower():
        return True  # trans-Atlantische, anti-EU: a capital is never inside a word
    joined, hyphenated = (head + tail).lower(), f"{head}-{tail}".lower()
    if joined in vocab.words:
        return False
    if hyphenated in vocab.compounds or head.lower() in _HYPHEN_PREFIXES:
        return True  # niet-statelijke
    if sum(c.isupper() for c in head) >= 2 or any(c.isdigit() for c in head):
        return True  # EU-lidstaten, NAVO-bondgenoten
    if head[0].isupper() and len(head) >= 3 and len(tail) >= 4 and tail.lower() in vocab.words:
        return True  # Huawei-technologieën: a name joined to a whole word
    # Dutch keeps a hyphen where two vowels would otherwise read as one sound (zee-egel).
    return (
        head[-1].lower() in _VOWELS
        and tail[0].lower() in _VOWELS
        and (head.lower() in vocab.words and tail.lower() in vocab.words)
    )


def repair_inline_breaks(text: str, vocab: Vocabulary) -> str:
    """Repair ``niet- statelijke``: a line-break hyphen the extractor left inside a line.

    Example:
        >>> repair_inline_breaks("onderzoeks- en ontwikkelings- kosten", Vocabulary.from_lines([]))
        'onderzoeks- en ontwikkelingskosten'
    """

    def fix(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        if tail.lower() in _CONJUNCTIONS or not tail[0].islower():
            return match.group(0)
        return f"{head}-{tail}" if keep_hyphen(head, tail, vocab) else head + tail

    return _INLINE_BREAK.sub(fix, text)
