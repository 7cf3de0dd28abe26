"""Dense retrieval with FAISS over L2-normalised vectors (inner product = cosine similarity).

Vectors are keyed by int64 ids derived from chunk ids (:func:`vector_id`), so a passage keeps its
vector id across rebuilds. Small corpora use exact search (``IndexFlatIP``); above
``IndexSettings.hnsw_threshold`` vectors an HNSW graph (``IndexHNSWFlat``, inner product) keeps
query time flat: see bench/RESULTS.md for the measurements behind the threshold. Both are wrapped
in ``IndexIDMap2``, which can give back a stored vector by id, so re-indexing reuses vectors
instead of re-embedding them.

Example:
    >>> import numpy as np
    >>> vectors = np.eye(3, dtype=np.float32)
    >>> dense = DenseIndex.build(vectors, np.array([7, 8, 9]), hnsw_threshold=10)
    >>> dense.search(np.array([0, 1, 0], dtype=np.float32), 1)
    [(8, 1.0)]
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from index.types import DenseInfo, IndexCorruptError

_ID_HEX_DIGITS = 15  # 60 bits: positive in int64, collisions negligible below billions of chunks
_EXACT_BELOW = 20_000
"""A filtered HNSW search over fewer allowed vectors than this is done exactly instead: a graph
walk that may only visit a few nodes can miss some of them."""


def vector_id(chunk_id: str) -> int:
    """The FAISS id of a chunk: the first 60 bits of its (hex sha256) id.

    Example:
        >>> vector_id("0000000000000ff" + "0" * 9)
        255
    """
    return int(chunk_id[:_ID_HEX_DIGITS], 16)


class DenseIndex:
    """A FAISS inner-product index over normalised vectors, keyed by int64 ids.

    Example:
        >>> import numpy as np
        >>> vecs = np.eye(4, dtype=np.float32)
        >>> dense = DenseIndex.build(vecs, np.arange(4), hnsw_threshold=100)
        >>> dense.info.kind, len(dense)
        ('flat', 4)
    """

    def __init__(self, index: faiss.Index, info: DenseInfo, *, ef_search: int = 128) -> None:
        self._index = index
        self.info = info
        self.ef_search = ef_search

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ids: np.ndarray,
        *,
        hnsw_threshold: int,
        hnsw_m: int = 32,
        hnsw_ef_construction: int = 80,
        ef_search: int = 128,
        dimension: int | None = None,
    ) -> DenseIndex:
        """An index over ``vectors`` (n × d float32, normalised) with ``ids`` (n int64).

        HNSW is used when there are at least ``hnsw_threshold`` vectors, else exact search.
        """
        dim = dimension or vectors.shape[1]
        inner: Any  # faiss's SWIG classes are only partly visible to type checkers
        if len(vectors) >= hnsw_threshold:
            inner = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            inner.hnsw.efConstruction = hnsw_ef_construction
            info = DenseInfo(kind="hnsw", hnsw_m=hnsw_m, hnsw_ef_construction=hnsw_ef_construction)
        else:
            inner = faiss.IndexFlatIP(dim)
            info = DenseInfo(kind="flat")
        index = faiss.IndexIDMap2(inner)
        if len(vectors):
            index.add_with_ids(_as_vectors(vectors), np.asarray(ids, dtype=np.int64))
        return cls(index, info, ef_search=ef_search)

    @classmethod
    def read(cls, path: Path, info: DenseInfo, *, ef_search: int = 128) -> DenseIndex:
        """Read a FAISS index written by :meth:`write`.

        Raises:
            IndexCorruptError: the file is missing or not a FAISS index.
        """
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorruptError(f"{path}: not a readable FAISS index ({exc})") from exc
        return cls(index, info, ef_search=ef_search)

    def add(self, vectors: np.ndarray, ids: np.ndarray) -> None:
        """Add vectors (n × d, normalised) under new ``ids``."""
        if len(vectors):
            self._index.add_with_ids(_as_vectors(vectors), np.asarray(ids, dtype=np.int64))

    def write(self, path: Path) -> None:
        """Write the index file; a failed write (a full disk) raises ``OSError``.

        Serialised in memory and written by Python: FAISS's own writer reports a failed write
        as a ``RuntimeError`` without the error number.
        """
        data = faiss.serialize_index(self._index)
        with path.open("wb") as handle:
            handle.write(data.tobytes())

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The stored vectors for ``ids`` (each must be in the index), n × d float32."""
        wanted = np.fromiter(ids, dtype=np.int64)
        if not len(wanted):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(wanted), dtype=np.float32)

    def search(
        self, query: np.ndarray, n: int, allowed: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        """The ``n`` nearest ids with their inner product, best first.

        Args:
            query: one normalised vector (d,).
            n: how many to return at most.
            allowed: if given, only these ids (int64) may be returned.
        """
        if not len(self) or n <= 0 or (allowed is not None and not len(allowed)):
            return []
        if allowed is not None and self.info.kind == "hnsw" and len(allowed) < _EXACT_BELOW:
            return self._exact(query, n, np.asarray(allowed, dtype=np.int64))
        params = self._params(allowed)
        with _one_thread():
            scores, ids = self._index.search(_as_vectors(query.reshape(1, -1)), n, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _exact(self, query: np.ndarray, n: int, ids: np.ndarray) -> list[tuple[int, float]]:
        scores = self.vectors(ids) @ _as_vectors(query)
        best = np.argsort(-scores, kind="stable")[:n]
        return [(int(ids[i]), float(scores[i])) for i in best]

    def _params(self, allowed: np.ndarray | None) -> Any:
        selector = None
        params: Any
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
        if self.info.kind == "hnsw":
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            params.efSearch = self.ef_search
            if selector is not None:
                params.sel = selector
            # keep the selector alive as long as the parameters (SWIG does not own it)
            params._selector = selector
            return params
        if selector is None:
            return None
        params = faiss.SearchParameters()
        params.sel = selector
        params._selector = selector
        return params


@contextlib.contextmanager
def _one_thread() -> Iterator[None]:
    """Search one query on one OpenMP thread: waking a team of threads for a single query costs
    more than it saves, and much more when other work shares the cores (at 50,000 passages on 2
    busy cores: 10 ms instead of 56 ms; see bench/RESULTS.md)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _as_vectors(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32)
