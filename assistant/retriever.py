"""What the assistant needs of an index, the one mapping of a search hit to a passage, and the
index as a LangChain retriever for LangChain users (``IndexRetriever``, ``hit_to_document``:
defined in ``assistant.langchain_retriever`` and imported from there on first use, so that
answering a question never loads LangChain).

:class:`Retriever` is the seam: the embedded index (``index.search.SearchIndex``), the systems
evaluation compares it with (``eval.systems``) and any later backend implement all of it.
Optional abilities are part of the protocol: a backend without stored sentence vectors returns
``{}`` from ``unit_vectors``, one without report order returns ``()`` from ``following`` (so
no footnote is looked up past the retrieved passages).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from assistant.types import Passage
from index.types import Hit, SearchFilters
from ingest.types import Chunk, DocumentMeta


class Retriever(Protocol):
    """Search over indexed passages, as the assistant uses it."""

    @property
    def chunks(self) -> Sequence[Chunk]:
        """Every stored passage, in report order."""
        ...

    @property
    def documents(self) -> Mapping[str, DocumentMeta]:
        """Each indexed report's metadata, by id."""
        ...

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        """The ``k`` best passages for ``query`` among the reports ``filters`` allow."""
        ...

    def unit_vectors(self, chunk_ids: Sequence[str]) -> Mapping[str, np.ndarray]:
        """Stored sentence and context vectors of these passages' sentences; {} if none."""
        ...

    def following(self, chunk_id: str, count: int) -> Sequence[Chunk]:
        """Stored passage ``chunk_id`` and up to ``count`` passages after it in the same report;
        () if there is no such passage or no report order."""
        ...


def passage_from_hit(hit: Hit) -> Passage:
    """A search hit as the assistant shows and cites it."""
    return passage_from_chunk(hit.chunk, hit.document, hit.score, hit.rank, hit.part_ids)


def passage_from_chunk(
    chunk: Chunk, meta: DocumentMeta, score: float = 0.0, rank: int = 0,
    parts: tuple[str, ...] = (),
) -> Passage:  # fmt: skip
    """A stored passage as a citable one (e.g. a sub-section brought in for a list)."""
    return Passage(
        chunk_id=chunk.id,
        doc_id=chunk.doc_id,
        text=chunk.text,
        title=meta.title or chunk.title,
        section=chunk.section_label,
        score=score,
        rank=rank,
        publisher=meta.publisher,
        date=meta.date,
        page=chunk.page,
        page_end=chunk.page_end,
        page_label=chunk.page_label,
        section_page=chunk.section_page,
        parts=parts or (chunk.id,),
        section_path=chunk.section,
        language=meta.language,
        source_file=meta.source_file,
        url=meta.url,
        page_starts=tuple((at - chunk.start, page, label) for at, page, label in chunk.page_starts),
    )


def hit_json(hit: Hit) -> dict[str, Any]:
    """A search hit as JSON: its passage as ``Answer.to_json`` lists it, plus what only a hit
    has (the unrounded fused score, each retriever's own score, the page it points to, the
    section path, the report's language and the passage's offsets in the report's text).

    Example:
        >>> chunk = Chunk.create("hcss", "Tekst.", 0, 6, ("1. Inleiding",), title="M", ordinal=0)
        >>> meta = DocumentMeta(doc_id="hcss", title="Monitor", source_file="hcss.txt")
        >>> row = hit_json(Hit(chunk, meta, rank=1, score=0.5, lexical_score=2.0))
        >>> row["report"], row["section_path"], row["dense_score"], row["end"]
        ('hcss', ['1. Inleiding'], None, 6)
    """
    p = passage_from_hit(hit)
    return {
        **p.to_json(),
        "score": hit.score,
        "dense_score": hit.dense_score,
        "lexical_score": hit.lexical_score,
        "page_ref": hit.page,
        "section_path": list(p.section_path),
        "language": p.language,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
    }


def __getattr__(name: str) -> Any:
    # The LangChain adapter, imported only when someone asks for it.
    if name in ("IndexRetriever", "hit_to_document"):
        from assistant import langchain_retriever

        return getattr(langchain_retriever, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
