"""Ingest: reports on disk → cleaned, structured documents → citable chunks."""

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

__all__ = [
    "Batch",
    "Discovery",
    "Chunk",
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
