"""The section tree of the indexed reports, for reading a whole section when a question asks
for the items it lists.

Example:
    >>> from ingest.types import Chunk
    >>> cs = [Chunk.create("d", t, i, i + 1, s, title="T", ordinal=i) for i, (t, s) in
    ...       enumerate([("a", ("Drie opties",)), ("b", ("Drie opties", "Optie A")),
    ...                  ("c", ("Drie opties", "Optie B"))])]
    >>> [c.text for c in SectionTree(cs).within("d", ("Drie opties",))]
    ['a', 'b', 'c']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from assistant.evidence import bold_lead, labelled_item
from assistant.lists import noun_stem
from assistant.question import COUNT_WORDS, QuestionAnalysis
from index.terms import fold
from ingest.types import Chunk
from ingest.units import is_list_item, passage_units


class SectionTree:
    """Stored passages by report and section path, in report order."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            self._by_doc.setdefault(chunk.doc_id, []).append(chunk)

    def within(self, doc_id: str, path: tuple[str, ...]) -> Iterator[Chunk]:
        """The passages of section ``path`` and of its sub-sections, in report order."""
        for chunk in self._by_doc.get(doc_id, ()):
            if chunk.section[: len(path)] == path:
                yield chunk

    def list_passages(
        self, doc_id: str, path: tuple[str, ...], q: QuestionAnalysis, question: str
    ) -> list[Chunk]:
        """For a list question: the passages under the innermost heading of ``path`` that
        names what the question asks for (its noun, or its count: "Drie scenario's voor …",
        "VIER WERELDEN"), which hold list structure (labelled or bulleted items, bold lead
        terms) or open a sub-section."""
        stem = noun_stem(q.list_noun) if q.list_noun else ""
        count = next((w for w, n in COUNT_WORDS.items() if n == q.count), None)
        for depth in range(len(path), 0, -1):
            heading = fold(path[depth - 1])
            if (stem and stem in heading) or (count and count in heading.split()):
                break
        else:
            return []
        anchor = path[:depth]
        out: list[Chunk] = []
        seen: set[tuple[str, ...]] = set()
        for chunk in self.within(doc_id, anchor):
            opens_child = len(chunk.section) > depth and chunk.section not in seen
            seen.add(chunk.section)
            units = passage_units(chunk.text)
            listy = any(labelled_item(u) or is_list_item(u) or bold_lead(u) for u in units)
            if opens_child or listy:
                out.append(chunk)
        return out
