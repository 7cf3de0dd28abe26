"""Values of the index stage: search hits, filters, the saved index's manifest, and its errors.

Example:
    >>> SearchFilters(publishers=("clingendael",)).active
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ingest.settings import ChunkSettings
from ingest.types import Chunk, DocumentMeta

SCHEMA_VERSION = 3
"""Version of the index folder layout; a folder written with another version is refused by
search and rebuilt by ``legatus ingest``. 2: sentence vectors (sentences.npz); 3: their context
vectors."""


class SearchIndexError(Exception):
    """Base class of the index stage's errors; the message says what went wrong and what to do."""


class IndexNotFoundError(SearchIndexError):
    """There is no index at the configured path (run ``legatus ingest``)."""


class IndexMismatchError(SearchIndexError):
    """The index was written with another schema or embedding model (rebuild it)."""


class IndexSchemaError(IndexMismatchError):
    """The index folder was written by another version of Legatus (ingest rebuilds it)."""


class IndexCorruptError(SearchIndexError):
    """The index folder is unreadable or inconsistent (rebuild it)."""


@dataclass(frozen=True)
class SearchFilters:
    """Which passages a search may return; an empty field does not filter.

    Publishers match case-insensitively on a substring ("clingendael" matches "Instituut
    Clingendael"). Dates are ISO 8601 strings of any precision and compare on their common
    prefix, so ``date_to="2022"`` keeps a report dated "2022-06"; a report without a date is
    left out when a date bound is given.

    Example:
        >>> f = SearchFilters(doc_ids=("hcss-strategische-monitor-2022",), date_from="2020")
        >>> f.accepts(DocumentMeta("hcss-strategische-monitor-2022", "T", "f.txt", date="2022"))
        True
    """

    doc_ids: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.doc_ids or self.publishers or self.date_from or self.date_to)

    def accepts(self, meta: DocumentMeta) -> bool:
        """True if passages of the report ``meta`` describes may be returned."""
        if self.doc_ids and meta.doc_id not in self.doc_ids:
            return False
        publisher = meta.publisher.casefold()
        if self.publishers and not any(p.casefold() in publisher for p in self.publishers):
            return False
        if (self.date_from or self.date_to) and not meta.date:
            return False
        if self.date_from and _prefix_cmp(meta.date, self.date_from) < 0:
            return False
        return not (self.date_to and _prefix_cmp(meta.date, self.date_to) > 0)


def _prefix_cmp(a: str, b: str) -> int:
    n = min(len(a), len(b))
    return (a[:n] > b[:n]) - (a[:n] < b[:n])


@dataclass(frozen=True)
class Hit:
    """One ranked passage from a search, with its report's metadata and the scores behind it.

    ``score`` is the fused score the ranking uses (reciprocal-rank fusion for hybrid search, the
    retriever's own score for a single-retriever search). ``dense_score`` (cosine similarity) and
    ``lexical_score`` (BM25) are None when that retriever did not return the passage among its
    candidates.

    Example:
        >>> hits = index.search("Welke onderzoeksmethoden?", k=3)  # doctest: +SKIP
        >>> hits[0].chunk.section_label, hits[0].document.title  # doctest: +SKIP
        ('1. Inleiding', 'Strategische Monitor 2022')
    """

    chunk: Chunk
    document: DocumentMeta
    rank: int  # 1-based
    score: float
    dense_score: float | None = None
    lexical_score: float | None = None
    dense_rank: int | None = None  # 1-based rank among the dense candidates
    lexical_rank: int | None = None
    sentence_score: float | None = None  # cosine of the passage's best-matching sentence
    parts: tuple[str, ...] = ()  # ids of the stored passages merged into ``chunk``

    @property
    def part_ids(self) -> tuple[str, ...]:
        """The stored passages this hit covers: its ``parts``, or its own passage."""
        return self.parts or (self.chunk.id,)

    @property
    def page(self) -> str | None:
        """Where to look: the printed page label, else the physical page, else the page where
        the section starts (from a table of contents), else None."""
        if self.chunk.page_label:
            return self.chunk.page_label
        if self.chunk.page is not None:
            return str(self.chunk.page)
        return self.chunk.section_page


# --- the manifest ---------------------------------------------------------------------------


class EmbeddingInfo(BaseModel):
    """How the vectors in an index were made; a query must be embedded the same way."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(description="The configured model name (EmbeddingSettings.model).")
    model_id: str = Field(description="The embedder's own id of the loaded model.")
    dimension: int = Field(ge=1, description="Vector dimension.")
    normalized: bool = Field(
        default=True, description="Vectors are L2-normalised (inner product = cos)."
    )
    query_prompt: str = Field(description="Prompt name used for queries.")
    passage_prompt: str = Field(description="Prompt name used for passages.")


class DenseInfo(BaseModel):
    """Which FAISS index holds the vectors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["flat", "hnsw"] = Field(description="Exact inner product, or an HNSW graph.")
    hnsw_m: int = Field(default=0, description="HNSW neighbours per node (0 for flat).")
    hnsw_ef_construction: int = Field(default=0, description="HNSW build-time beam (0 for flat).")


class LexicalInfo(BaseModel):
    """How the saved BM25 index was built; with other settings it is rebuilt at load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tokenizer: str = Field(description="Tokenisation version (index.terms.TOKENIZER).")
    k1: float
    b: float
    section_context: int = Field(description="IndexSettings.lexical_section_context used.")


class DocumentEntry(BaseModel):
    """One indexed report: where it came from, its metadata, and its passages."""

    model_config = ConfigDict(extra="forbid")

    doc_id: str
    title: str
    source_file: str = Field(description="File name the text came from (from the metadata).")
    path: str = Field(
        default="", description="Absolute path the report was read from; '' if unknown."
    )
    publisher: str = ""
    date: str = ""
    language: str = ""
    url: str = ""
    authors: list[str] = Field(default_factory=list)
    access: list[str] = Field(
        default_factory=list,
        description="Groups that may read the report (ingest.access); empty: everyone.",
    )
    content_hash: str = Field(description="sha256 of the source file's bytes.")
    indexed_at: str = Field(
        default="",
        description="When this version of the report (its text or metadata) was indexed "
        "(ISO 8601, UTC); '' in an index written before it was recorded.",
    )
    page_count: int = 0
    section_count: int = 0
    chunk_ids: list[str] = Field(description="Ids of the report's passages, in text order.")

    def meta(self) -> DocumentMeta:
        return DocumentMeta(
            doc_id=self.doc_id,
            title=self.title,
            source_file=self.source_file,
            publisher=self.publisher,
            date=self.date,
            language=self.language,
            url=self.url,
            authors=tuple(self.authors),
            access=tuple(self.access),
        )


class IndexCounts(BaseModel):
    """Totals, for a quick look without reading the chunk store."""

    documents: int = 0
    chunks: int = 0
    pages: int = 0
    sentences: int = 0
    sentences_pending: int = Field(
        0,
        description="Passages written without their sentence vectors (``update_index``'s "
        "``defer_sentences``, as ``legatus watch`` does); the next update embeds them.",
    )


class IndexManifest(BaseModel):
    """``manifest.json`` of an index folder: what is in it and how it was made.

    Example:
        >>> m = IndexManifest.model_validate_json(Path("index/manifest.json").read_text())
        ... # doctest: +SKIP
        >>> m.embedding.model_id, m.counts.chunks  # doctest: +SKIP
        ('multilingual-e5-small', 245)
    """

    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(description="Layout version; see index.types.SCHEMA_VERSION.")
    created_at: str = Field(description="When the index was first built (ISO 8601, UTC).")
    updated_at: str = Field(description="When it was last written (ISO 8601, UTC).")
    embedding: EmbeddingInfo
    dense: DenseInfo
    lexical: LexicalInfo
    chunking: ChunkSettings = Field(description="Chunk settings the passages were cut with.")
    counts: IndexCounts
    documents: dict[str, DocumentEntry] = Field(description="doc_id → entry, sorted by id.")
    package_versions: dict[str, str] = Field(default_factory=dict)
