"""The ``legatus`` command line: the only place (with the web page) that reads env vars and flags.

Stages raise specific exceptions; the commands here turn them into a message and an exit status.
Each command imports what it needs when it runs (a stage, a model library, the page), so that
starting one command never pays for the others.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from index.settings import Mode
from ui.cli_assistant import ask_command
from ui.cli_common import AsGroups, checked_question, fail, load_settings, reader_groups
from ui.cli_db import db_app, import_into
from ui.cli_eval import eval_app
from ui.cli_feeds import feeds_app
from ui.cli_help import Command, Group
from ui.cli_reports import reports_command
from ui.cli_watch import watch_command
from ui.cli_web import feedback_app, serve_command
from ui.settings import Settings

if TYPE_CHECKING:
    import ingest


app = typer.Typer(
    cls=Group,
    name="legatus",
    help="Question answering with verified citations over think-tank reports.",
    no_args_is_help=True,
    add_completion=False,
)


def main() -> None:
    app()


# --- ingest ---------------------------------------------------------------------------------


def _read_reports(paths: list[Path] | None, settings: Settings) -> ingest.Batch:
    from tqdm import tqdm

    import ingest

    found = ingest.scan(paths or [settings.reports])
    files = found.files
    if not files and not found.failures:
        fail(
            f"no reports found in {', '.join(map(str, paths or [settings.reports]))}"
            f" (supported: .pdf .html .docx .md .txt)",
        )
    with tqdm(
        total=len(files), desc="reading", unit="file", disable=len(files) < 3, file=sys.stderr
    ) as bar:

        def tick(_path: Path) -> None:
            bar.update()

        batch = ingest.read_batch(
            files, progress=tick, limits=settings.limits, skipped=found.failures
        )
    for failure in batch.failures:
        typer.echo(f"skipped {failure.path}: {failure.reason}", err=True)
    return batch


@app.command("chunks", cls=Command)
def chunks_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Report files or folders.")] = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Only this document id.")] = None,
) -> None:
    """Print the passages a report is cut into, as JSON lines (for inspection)."""
    import ingest

    settings = load_settings()
    batch = _read_reports(paths, settings)
    documents = [d for d in batch.documents if doc is None or d.doc_id == doc]
    if doc is not None and not documents:
        known = ", ".join(d.doc_id for d in batch.documents) or "none"
        fail(f"no document '{doc}'; known: {known}")
    for document in documents:
        for piece in ingest.chunk(document, settings.chunk):
            typer.echo(json.dumps(dataclasses.asdict(piece), ensure_ascii=False))


@app.command("ingest", cls=Command)
def ingest_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Report files or folders.")] = None,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Rebuild the index from scratch, embedding all.")
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune/--no-prune",
            help="Remove indexed reports that were read from an ingested folder (or are a "
            "named file) and are no longer there. Reports indexed from elsewhere are never "
            "removed, nor is a report whose file fails to read: its indexed version stays.",
        ),
    ] = True,
) -> None:
    """Read reports (default: the bundled ones), cut them into passages, and update the index.

    Only new or changed passages are embedded; unchanged ones keep their stored vectors. By
    default reports that disappeared from an ingested folder are removed from the index (see
    --no-prune). The index is written to a new folder and swapped in, so a failure leaves the
    previous index as it was. Exits with status 1 when a file was skipped (the others are still
    indexed), 2 when the index could not be updated, 3 on an unexpected error (a bug).
    """
    settings = load_settings()
    try:
        _ingest(paths, settings, rebuild=rebuild, prune=prune)
    except (typer.Exit, typer.Abort):  # RuntimeErrors, but the command's own exits
        raise
    except Exception as exc:
        # Python exits with 1 on an uncaught error, which is the status of "files skipped";
        # a crash must read differently to scripts.
        traceback.print_exc()
        typer.echo(f"error: ingest failed unexpectedly ({exc}); please report this bug", err=True)
        raise typer.Exit(3) from exc


def _ingest(paths: list[Path] | None, settings: Settings, *, rebuild: bool, prune: bool) -> None:
    import ingest

    batch = _read_reports(paths, settings)
    reports = ingest.prepare(batch, settings.chunk)
    for report in reports:
        d = report.document
        counts = count_phrase(pages=d.page_count, sections=len(d.sections))
        typer.echo(f"{d.doc_id}: {counts}, {len(report.chunks)} passages  ({d.meta.title})")
    counts = count_phrase(
        documents=len(reports),
        pages=sum(r.document.page_count for r in reports),
        sections=sum(len(r.document.sections) for r in reports),
    )
    passages = sum(len(r.chunks) for r in reports)
    typer.echo(f"{counts}, {passages} passages; {len(batch.failures)} skipped")
    failed = [f.path for f in batch.failures]
    roots = paths or [settings.reports]
    _update_index(roots, reports, failed, settings, rebuild=rebuild, prune=prune)
    if batch.failures:
        raise typer.Exit(1)


def count_phrase(*, documents: int | None = None, pages: int, sections: int) -> str:
    """The counts of an ingest summary line; pages only where the reports have any.

    Text, Markdown and HTML reports have no pages, so "0 pages" would read as a failure.

    >>> count_phrase(pages=12, sections=3)
    '12 pages, 3 sections'
    >>> count_phrase(pages=0, sections=3)
    '3 sections'
    >>> count_phrase(documents=2, pages=0, sections=5)
    '2 documents, 5 sections'
    """
    parts = [] if documents is None else [f"{documents} documents"]
    if pages:
        parts.append(f"{pages} pages")
    parts.append(f"{sections} sections")
    return ", ".join(parts)


def _update_index(
    roots: list[Path],
    reports: Sequence[ingest.Report],
    failed: Sequence[Path],
    settings: Settings,
    *,
    rebuild: bool,
    prune: bool,
) -> None:
    """Index ``reports`` (read from under ``roots``; the files in ``failed`` could not be read,
    so what is indexed of them stays) and print what changed."""
    from tqdm import tqdm

    from index.embedding import EmbeddingError, get_embedder
    from index.indexer import update_index
    from index.types import SearchIndexError

    bar: tqdm | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(
                total=total, desc="embedding passages and sentences", unit="text", file=sys.stderr
            )
        bar.update(done - bar.n)

    try:
        stats = update_index(
            settings.index.path, reports, settings.chunk,
            get_embedder(settings.embedding), settings.index,
            prune_under=roots if prune else [], keep_paths=failed, rebuild=rebuild,
            progress=progress,
        )  # fmt: skip
    except (SearchIndexError, EmbeddingError) as exc:
        fail(f"index not updated: {exc}", exc)
    except OSError as exc:  # a full disk, a folder not writable: nothing swapped in
        fail(f"index not updated, the previous one stays: {exc}; free some space or make the "
             f"index folder's parent writable, then run it again", exc)  # fmt: skip
    finally:
        if bar is not None:
            bar.close()
    if stats.upgraded:
        typer.echo("the index was written by another Legatus version: rebuilt", err=True)
    for doc_id in stats.kept:  # indexed earlier, not read now, not pruned
        typer.echo(f"kept {doc_id} in the index as it was (not read this time)", err=True)
    what = "written" if stats.written else "unchanged"
    typer.echo(
        f"index {what} at {settings.index.path}: {stats.documents} documents, {stats.chunks} "
        f"passages ({stats.dense_kind}); embedded {stats.embedded_chunks} passages and "
        f"{stats.embedded_sentences} sentences, reused "
        f"{stats.reused_chunks}, removed {stats.removed_chunks} passages; reports added "
        f"{len(stats.added)}, updated {len(stats.updated)}, removed {len(stats.removed)}; "
        f"{stats.seconds:.1f} s"
    )
    if settings.index.backend == "postgres":
        _import_into_postgres(settings)


def _import_into_postgres(settings: Settings) -> None:
    """With the postgres backend, bring the database to the index folder just updated (the
    ingest machine's build cache: it holds the vectors, so only changed reports are written)."""
    if not settings.index.dsn:
        fail(
            "the index folder is updated, but not the database: the postgres backend needs "
            "LEGATUS_INDEX__DSN (for a local one, the address `legatus db status` prints)"
        )
    import_into(
        settings, settings.index.dsn, lead="database updated: ",
        failed="the index folder is updated, but not the database: ",
    )  # fmt: skip


# --- search ----------------------------------------------------------------------------------

SEARCH_JSON_FIELDS = (
    "chunk_id", "report", "title", "publisher", "date", "section", "page", "page_end",
    "page_label", "section_page", "url", "parts", "rank", "score", "text", "dense_score",
    "lexical_score", "page_ref", "section_path", "language", "start", "end",
)  # fmt: skip
"""``page_ref`` is the page to cite: the printed label, else the physical page, else the page where
the section starts (from the table of contents); null when none is known. ``parts``: the stored
passages a result spans (neighbours merged into one result), or just its own id. ``url``: the
report's own page, from its metadata ("" if none). The fields are
those of ``assistant.retriever.hit_json``: a passage as ``ask --json`` lists it, and more."""


@app.command("search", cls=Command)
def search_command(
    query: Annotated[str, typer.Argument(help="The question or search words.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Passages to show.")] = 5,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print a JSON list, one object per passage, with the fields: "
            + ", ".join(SEARCH_JSON_FIELDS)
            + " (text in full; scores may be null when one retriever did not find it).",
        ),
    ] = False,
    report: Annotated[
        list[str] | None,
        typer.Option("--report", help="Only this report (document id); repeatable."),
    ] = None,
    publisher: Annotated[
        list[str] | None,
        typer.Option("--publisher", help="Only reports whose publisher contains this; repeatable."),
    ] = None,
    date_from: Annotated[
        str | None,
        typer.Option("--from", help="Only reports dated on or after this (2022, 2022-06, ...)."),
    ] = None,
    date_to: Annotated[
        str | None,
        typer.Option("--to", help="Only reports dated on or before this."),
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="Both retrievers fused, the dense one, or BM25 alone.")
    ] = "hybrid",
    as_groups: AsGroups = None,
) -> None:
    """Print the passages of the indexed reports that best match QUERY, best first."""
    from assistant.retriever import hit_json
    from index.embedding import EmbeddingError
    from index.search import open_index
    from index.types import SearchIndexError
    from ui.filters import FilterError, make_filters

    settings = load_settings()
    query = checked_question(query, settings, "query")
    groups = reader_groups(as_groups)
    try:
        filters = make_filters(report, publisher, date_from, date_to)
    except FilterError as exc:
        fail(str(exc), exc)
    try:
        index = open_index(settings.index, settings.embedding).readable_by(groups)
        asked = filters.doc_ids if filters else ()
        unknown = sorted(set(asked) - set(index.documents))
        if unknown:
            known = ", ".join(sorted(index.documents)) or "none"
            fail(f"no indexed report {', '.join(unknown)}; known: {known}")
        hits = index.search(query, k=k, filters=filters, mode=mode)
    except (SearchIndexError, EmbeddingError) as exc:
        fail(str(exc), exc)
    if as_json:
        typer.echo(json.dumps([hit_json(h) for h in hits], ensure_ascii=False, indent=1))
        return
    if not hits:
        typer.echo("no passages found" + (" (check the filters)" if filters else ""))
    for hit in hits:
        where = ", ".join(
            x for x in (hit.chunk.section_label, f"p. {hit.page}" if hit.page else "") if x
        )
        text = " ".join(hit.chunk.text.split())
        typer.echo(f"{hit.rank}. [{hit.score:.4f}] {hit.document.title} — {where}")
        typer.echo(f"   {text[:300]}{'…' if len(text) > 300 else ''}\n")


# --- llm: a local OpenAI-compatible server (assistant/llm_server.py) ------------------------

llm_app = typer.Typer(
    cls=Group, help="Run a local language model for `--answerer llm`.", no_args_is_help=True
)


@llm_app.command("serve", cls=Command)
def llm_serve_command(
    model: Annotated[
        Path | None,
        typer.Option("--model", help="A .gguf model file (default: the packaged SmolLM2-135M)."),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8081,
    ctx: Annotated[int, typer.Option("--ctx", help="Context window in tokens.")] = 4096,
    threads: Annotated[
        int | None,
        typer.Option("--threads", min=1, help="CPU threads (default: half the cores)."),
    ] = None,
) -> None:
    """Serve a GGUF model through llama.cpp's OpenAI-compatible API until Ctrl-C."""
    from assistant.llm_server import LLMServerError, serve

    try:
        status = serve(model, host, port, ctx, threads, echo=typer.echo)
    except LLMServerError as exc:
        fail(str(exc), exc)
    raise typer.Exit(status)


# --- end llm ---------------------------------------------------------------------------------

# The commands of the other modules, registered here and nowhere else (in the order of --help).
app.command("ask", cls=Command)(ask_command)
app.add_typer(llm_app, name="llm")
app.add_typer(eval_app, name="eval")
app.command("serve", cls=Command)(serve_command)
app.command("reports", cls=Command)(reports_command)
app.command("watch", cls=Command)(watch_command)
app.add_typer(feeds_app, name="feeds")
app.add_typer(feedback_app, name="feedback")
app.add_typer(db_app, name="db")
