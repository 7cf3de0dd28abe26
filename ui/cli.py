"""The ``legatus`` command line: the only place (with the web page) that reads env vars and flags.

Stages raise specific exceptions; the commands here turn them into a message and an exit status.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from tqdm import tqdm

import ingest
from ui.settings import Settings

app = typer.Typer(
    name="legatus",
    help="Question answering with verified citations over think-tank reports.",
    no_args_is_help=True,
    add_completion=False,
)


def load_settings() -> Settings:
    """Settings from the environment, or a readable error."""
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError carries the precise field message
        typer.echo(f"error: invalid LEGATUS_* setting: {exc}", err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    app()


# --- ingest ---------------------------------------------------------------------------------


def _read_reports(paths: list[Path] | None, settings: Settings) -> ingest.Batch:
    files = ingest.discover(paths or [settings.reports])
    if not files:
        typer.echo(
            f"error: no reports found in {', '.join(map(str, paths or [settings.reports]))}"
            f" (supported: .pdf .html .docx .md .txt)",
            err=True,
        )
        raise typer.Exit(2)
    with tqdm(
        total=len(files), desc="reading", unit="file", disable=len(files) < 3, file=sys.stderr
    ) as bar:
        batch = ingest.read_batch(files, progress=lambda _p: bar.update())
    for failure in batch.failures:
        typer.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    return batch


@app.command("chunks")
def chunks_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Report files or folders.")] = None,  # noqa: UP045
    doc: Annotated[Optional[str], typer.Option("--doc", help="Only this document id.")] = None,  # noqa: UP045
) -> None:
    """Print the passages a report is cut into, as JSON lines (for inspection)."""
    settings = load_settings()
    batch = _read_reports(paths, settings)
    documents = [d for d in batch.documents if doc is None or d.doc_id == doc]
    if doc is not None and not documents:
        known = ", ".join(d.doc_id for d in batch.documents) or "none"
        typer.echo(f"error: no document '{doc}'; known: {known}", err=True)
        raise typer.Exit(2)
    for document in documents:
        for piece in ingest.chunk(document, settings.chunk):
            typer.echo(json.dumps(dataclasses.asdict(piece), ensure_ascii=False))


@app.command("ingest")
def ingest_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Report files or folders.")] = None,  # noqa: UP045
) -> None:
    """Read reports (default: the bundled ones), cut them into passages, and print a summary.

    Exits with status 1 when a file was skipped (the others are still ingested).
    """
    settings = load_settings()
    batch = _read_reports(paths, settings)
    chunks = {d.doc_id: ingest.chunk(d, settings.chunk) for d in batch.documents}
    for d in batch.documents:
        typer.echo(
            f"{d.doc_id}: {d.page_count or '-'} pages, {len(d.sections)} sections, "
            f"{len(chunks[d.doc_id])} passages  ({d.meta.title})"
        )
    typer.echo(
        f"{len(batch.documents)} documents, {sum(d.page_count for d in batch.documents)} pages, "
        f"{sum(len(d.sections) for d in batch.documents)} sections, "
        f"{sum(map(len, chunks.values()))} passages; {len(batch.failures)} skipped"
    )
    if batch.failures:
        raise typer.Exit(1)
