"""Settings of the ingest stage."""

from __future__ import annotations

from pathlib import Path

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


class ReadLimits(BaseModel):
    """How large a report file may be, checked before it is read, so one odd file cannot stall
    or exhaust a batch.

    A policy report is rarely over a few MiB of text (300 pages of prose are about 1 MiB); the
    limits leave ample room above that while keeping the worst case under them to about a minute
    and about a GiB of memory on a small machine (see ``bench/bench_ingest_limits.py``).
    Environment: ``LEGATUS_LIMITS__<FIELD>``, e.g. ``LEGATUS_LIMITS__MAX_TEXT_MIB=40``.

    Example:
        >>> ReadLimits().bytes_for(".md") == 20 * 2**20
        True
    """

    max_text_mib: int = Field(
        20,
        ge=1,
        le=1024,
        description="Largest .txt, .md/.markdown or .html/.htm file, in MiB. Reading and cutting "
        "take about 1 s and 30 MiB of memory per MiB of text.",
    )
    max_pdf_mib: int = Field(
        100,
        ge=1,
        le=4096,
        description="Largest .pdf file, in MiB. Report PDFs are mostly images by size; the text "
        "work grows with the pages, not the bytes.",
    )
    max_docx_mib: int = Field(
        50, ge=1, le=4096, description="Largest .docx file (the ZIP package itself), in MiB."
    )
    max_docx_unpacked_mib: int = Field(
        256,
        ge=1,
        le=16384,
        description="Largest total size, in MiB, that a .docx's parts (text, images) declare "
        "they unpack to; all of it is held in memory while reading.",
    )
    max_docx_xml_mib: int = Field(
        32,
        ge=1,
        le=4096,
        description="Largest total size, in MiB, of a .docx's XML parts unpacked; they are "
        "parsed into a tree of about 15 times that size. A long report has 5–15 MiB.",
    )
    max_compression_ratio: int = Field(
        100,
        ge=10,
        le=10000,
        description="A .docx part over 1 MiB unpacked that is more than this many times its "
        "packed size is refused as a ZIP bomb; Word's XML packs 5–30 times.",
    )

    def bytes_for(self, suffix: str) -> int:
        """The file size limit, in bytes, for a file with this suffix."""
        mib = {".pdf": self.max_pdf_mib, ".docx": self.max_docx_mib}.get(
            suffix.lower(), self.max_text_mib
        )
        return mib * 2**20

    def setting_for(self, suffix: str) -> str:
        """The environment variable that sets the file size limit for this suffix."""
        name = {".pdf": "max_pdf_mib", ".docx": "max_docx_mib"}.get(suffix.lower(), "max_text_mib")
        return f"LEGATUS_LIMITS__{name.upper()}"


class FeedSettings(BaseModel):
    """Think-tank feeds (`legatus feeds`, `legatus watch`): where reports are downloaded to and
    the limits of a download.

    Environment: ``LEGATUS_FEEDS__<FIELD>``, e.g. ``LEGATUS_FEEDS__TIMEOUT_S=60``.
    """

    folder: Path | None = Field(
        None,
        description="Folder the downloaded reports (and their sidecars) go to, and the feed "
        "list (feeds.json) beside it; default: downloads/ beside the index folder.",
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Seconds a fetch may take.")
    max_mib: int = Field(100, ge=1, le=2048, description="Largest report downloaded (MiB).")
    every_min: float = Field(
        60.0, ge=1, le=7 * 24 * 60, description="How often `legatus watch` pulls the feeds."
    )
