"""``legatus feeds add|list|pull``: think-tank feeds whose new reports are downloaded with their
metadata into the downloads folder (``ingest.feeds``), for ``legatus ingest`` or ``watch``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ui.cli_common import fail, load_settings
from ui.cli_help import Command, Group
from ui.settings import Settings, downloads_folder

feeds_app = typer.Typer(
    cls=Group, help="Think-tank feeds: new reports downloaded by themselves.", no_args_is_help=True
)


def state_path(settings: Settings) -> Path:
    """The feed list: feeds.json beside the downloads folder."""
    return downloads_folder(settings).with_name("feeds.json")


@feeds_app.command("add", cls=Command)
def feeds_add_command(
    url: Annotated[str, typer.Argument(help="The RSS or Atom feed's address.")],
    publisher: Annotated[
        str,
        typer.Option("--publisher", help="Publisher for its reports (default: the feed's title)."),
    ] = "",
) -> None:
    """Add a feed (or change its publisher); `legatus feeds pull` reads it."""
    from ingest.feeds import FeedError, add_source, load_state, save_state

    settings = load_settings()
    path = state_path(settings)
    try:
        state = load_state(path)
        add_source(state, url.strip(), publisher.strip())
        save_state(path, state)
    except (FeedError, OSError) as exc:
        fail(str(exc), exc)
    typer.echo(f"feed {url} added ({len(state.sources)} in {path})")


@feeds_app.command("list", cls=Command)
def feeds_list_command() -> None:
    """The feeds, with their last pull and what it found."""
    from ingest.feeds import FeedError, load_state

    settings = load_settings()
    try:
        state = load_state(state_path(settings))
    except FeedError as exc:
        fail(str(exc), exc)
    if not state.sources:
        typer.echo("no feeds yet: add one with `legatus feeds add URL`")
    for s in state.sources:
        status = f"failing ({s.failures}×): {s.last_error}" if s.last_error else "ok"
        typer.echo(
            f"{s.url}  publisher: {s.publisher or '(the feed title)'}; last pull "
            f"{s.last_pull or 'never'}; {s.downloaded} reports downloaded; {status}"
        )


def pull_all(settings: Settings, say: Callable[[str], object] = typer.echo) -> int:
    """Pull every feed into the downloads folder, one line per report and per failure; the
    number of failures (a failing source does not stop the others)."""
    from ingest.feeds import FeedError, Fetcher, load_state, pull, save_state

    echo = say
    path = state_path(settings)
    folder = downloads_folder(settings)
    try:
        state = load_state(path)
    except FeedError as exc:
        echo(f"error: {exc}")
        return 1
    failures = 0
    fetcher = Fetcher(settings.feeds.timeout_s, settings.feeds.max_mib)
    try:
        for source in state.sources:
            result = pull(source, state, folder, fetcher)
            save_state(path, state)  # after each source: a stop loses at most one's record
            if result.waiting:
                echo(f"{source.url}: failed before; tried again after the back-off")
            elif result.error:
                failures += 1
                echo(f"{source.url}: failed, tried again at the next pull: {result.error}")
            elif result.unchanged:
                echo(f"{source.url}: unchanged")
            for written in result.written:
                echo(f"downloaded {written.name} from {source.url}")
            for link, reason in result.skipped:
                failures += 1
                echo(f"skipped {link}: {reason} (tried again at the next pull)")
    finally:
        fetcher.close()
    return failures


@feeds_app.command("pull", cls=Command)
def feeds_pull_command() -> None:
    """Download the new reports of every feed (each once) with their metadata, into the
    downloads folder (LEGATUS_FEEDS__FOLDER); index them with `legatus ingest FOLDER` or let
    `legatus watch` do it. Exits 1 when a feed or a report failed (the others are done)."""
    settings = load_settings()
    if pull_all(settings):
        raise typer.Exit(1)
