"""Reading a report's comparison tables: which column and row a quoted sentence stands in.

Reports compare options in tables: one column per scenario ("Scenario 1: De zure appel …",
"Scenario 2: Koorddans …"), one row per aspect ("Escalatie-risico", "Effect op afschrikking").
A passage keeps a table row as one line with its cells separated by tabs, but its sentences run
on from cell to cell, so a sentence quoted without its place would be read as being about
whichever scenario the reader guesses. Here a sentence is placed in its row and column, so that

* a question naming one column ("het scenario 'De zure appel'", "scenario 2") is answered from
  that column only: the other scenarios' cells in the same row are not its answer;
* the quote is shown under its row and column ("Escalatie-risico — Scenario 1"), not under the
  section heading alone.

The column heads are the table's first row whose cells carry labelled items ("Scenario 1: …",
"Optie B. …"); it may stand in another passage of the section, so the section's full text is
read (a passage may begin or end inside a row). Rows may carry an extra leading cell that
groups them ("De consequenties van de keuze"): columns are therefore counted from the right.

Example:
    >>> text = ("Kop\\tScenario 1: Rood gaat.\\tScenario 2: Blauw blijft."
    ...         "\\n\\nRisico\\tHoog.\\tLaag.")
    >>> table = Table.read(text)
    >>> table.place("Laag."), table.columns_named("Hoe groot is het risico in 'Blauw'?")
    ((('Risico',), 0), {0})
    >>> table.place("Scenario 2: Blauw blijft.")
    ((), 0)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.evidence import labelled_item
from index.terms import fold
from ingest.types import Chunk

_QUOTED = re.compile(r"['‘“\"](\w[^'’”\"]{2,59})['’”\"]")
_REFERENCE = re.compile(r"(?i)\b([a-z]+)\s+(\d{1,2}|[A-H])\b")
_TAIL = 40  # characters of a sentence's end that place it in its cell


def _squash(text: str) -> str:
    return " ".join(text.split())


def _rows(text: str) -> list[list[str]]:
    return [[_squash(c) for c in line.split("\t")] for line in text.split("\n") if "\t" in line]


@dataclass(frozen=True)
class Table:
    """The column heads of a section's table, rightmost first, and the section's rows."""

    heads: tuple[str, ...]  # header cells, the last column first
    labels: tuple[tuple[str, str], ...]  # (word, number) of each head: ("Scenario", "1")
    rows: tuple[tuple[str, ...], ...]  # the section's tab-separated lines, cells squashed

    @classmethod
    def read(cls, section_text: str) -> Table | None:
        """The table of a section's text, or None when it has no row of labelled heads."""
        rows = _rows(section_text)
        for cells in rows:
            labelled = [(c, item) for c in cells if c and (item := labelled_item(c)) is not None]
            if len(labelled) >= 2:
                heads = tuple(c for c, _ in reversed(labelled))
                labels = tuple((word, number) for _, (word, number, _) in reversed(labelled))
                return cls(heads, labels, tuple(tuple(r) for r in rows))
        return None

    def name(self, column: int) -> str:
        """A column's short name: "Scenario 1"."""
        word, number = self.labels[column]
        return f"{word} {number}"

    def columns_named(self, question: str) -> set[int]:
        """The columns a question names: by a quoted phrase of the head ("'De zure appel'") or
        by its label ("scenario 2")."""
        quoted = [fold(q) for q in _QUOTED.findall(question)]
        refs = {(fold(w), n.lower()) for w, n in _REFERENCE.findall(question)}
        named = set()
        for column, head in enumerate(self.heads):
            word, number = self.labels[column]
            if any(q in fold(head) for q in quoted) or (fold(word), number.lower()) in refs:
                named.add(column)
        return named

    def place(self, unit: str) -> tuple[tuple[str, ...], int] | None:
        """(row label cells, column from the right) of a sentence that stands in a row of this
        table, else None; the label is () for the row of column heads. A sentence running over
        from the row label into the first cell is placed by its end."""
        whole = _squash(unit)
        tail = whole[-_TAIL:]
        width = len(self.heads)
        for cells in self.rows:
            if len(cells) <= width:
                continue  # the header, or a row of another table
            for position, cell in enumerate(cells):
                inside = tail in cell or (len(cell) > 1 and whole.endswith(cell))
                if tail and inside and position >= len(cells) - width:
                    head = cells[len(cells) - width :] == tuple(reversed(self.heads))
                    label = tuple(c for c in cells[: len(cells) - width] if c)
                    return (() if head else label), len(cells) - 1 - position
        return None


def section_text(chunks: Sequence[Chunk]) -> str:
    """The text of a section rebuilt from its stored passages, which overlap: each passage is
    ``document.text[start:end]``, so the overlap is cut off by offsets."""
    out: list[str] = []
    end = -1
    for chunk in sorted(chunks, key=lambda c: c.start):
        if chunk.start >= end:
            out.append(("\n\n" if out else "") + chunk.text)
        elif chunk.end > end:
            out.append(chunk.text[end - chunk.start :])
        end = max(end, chunk.end)
    return "".join(out)
