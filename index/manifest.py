"""What an index's manifest records of how it was built, and the check that a loaded index was
built the way the running process would build it (same model, prompts and BM25 settings)."""

from __future__ import annotations

from pathlib import Path

from index.embedding import Embedder
from index.lexical import K1, TOKENIZER, B
from index.settings import IndexSettings
from index.store import REBUILD_HINT
from index.types import EmbeddingInfo, IndexMismatchError, LexicalInfo


def lexical_info(settings: IndexSettings) -> LexicalInfo:
    """How the BM25 index is built under ``settings``, for the manifest."""
    return LexicalInfo(
        tokenizer=TOKENIZER, k1=K1, b=B, section_context=settings.lexical_section_context
    )


def embedding_info(embedder: Embedder) -> EmbeddingInfo:
    """How ``embedder`` makes vectors, for the manifest (loads the model to learn its dimension)."""
    s = embedder.settings
    return EmbeddingInfo(
        model=s.model,
        model_id=embedder.model_id,
        dimension=embedder.dimension,
        normalized=True,
        query_prompt=s.query_prompt,
        passage_prompt=s.passage_prompt,
    )


def check_embedding(stored: EmbeddingInfo, embedder: Embedder, *, where: Path | str) -> None:
    """Refuse an index whose vectors another model (or prompt) made: they are not comparable.

    Raises:
        IndexMismatchError: the model id or a prompt differs.
    """
    s = embedder.settings
    mine = {"model": embedder.model_id, "query prompt": s.query_prompt,
            "passage prompt": s.passage_prompt}  # fmt: skip
    theirs = {"model": stored.model_id, "query prompt": stored.query_prompt,
              "passage prompt": stored.passage_prompt}  # fmt: skip
    for what, value in mine.items():
        if theirs[what] != value:
            raise IndexMismatchError(
                f"the index at {where} was built with embedding {what} {theirs[what]!r}, but "
                f"{value!r} is configured; {REBUILD_HINT}, or set LEGATUS_EMBEDDING__MODEL back "
                f"to {stored.model!r}"
            )
