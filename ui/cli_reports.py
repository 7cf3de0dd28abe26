"""``legatus reports``: what the index holds, newest first, without loading the model."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from index.types import DocumentEntry
from ingest.access import may_read
from ui.cli_common import AsGroups, fail, load_settings, reader_groups
from ui.settings import Settings

REPORT_FIELDS = (
    "report", "title", "publisher", "date", "indexed_at", "new", "passages", "pages", "source",
    "access",
)  # fmt: skip
"""The fields of ``legatus reports --json``: ``source`` is the report's URL when its metadata
gives one, else the file it was read from; ``new``: indexed in the last seven days."""


def indexed_entries(settings: Settings) -> dict[str, DocumentEntry]:
    """The configured index's reports (files manifest or database), or a message and exit 2."""
    from index.types import SearchIndexError

    try:
        if settings.index.backend == "postgres":
            from index.postgres.schema import connect
            from index.postgres.store import stored_entries

            with connect(settings.index.dsn) as conn:
                return stored_entries(conn)
        from index.store import read_manifest

        return dict(read_manifest(settings.index.path).documents)
    except SearchIndexError as exc:
        fail(str(exc), exc)


def reports_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list.")] = False,
    as_groups: AsGroups = None,
) -> None:
    """List the indexed reports, the most recently indexed first: title, publisher, date,
    when indexed (new: in the last seven days), passages, and where it came from."""
    from ui.render import is_new

    settings = load_settings()
    groups = reader_groups(as_groups)
    entries = [e for e in indexed_entries(settings).values() if may_read(e.access, groups)]
    entries.sort(key=lambda e: (e.indexed_at, e.date, e.doc_id), reverse=True)
    rows = [
        {
            "report": e.doc_id, "title": e.title, "publisher": e.publisher, "date": e.date,
            "indexed_at": e.indexed_at, "new": is_new(e.indexed_at),
            "passages": len(e.chunk_ids), "pages": e.page_count,
            "source": e.url or e.path or e.source_file, "access": list(e.access),
        }
        for e in entries
    ]  # fmt: skip
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo("no reports indexed yet: run `legatus ingest`")
    for row in rows:
        mark = "new  " if row["new"] else "     "
        what = " · ".join(str(x) for x in (row["publisher"], row["date"]) if x)
        when = str(row["indexed_at"]).replace("T", " ")[:16] or "?"
        typer.echo(f"{mark}{row['title']}  ({what})")
        typer.echo(f"     {row['report']}: {row['passages']} passages, indexed {when} UTC; "
                   f"{row['source']}")  # fmt: skip
