"""Settings of the ingest stage."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class ChunkSettings(BaseModel):
    """How documents are cut into passages.

    Example:
        >>> ChunkSettings(size=900, overlap=150).size
        900
    """

    size: int = Field(
        1000,
        ge=200,
        le=4000,
        description="Target passage length in characters; a passage may run past it to end a "
        "sentence. Kept well under the embedding model's 512-token window.",
    )
    overlap: int = Field(
        200,
        ge=0,
        description="Characters of the previous passage repeated at the start of the next one "
        "(whole sentences), so that a fact spanning a cut is still found in one passage.",
    )
    min_size: int = Field(
        120,
        ge=0,
        description="A section tail shorter than this is merged into the passage before it.",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        if self.overlap >= self.size // 2:
            raise ValueError(
                f"chunk overlap ({self.overlap}) must be less than half the chunk size "
                f"({self.size}); lower LEGATUS_CHUNK__OVERLAP or raise LEGATUS_CHUNK__SIZE"
            )
        return self
