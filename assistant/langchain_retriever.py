"""The index as a LangChain retriever, for LangChain users.

Kept apart from ``assistant.retriever`` so that answering a question never imports LangChain (a
third of a second and more at start-up); ``assistant.retriever`` still hands out these names.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.retriever import Retriever, hit_json
from index.types import Hit, SearchFilters


def hit_to_document(hit: Hit) -> Document:
    """A search hit as a LangChain document; its metadata is :func:`hit_json` without the text."""
    metadata = hit_json(hit)
    metadata["doc_id"] = metadata["report"]  # the key LangChain users have filtered on so far
    return Document(page_content=metadata.pop("text"), id=hit.chunk.id, metadata=metadata)


class IndexRetriever(BaseRetriever):
    """Hybrid (dense + BM25) search over the Legatus index, for LangChain chains.

    Example:
        >>> retriever = IndexRetriever(index=search_index, k=5)  # doctest: +SKIP
        >>> docs = retriever.invoke("Wat is strategische autonomie?")  # doctest: +SKIP
        >>> docs[0].metadata["section"]  # doctest: +SKIP
        'Samenvatting'
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any  # a Retriever; typed loosely because pydantic cannot validate a Protocol
    k: int = 8
    filters: SearchFilters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        searcher: Retriever = self.index
        return [hit_to_document(h) for h in searcher.search(query, k=self.k, filters=self.filters)]
