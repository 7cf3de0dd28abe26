"""Ingest: reports on disk → cleaned, structured documents → citable chunks."""

from ingest.chunking import chunk
from ingest.pipeline import Batch, Discovery, Failure, discover, read, read_batch, scan
from ingest.types import Chunk, Document, DocumentMeta, IngestError, Section

__all__ = [
    "Batch",
    "Discovery",
    "Chunk",
    "Document",
    "DocumentMeta",
    "Failure",
    "IngestError",
    "Section",
    "chunk",
    "discover",
    "read",
    "read_batch",
    "scan",
]
