"""The hybrid index as a LangChain retriever, returning documents with full citation metadata."""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.types import Passage
from index.types import Hit, SearchFilters


class Searcher(Protocol):
    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]: ...


def hit_to_document(hit: Hit) -> Document:
    """A search hit as a LangChain document; metadata carries everything a citation shows."""
    chunk, meta = hit.chunk, hit.document
    return Document(
        page_content=chunk.text,
        id=chunk.id,
        metadata={
            "chunk_id": chunk.id,
            "doc_id": chunk.doc_id,
            "title": meta.title or chunk.title,
            "publisher": meta.publisher,
            "date": meta.date,
            "section": chunk.section_label,
            "page": chunk.page,
            "page_end": chunk.page_end,
            "page_label": chunk.page_label,
            "section_page": chunk.section_page,
            "start": chunk.start,
            "end": chunk.end,
            "score": hit.score,
            "dense_score": hit.dense_score,
            "lexical_score": hit.lexical_score,
            "rank": hit.rank,
            "parts": list(hit.part_ids),
        },
    )


def document_to_passage(doc: Document) -> Passage:
    m: dict[str, Any] = doc.metadata
    return Passage(
        chunk_id=m["chunk_id"],
        doc_id=m["doc_id"],
        text=doc.page_content,
        title=m["title"],
        section=m["section"],
        score=float(m["score"]),
        rank=int(m["rank"]),
        publisher=m.get("publisher", ""),
        date=m.get("date", ""),
        page=m.get("page"),
        page_end=m.get("page_end"),
        page_label=m.get("page_label"),
        section_page=m.get("section_page"),
        parts=tuple(m.get("parts", ())),
    )


class IndexRetriever(BaseRetriever):
    """Hybrid (dense + BM25) search over the Legatus index, for LangChain chains.

    Example:
        >>> retriever = IndexRetriever(index=search_index, k=5)  # doctest: +SKIP
        >>> docs = retriever.invoke("Wat is strategische autonomie?")  # doctest: +SKIP
        >>> docs[0].metadata["section"]  # doctest: +SKIP
        'Samenvatting'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any  # a Searcher; typed loosely because pydantic cannot validate a Protocol
    k: int = 8
    filters: SearchFilters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        searcher: Searcher = self.index
        return [hit_to_document(h) for h in searcher.search(query, k=self.k, filters=self.filters)]
