"""Ingest: reports on disk → cleaned, structured documents → citable chunks.

The names below are imported from their modules on first use, so that importing a light part
of the stage (``ingest.settings``, ``ingest.types``) does not load every reader's library.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ingest.chunking import chunk
    from ingest.pipeline import (
        Batch,
        Discovery,
        Failure,
        discover,
        prepare,
        read,
        read_batch,
        scan,
    )
    from ingest.types import Chunk, Document, DocumentMeta, IngestError, Report, Section

_WHERE = {
    "chunk": "ingest.chunking",
    **dict.fromkeys(
        ("Batch", "Discovery", "Failure", "discover", "prepare", "read", "read_batch", "scan"),
        "ingest.pipeline",
    ),
    **dict.fromkeys(
        ("Chunk", "Document", "DocumentMeta", "IngestError", "Report", "Section"), "ingest.types"
    ),
}

__all__ = [
    "Batch",
    "Chunk",
    "Discovery",
    "Document",
    "DocumentMeta",
    "Failure",
    "IngestError",
    "Report",
    "Section",
    "chunk",
    "discover",
    "prepare",
    "read",
    "read_batch",
    "scan",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
