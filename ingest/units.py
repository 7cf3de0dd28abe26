"""Quotable units of a passage: its sentences, and list items standing alone.

The unit is what an answer quotes and what search scores one by one (a passage ranks by its
best-matching unit as well as by its whole text), so the index and the assistant cut passages the
same way.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from itertools import takewhile

from ingest.chunking import split_sentences

_BULLET = re.compile(r"^\s*(?:[-•▪●◦–]|\d{1,2}[.)])\s")
MIN_CHARS = 25
"""Shorter sentences (headings, "Zie ook:") are not units; list items are, at any length."""


def numbered_units(text: str) -> list[tuple[int, str]]:
    """The units of a passage, each with the number of the paragraph it stands in.

    Paragraphs are separated by blank lines; inside a paragraph, whitespace is collapsed.

    Example:
        >>> text = "Kop\\n\\nDe eerste zin staat er al. Een tweede zin volgt erop.\\n\\n- een"
        >>> numbered_units(text)
        [(1, 'De eerste zin staat er al.'), (1, 'Een tweede zin volgt erop.'), (2, '- een')]
    """
    units: list[tuple[int, str]] = []
    for number, block in enumerate(re.split(r"\n\s*\n", text)):
        block = " ".join(block.split())
        if _BULLET.match(block):
            units.append((number, block))  # an item stands alone; an announcing sentence brings it
        elif block:
            units.extend((number, block[a:b]) for a, b in split_sentences(block))
    return [(n, u) for n, u in units if len(u) >= MIN_CHARS or _BULLET.match(u)]


def passage_units(text: str) -> list[str]:
    """:func:`numbered_units` without the paragraph numbers.

    Example:
        >>> passage_units("Kopje\\n\\nDe eerste zin staat hier al.\\n\\n- een\\n\\n- twee")
        ['De eerste zin staat hier al.', '- een', '- twee']
    """
    return [unit for _, unit in numbered_units(text)]


def is_list_item(text: str) -> bool:
    """True for a bulleted or numbered item ("- een", "2. twee", "• drie")."""
    return bool(_BULLET.match(text))


_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
# after a word or closing punctuation; not after a digit ("10⁶") or a unit ("km²"): powers
_MARK = re.compile(r"(?<=[^\s\d⁰¹²³⁴⁵⁶⁷⁸⁹])(?<!\b[kcdm]m)(?<!\bm)[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}(?![⁰¹²³⁴⁵⁶⁷⁸⁹])")


def footnote_marks(sentence: str) -> list[str]:
    """The numbers of the footnotes a sentence refers to with superscript markers.

    Example:
        >>> footnote_marks("… worth the cost.”⁵ En verder¹²: ja.")
        ['5', '12']
    """
    return [m.group().translate(_SUPERSCRIPT) for m in _MARK.finditer(sentence)]


def is_footnote(unit: str, number: str) -> bool:
    """True if ``unit`` opens footnote ``number`` ("5 Atlantic Council, …, 10 juni 2011.")."""
    return re.match(rf"{number}\s+\S", unit) is not None


def footnote_starts(units: Sequence[tuple[Hashable, str]], number: str) -> list[int]:
    """Positions of the units that open footnote ``number``: they begin with the number and
    begin their paragraph. ``units`` are ``(paragraph, text)`` in reading order, the paragraph
    any key (:func:`numbered_units` gives numbers)."""
    return [
        i
        for i, (paragraph, unit) in enumerate(units)
        if is_footnote(unit, number) and (i == 0 or units[i - 1][0] != paragraph)
    ]


def rest_of_paragraph(units: Sequence[tuple[Hashable, str]], start: int) -> list[int]:
    """Positions of unit ``start`` and the units after it in the same paragraph."""
    paragraph = units[start][0]
    return list(takewhile(lambda i: units[i][0] == paragraph, range(start, len(units))))


def footnote_opening(text: str, number: str) -> list[str]:
    """The units of footnote ``number`` in a passage: the paragraph that opens with it, else [].

    Example:
        >>> footnote_opening("Tekst met een noot.⁵\\n\\n5 Atlantic Council, 10 juni 2011.", "5")
        ['5 Atlantic Council, 10 juni 2011.']
    """
    units = numbered_units(text)
    starts = footnote_starts(units, number)
    return [units[i][1] for i in rest_of_paragraph(units, starts[0])] if starts else []
