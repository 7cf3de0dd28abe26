"""The systems evaluation compares: Legatus, its two retrievers alone, and a plain LangChain RAG.

Every system answers with the same extractive answerer and citation check, so differences in
the report come from what each one retrieves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import faiss
import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.pipeline import Assistant, drafting_llm
from assistant.settings import AssistantSettings
from index.embedding import Embedder
from index.search import PassageSearch
from index.settings import Mode
from index.types import Hit, SearchFilters
from ingest import discover
from ingest.readers import read_raw
from ingest.types import Chunk, DocumentMeta

SYSTEMS = ("legatus", "dense", "bm25", "langchain")


class ModeSearcher:
    """The Legatus index restricted to one retriever (dense-only or BM25-only)."""

    def __init__(self, index: PassageSearch, mode: Mode) -> None:
        self.index = index
        self.mode = mode

    @property
    def chunks(self) -> Sequence[Chunk]:
        return self.index.chunks

    @property
    def documents(self) -> Mapping[str, DocumentMeta]:
        return self.index.documents

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        return self.index.search(query, k, filters, mode=self.mode)

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The index's stored sentence vectors: the answerer works as in Legatus itself."""
        return self.index.unit_vectors(chunk_ids)

    def following(self, chunk_id: str, count: int) -> tuple[Chunk, ...]:
        return self.index.following(chunk_id, count)


class NaiveLangChainSearcher:
    """What a plain LangChain tutorial builds: split the raw text with the recursive character
    splitter, embed the pieces with the same model, FAISS inner-product search, top k.

    No cleaning, no sections, no keyword index, no de-duplication of overlapping pieces.
    """

    def __init__(self, reports: Path, embedder: Embedder, size: int = 1000, overlap: int = 200):
        self.embedder = embedder
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=size, chunk_overlap=overlap, add_start_index=True
        )
        self.documents: dict[str, DocumentMeta] = {}
        pieces: list[Chunk] = []
        for path in discover([reports]):
            raw = read_raw(path)
            self.documents[raw.meta.doc_id] = raw.meta
            text = "\n\n".join(b.text for b in raw.blocks)
            for doc in splitter.create_documents([text]):
                start = int(doc.metadata["start_index"])
                pieces.append(
                    Chunk.create(
                        raw.meta.doc_id,
                        doc.page_content,
                        start,
                        start + len(doc.page_content),
                        (),
                        title=raw.meta.title,
                        ordinal=len(pieces),
                    )
                )
        self.chunks: tuple[Chunk, ...] = tuple(pieces)
        vectors = embedder.encode_passages([c.text for c in pieces])
        self._faiss = faiss.IndexFlatIP(vectors.shape[1])
        self._faiss.add(vectors)

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        query_vector = self.embedder.encode_queries([query])
        scores, rows = self._faiss.search(query_vector, min(k * 4, len(self.chunks)))
        hits: list[Hit] = []
        for score, row in zip(scores[0], rows[0], strict=True):
            piece = self.chunks[int(row)]
            meta = self.documents[piece.doc_id]
            if filters is not None and not filters.accepts(meta):
                continue
            hits.append(Hit(piece, meta, len(hits) + 1, float(score), dense_score=float(score)))
            if len(hits) == k:
                break
        return hits

    def unit_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """None stored: the answerer embeds the retrieved sentences itself."""
        return {}

    def following(self, chunk_id: str, count: int) -> tuple[Chunk, ...]:
        """No footnote lookup past the retrieved pieces (they have no report structure)."""
        return ()


def build_system(
    name: str,
    index: PassageSearch,
    embedder: Embedder,
    settings: AssistantSettings,
    reports: Path,
) -> Assistant:
    """An assistant for one of ``SYSTEMS``, answering with the answerer ``settings`` choose."""
    llm = drafting_llm(settings)
    if name == "legatus":
        return Assistant(index, embedder, settings, llm)
    if name in ("dense", "bm25"):
        mode: Mode = "dense" if name == "dense" else "lexical"
        return Assistant(ModeSearcher(index, mode), embedder, settings, llm)
    if name == "langchain":
        return Assistant(NaiveLangChainSearcher(reports, embedder), embedder, settings, llm)
    raise ValueError(f"unknown system '{name}'; choose one of {', '.join(SYSTEMS)}")
