"""Sentence vectors: every quotable unit of every passage, embedded once at indexing time.

A passage's own vector blends everything it says; a question about one sentence of a long
passage can rank it low. Search therefore also ranks passages by their best-matching sentence
(a third ranking fused with the passage vectors and BM25), and the extractive answerer reuses these
vectors instead of embedding the retrieved passages' sentences for every question.

Each unit also has a *context vector*: the embedding of the unit read together with the unit before
it in its passage (a passage's first unit takes its own vector). A sentence such as "Momenteel heeft
de luchtmacht de Cougar …" says what it answers only with the sentence before it ("… bedoeld om de
huidige generatie helikopters te vervangen"); the answerer blends the two similarities.

Units are cut by :func:`ingest.units.passage_units`, the same function the answerer uses, so a
unit's vector can be looked up by its text. Vectors are stored as float16 (half the disk; the
cosine changes by less than 1e-3) and held as float32 in memory.

Example:
    >>> idx = SentenceIndex(np.eye(3, dtype=np.float32), np.array([7, 7, 9]))
    >>> idx.run_owners.tolist(), idx.best_per_run(np.array([0.0, 1.0, 0.5])).tolist()
    ([7, 9], [1.0, 0.5])
    >>> context_texts(["Eén.", "Twee.", "Drie."])
    [None, 'Eén. Twee.', 'Twee. Drie.']
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.types import IndexCorruptError
from ingest.types import Chunk
from ingest.units import passage_units

SENTENCES_FILE = "sentences.npz"


class SentenceIndex:
    """Unit vectors (rows), their context vectors, and the vector id of the passage each belongs to.

    A passage's units occupy consecutive rows, in the order :func:`passage_units` gives them.
    ``context`` defaults to the unit vectors themselves (no context).
    """

    def __init__(
        self, vectors: np.ndarray, owners: np.ndarray, context: np.ndarray | None = None
    ) -> None:
        if len(vectors) != len(owners):
            raise ValueError(f"{len(vectors)} vectors but {len(owners)} owners")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.context = (
            self.vectors if context is None else np.ascontiguousarray(context, dtype=np.float32)
        )
        if self.context.shape != self.vectors.shape:
            raise ValueError(f"context vectors {self.context.shape} != {self.vectors.shape}")
        self.owners = np.asarray(owners, dtype=np.int64)
        # one run of consecutive rows per passage: where the owner changes
        new_owner = np.ones(len(self.owners), dtype=bool)
        new_owner[1:] = self.owners[1:] != self.owners[:-1]
        self.starts = np.flatnonzero(new_owner)
        self.run_owners = self.owners[self.starts]
        ends = np.append(self.starts[1:], len(self.owners))[: len(self.starts)]
        self._span = {
            int(o): (int(a), int(b))
            for o, a, b in zip(self.run_owners, self.starts, ends, strict=True)
        }
        if len(self._span) != len(self.run_owners):
            raise ValueError("a passage's sentence vectors are not in consecutive rows")

    def __len__(self) -> int:
        return len(self.owners)

    @classmethod
    def empty(cls, dimension: int) -> SentenceIndex:
        return cls(np.zeros((0, dimension), dtype=np.float32), np.zeros(0, dtype=np.int64))

    def rows_of(self, owner: int) -> np.ndarray:
        """The unit vectors of one passage (empty if it has none)."""
        start, end = self._span.get(owner, (0, 0))
        return self.vectors[start:end]

    def context_rows_of(self, owner: int) -> np.ndarray:
        """The context vectors of one passage's units (empty if it has none)."""
        start, end = self._span.get(owner, (0, 0))
        return self.context[start:end]

    def best_per_run(self, query: np.ndarray) -> np.ndarray:
        """For each passage (in the order of ``run_owners``), the cosine of its best-matching
        unit with the query vector."""
        if not len(self.owners):
            return np.zeros(0, dtype=np.float32)
        sims = self.vectors @ query.astype(np.float32, copy=False)
        return np.maximum.reduceat(sims, self.starts)

    def unit_vectors(self, piece: Chunk, owner: int) -> dict[str, np.ndarray]:
        """Unit text → its vector and context vector (a ``(2, dimension)`` array) for one stored
        passage; empty if its rows do not match its units."""
        units = passage_units(piece.text)
        rows, context = self.rows_of(owner), self.context_rows_of(owner)
        if len(rows) != len(units):
            return {}
        return {u: np.stack([r, c]) for u, r, c in zip(units, rows, context, strict=True)}

    def save(self, file: Path) -> None:
        with file.open("wb") as handle:
            np.savez(
                handle,
                vectors=self.vectors.astype(np.float16),
                context=self.context.astype(np.float16),
                owners=self.owners,
            )

    @classmethod
    def load(cls, file: Path, dimension: int) -> SentenceIndex:
        """Read a saved index.

        Raises:
            IndexCorruptError: the file is missing, unreadable or of the wrong dimension.
        """
        try:
            with np.load(file) as data:
                vectors, context, owners = data["vectors"], data["context"], data["owners"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"{file}: unreadable sentence vectors ({exc})") from exc
        if vectors.ndim != 2 or (len(vectors) and vectors.shape[1] != dimension):
            raise IndexCorruptError(f"{file}: sentence vectors of shape {vectors.shape}")
        try:
            return cls(vectors.astype(np.float32), owners, context.astype(np.float32))
        except ValueError as exc:
            raise IndexCorruptError(f"{file}: {exc}") from exc


def chunk_units(chunks: Sequence[Chunk]) -> list[list[str]]:
    """The units of each passage, as the sentence index stores them."""
    return [passage_units(piece.text) for piece in chunks]


def context_texts(units: Sequence[str]) -> list[str | None]:
    """What each unit's context vector embeds: the unit after the one before it in its passage;
    None for the first unit (its context vector is its own vector)."""
    return [None if i == 0 else f"{units[i - 1]} {unit}" for i, unit in enumerate(units)]
