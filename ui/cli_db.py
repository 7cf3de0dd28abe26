"""``legatus db``: the local PostgreSQL (with pgvector) for the server-grade index backend."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ui.cli_common import fail, load_settings
from ui.cli_help import Command, Group
from ui.settings import Settings

db_app = typer.Typer(
    cls=Group,
    help="The local PostgreSQL with pgvector, for development and tests (Unix socket only).",
    no_args_is_help=True,
)

DataOption = Annotated[
    Path | None,
    typer.Option(
        "--data",
        help="Its data folder (default: LEGATUS_INDEX__DATABASE_FOLDER, "
        "~/.local/share/legatus/postgres).",
    ),
]


def _folder(data: Path | None) -> Path:
    return (data or load_settings().index.database_folder).expanduser().resolve()


@db_app.command("start", cls=Command)
def db_start_command(data: DataOption = None) -> None:
    """Start it (creating the folder on first use) and print its address; it keeps running
    after this command, until `legatus db stop`."""
    from index.postgres.server import DatabaseServerError, start

    folder = _folder(data)
    try:
        db = start(folder)
    except DatabaseServerError as exc:
        fail(str(exc), exc)
    typer.echo(f"PostgreSQL running on {folder} (pid {db.pid})")
    typer.echo(db.dsn)


@db_app.command("stop", cls=Command)
def db_stop_command(data: DataOption = None) -> None:
    """Stop it; committed data stays in the folder."""
    from index.postgres.server import DatabaseServerError, stop

    folder = _folder(data)
    try:
        stopped = stop(folder)
    except DatabaseServerError as exc:
        fail(str(exc), exc)
    typer.echo(f"stopped PostgreSQL on {folder}" if stopped else f"no PostgreSQL runs on {folder}")


@db_app.command("status", cls=Command)
def db_status_command(data: DataOption = None) -> None:
    """Print its address if it runs (exit 0), else say so (exit 1)."""
    from index.postgres.server import DatabaseServerError, status

    folder = _folder(data)
    try:
        db = status(folder)
    except DatabaseServerError as exc:
        fail(str(exc), exc)
    if db is None:
        typer.echo(f"no PostgreSQL runs on {folder} (start it: legatus db start --data {folder})")
        raise typer.Exit(1)
    typer.echo(f"PostgreSQL running on {folder} (pid {db.pid})")
    typer.echo(db.dsn)


@db_app.command("import", cls=Command)
def db_import_command(
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="The database (default: LEGATUS_INDEX__DSN, else the local server on "
            "LEGATUS_INDEX__DATABASE_FOLDER).",
        ),
    ] = None,
) -> None:
    """Bring the database's index to what the index folder (LEGATUS_INDEX__PATH) holds, with
    its vectors: changed reports are replaced one transaction each, removed ones removed."""
    from index.postgres.server import DatabaseServerError, status

    settings = load_settings()
    target = dsn or settings.index.dsn
    if not target:
        try:
            local = status(settings.index.database_folder.expanduser().resolve())
        except DatabaseServerError as exc:
            fail(str(exc), exc)
        if local is None:
            fail(
                "no database given: pass --dsn, set LEGATUS_INDEX__DSN, or start the local "
                "one with `legatus db start`"
            )
        target = local.dsn
    import_into(settings, target, tail=f" (from {settings.index.path})")


def imported(settings: Settings, dsn: str) -> tuple[int, int, int]:
    """Bring the database at ``dsn`` to the index folder of ``settings``: (written, removed,
    unchanged) reports.

    Raises:
        SearchIndexError: the database cannot be reached (``DatabaseError``) or the folder or
            database is not a usable index.
    """
    from index.postgres.schema import connect
    from index.postgres.store import import_files_index

    _complete_sentences(settings)
    with connect(dsn) as conn:
        return import_files_index(conn, settings.index.path, settings.index)


def _complete_sentences(settings: Settings) -> None:
    """Embed the sentences of passages the folder holds without them (a files-backend
    `legatus watch` stopped between its two steps), so the database gets them too."""
    from index.embedding import EmbeddingError, get_embedder
    from index.indexer import update_index
    from index.store import read_manifest
    from index.types import SearchIndexError

    try:
        pending = read_manifest(settings.index.path).counts.sentences_pending
    except SearchIndexError:
        return  # the import says what is wrong with the folder
    if pending:
        try:
            update_index(
                settings.index.path, [], settings.chunk, get_embedder(settings.embedding),
                settings.index,
            )  # fmt: skip
        except EmbeddingError as exc:
            raise SearchIndexError(str(exc)) from exc


def import_into(
    settings: Settings, dsn: str, *, lead: str = "", tail: str = "", failed: str = ""
) -> None:
    """Bring the database at ``dsn`` to the index folder of ``settings`` and say what changed
    (``lead`` and ``tail`` around the counts), or a message (after ``failed``) and exit status
    2. What `legatus db import` and `legatus ingest` on the postgres backend do."""
    from index.types import SearchIndexError

    try:
        written, removed, unchanged = imported(settings, dsn)
    except SearchIndexError as exc:
        fail(f"{failed}{exc}", exc)
    typer.echo(f"{lead}{written} reports written, {removed} removed, {unchanged} unchanged{tail}")
