"""Quotable units of a passage: its sentences, and list items standing alone.

The unit is what an answer quotes and what search scores one by one (a passage ranks by its
best-matching unit as well as by its whole text), so the index and the assistant cut passages the
same way.
"""

from __future__ import annotations

import re

from ingest.chunking import split_sentences

_BULLET = re.compile(r"^\s*(?:[-•▪●◦–]|\d{1,2}[.)])\s")
MIN_CHARS = 25
"""Shorter sentences (headings, "Zie ook:") are not units; list items are, at any length."""


def numbered_units(text: str) -> list[tuple[int, str]]:
    """The units of a passage, each with the number of the paragraph it stands in.

    Paragraphs are separated by blank lines; inside a paragraph, whitespace is collapsed.

    Example:
        >>> numbered_units("Kopje\\n\\nEerste zin is hier. Tweede zin volgt.\\n\\n- een")
        [(1, 'Eerste zin is hier.'), (1, 'Tweede zin volgt.'), (2, '- een')]
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
        >>> passage_units("Kopje\\n\\nEerste zin is hier. Tweede zin volgt.\\n\\n- een\\n\\n- twee")
        ['Eerste zin is hier.', 'Tweede zin volgt.', '- een', '- twee']
    """
    return [unit for _, unit in numbered_units(text)]


def is_list_item(text: str) -> bool:
    """True for a bulleted or numbered item ("- een", "2. twee", "• drie")."""
    return bool(_BULLET.match(text))
