"""The one settings object, read from the environment at the CLI and web edge only.

Environment variables use the prefix ``LEGATUS_`` and ``__`` between a section and its field,
e.g. ``LEGATUS_CHUNK__SIZE=800`` or ``LEGATUS_EMBEDDING__MODEL=intfloat/multilingual-e5-base``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings import AssistantSettings
from index.settings import EmbeddingSettings, IndexSettings
from ingest.settings import ChunkSettings


class Settings(BaseSettings):
    """All of Legatus's settings, one section per stage."""

    model_config = SettingsConfigDict(
        env_prefix="LEGATUS_", env_nested_delimiter="__", extra="forbid"
    )

    reports: Path = Field(
        default_factory=lambda: _default_reports(),
        description="Folder of reports that `legatus ingest` reads when given no paths.",
    )
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="Embedding model."
    )
    index: IndexSettings = Field(default_factory=IndexSettings, description="Search index.")
    assistant: AssistantSettings = Field(
        default_factory=AssistantSettings, description="Answering."
    )


def _default_reports() -> Path:
    """The bundled reports of a source checkout, else ``./data/reports``."""
    bundled = Path(__file__).resolve().parents[1] / "data" / "reports"
    return bundled if bundled.is_dir() else Path("data/reports")
