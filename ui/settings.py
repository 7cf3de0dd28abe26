"""The one settings object, read from the environment at the CLI and web edge only.

Environment variables use the prefix ``LEGATUS_`` and ``__`` between a section and its field,
e.g. ``LEGATUS_CHUNK__SIZE=800`` or ``LEGATUS_EMBEDDING__MODEL=intfloat/multilingual-e5-base``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.settings import AssistantSettings
from index.settings import EmbeddingSettings, IndexSettings
from ingest.access import labels
from ingest.settings import ChunkSettings, FeedSettings, ReadLimits


class UISettings(BaseModel):
    """The web page (`legatus serve`): where it listens, who may log in, how many it answers.

    Example:
        >>> UISettings(auth=["alice:secret"]).logins()
        [('alice', 'secret')]
    """

    host: str = Field("127.0.0.1", description="Address to listen on; 0.0.0.0 opens it to all.")
    port: int = Field(7860, ge=1, le=65535, description="Port to listen on.")
    auth: list[SecretStr] = Field(
        default_factory=list,
        description='Logins as "user:password" (JSON list in LEGATUS_UI__AUTH); empty: no login.',
    )
    groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The groups of each login, for reports with access labels (JSON in "
        'LEGATUS_UI__GROUPS: {"alice": ["internal", "bz-dgpz"]}); a login not listed, or the '
        "page without login, reads the unlabelled reports only.",
    )
    feedback_db: Path | None = Field(
        None, description="SQLite file of 👍/👎 feedback; default: feedback.sqlite3 by the index."
    )
    conversations_db: Path | None = Field(
        None,
        description="SQLite file of saved conversations; default: conversations.sqlite3 beside "
        "the feedback file.",
    )
    concurrency: int = Field(2, ge=1, le=32, description="Answers computed at the same time.")
    queue_size: int = Field(
        64, ge=1, le=10000, description="Questions that may wait; beyond, users are asked to retry."
    )
    max_comment_chars: int = Field(
        2000, ge=100, le=100_000, description="Longest feedback comment stored; longer is refused."
    )
    max_request_bytes: int = Field(
        1_000_000,
        ge=10_000,
        le=100_000_000,
        description="Largest request body the page accepts (413 beyond); questions and comments "
        "are far smaller.",
    )
    index_reload_s: float = Field(
        10.0,
        ge=0,
        le=3600,
        description="How often the page checks whether `legatus ingest` replaced the index, and "
        "then loads the new one (questions in flight finish on the old); 0: never.",
    )

    @field_validator("auth")
    @classmethod
    def _user_and_password(cls, value: list[SecretStr]) -> list[SecretStr]:
        for i, login in enumerate(value):
            user, sep, password = login.get_secret_value().partition(":")
            if not (sep and user.strip() and password):
                raise ValueError(f'login {i} must read "user:password" with neither part empty')
        return value

    @field_validator("groups")
    @classmethod
    def _group_names(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return {user.strip(): list(labels(names)) for user, names in value.items()}

    def groups_for(self, user: str | None) -> frozenset[str]:
        """The groups of login ``user`` (None: no login): whose reports the page shows them.

        Example:
            >>> UISettings(groups={"alice": ["Internal"]}).groups_for("alice")
            frozenset({'internal'})
        """
        return frozenset(self.groups.get(user.strip(), ())) if user else frozenset()

    def logins(self) -> list[tuple[str, str]]:
        """The (user, password) pairs Gradio's login accepts."""
        pairs = (s.get_secret_value().partition(":") for s in self.auth)
        return [(user.strip(), password) for user, _, password in pairs]


class Settings(BaseSettings):
    """All of Legatus's settings, one section per stage."""

    model_config = SettingsConfigDict(
        env_prefix="LEGATUS_", env_nested_delimiter="__", extra="forbid"
    )

    reports: Path = Field(
        default_factory=lambda: _default_reports(),
        description="Folder of reports that `legatus ingest` reads when given no paths.",
    )
    limits: ReadLimits = Field(
        default_factory=ReadLimits, description="Report file size limits, checked before reading."
    )
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    feeds: FeedSettings = Field(default_factory=FeedSettings, description="Report feeds.")
    embedding: EmbeddingSettings = Field(
        default_factory=EmbeddingSettings, description="Embedding model."
    )
    index: IndexSettings = Field(default_factory=IndexSettings, description="Search index.")
    assistant: AssistantSettings = Field(
        default_factory=AssistantSettings, description="Answering."
    )
    ui: UISettings = Field(default_factory=UISettings, description="The web page.")


def _default_reports() -> Path:
    """The bundled reports of a source checkout, else ``./data/reports``."""
    bundled = Path(__file__).resolve().parents[1] / "data" / "reports"
    return bundled if bundled.is_dir() else Path("data/reports")


def downloads_folder(settings: Settings) -> Path:
    """Where feeds put the reports they download: as configured, else downloads/ beside the
    index folder."""
    return settings.feeds.folder or settings.index.path.parent / "downloads"
