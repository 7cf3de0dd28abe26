"""``legatus serve`` (the chat page) and ``legatus feedback export`` (ratings → question set)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Annotated

import typer

from ingest.access import may_read
from ui.cli_common import AsGroups, fail, load_settings, reader_groups
from ui.cli_help import Command, Group
from ui.feedback import RatingChoice
from ui.settings import Settings

"""Gradio's advice on start-up; a Legatus page is never shared through Gradio's tunnel."""


def feedback_path(settings: Settings) -> Path:
    """The feedback database: as configured, else ``feedback.sqlite3`` beside the index folder."""
    return settings.ui.feedback_db or settings.index.path.parent / "feedback.sqlite3"


def serve_command(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (default 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (default 7860).")
    ] = None,
) -> None:
    """Start the chat page over the index built by `legatus ingest`, until Ctrl-C.

    Settings: LEGATUS_UI__AUTH='["user:password"]' requires a login; LEGATUS_UI__CONCURRENCY
    answers at once (others wait in a queue of LEGATUS_UI__QUEUE_SIZE); LEGATUS_UI__FEEDBACK_DB
    is where 👍/👎 go. Reports added by `legatus ingest` meanwhile are answered within
    LEGATUS_UI__INDEX_RELOAD_S seconds (default 10), without a restart. Exits with status 2 when
    there is no usable index.
    """
    from ui.cli_assistant import build_assistant
    from ui.conversations import ConversationError, ConversationStore
    from ui.feedback import FeedbackError, FeedbackStore
    from ui.live import LiveAssistant, postgres_watch, reloader

    settings = load_settings()
    updates = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    ui = settings.ui.model_copy(update=updates)
    on_postgres = settings.index.backend == "postgres"
    if not on_postgres and not settings.index.path.exists():
        fail(
            f"no index at {settings.index.path}; run `legatus ingest` first to index the "
            "reports (or set LEGATUS_INDEX__PATH to an existing index)",
        )
    if ui.host not in ("127.0.0.1", "localhost", "::1") and not ui.auth:
        typer.echo(
            f"warning: listening on {ui.host} without a login; set LEGATUS_UI__AUTH", err=True
        )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # Gradio's own start-up probes
    assistant = build_assistant(settings)
    labelled = sum(1 for m in assistant.index.documents.values() if m.access)
    if labelled and not (ui.auth and ui.groups):
        typer.echo(
            f"note: {labelled} report(s) carry access labels and are shown to no one on this "
            "page: give logins their groups (LEGATUS_UI__AUTH and LEGATUS_UI__GROUPS)",
            err=True,
        )
    manifest = getattr(assistant.index, "manifest", None)  # both backends describe the index
    if on_postgres:  # reports written into the database meanwhile come in without a restart
        load, identity = postgres_watch(
            settings.index.dsn, settings.embedding, settings.index, assistant
        )
        live = LiveAssistant(
            assistant, manifest, None, load=load, interval_s=ui.index_reload_s,
            identity=identity, seen=getattr(assistant.index, "identity", None) or None,
        )  # fmt: skip
    else:
        live = LiveAssistant(
            assistant, manifest, settings.index.path, interval_s=ui.index_reload_s,
            load=reloader(settings.index.path, settings.embedding, settings.index, assistant),
        )  # fmt: skip
    try:
        store = FeedbackStore(feedback_path(settings))
    except FeedbackError as exc:
        fail(f"{exc}; set LEGATUS_UI__FEEDBACK_DB to a writable file", exc)
    try:
        conversations = ConversationStore(conversations_path(settings))
    except ConversationError as exc:
        fail(f"{exc}; set LEGATUS_UI__CONVERSATIONS_DB to a writable file", exc)

    from ui.web import build_app, serve

    # Everything a first question needs (the model, the index, the example questions) is
    # loaded before the address is printed: the page answers at once when it says it is there.
    typer.echo("loading the embedding model and the index …", err=True)
    started = time.perf_counter()
    app = build_app(live, ui, store=store, conversations=conversations)
    serve(app, ui, prevent_thread_lock=True)
    typer.echo(
        f"Legatus chat page on http://{ui.host}:{ui.port} (ready in "
        f"{time.perf_counter() - started:.1f} s; feedback in {store.path}, conversations in "
        f"{conversations.path})"
    )
    live.start()
    app.block_thread()


def conversations_path(settings: Settings) -> Path:
    """Saved conversations: as configured, else ``conversations.sqlite3`` beside the feedback."""
    return settings.ui.conversations_db or feedback_path(settings).with_name(
        "conversations.sqlite3"
    )


feedback_app = typer.Typer(cls=Group, help="Readers' ratings of answers.", no_args_is_help=True)


@feedback_app.command("export", cls=Command)
def feedback_export_command(
    file: Annotated[Path, typer.Argument(help="The JSON Lines file to write.")],
    rating: Annotated[
        RatingChoice,
        typer.Option(
            "--rating",
            help="up (default): answers readers confirmed; down: those they rejected (review "
            "the evidence before use: it is what the assistant cited); all.",
        ),
    ] = "up",
    as_groups: AsGroups = None,
) -> None:
    """Write rated answers as question-set lines (eval.types.EvalCase, type "feedback").

    With --as-groups, only answers that drew on reports those groups may read alone (reports
    no longer indexed count as unreadable), for a question set to hand to them.
    """
    from ui.feedback import FeedbackError, FeedbackStore, export_jsonl

    settings = load_settings()
    groups = reader_groups(as_groups)
    path = feedback_path(settings)
    if not path.exists():
        fail(f"no feedback database at {path}; nothing has been rated yet")
    readable = None
    if groups is not None:
        from ui.cli_reports import indexed_entries

        entries = indexed_entries(settings)

        def readable(doc_id: str) -> bool:
            return doc_id in entries and may_read(entries[doc_id].access, groups)

    try:
        count = export_jsonl(FeedbackStore(path), file, rating, readable)
    except (FeedbackError, OSError) as exc:
        fail(str(exc), exc)
    typer.echo(f"wrote {count} question{'s' * (count != 1)} to {file}")
