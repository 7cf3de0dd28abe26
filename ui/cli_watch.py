"""``legatus watch``: ingest what arrives in, changes in or disappears from report folders.

At start the folders are ingested as ``legatus ingest FOLDER`` would (catching up with what
changed while nobody watched); then each change is taken in as it happens:

* a report file copied in or changed is read once it has settled (its size and modification
  time unchanged for ``--settle`` seconds: a file still being copied is not read half-way),
  with the reports whose sidecar (``.meta.toml``) changed;
* a report file removed takes its report out of the index (a removed folder, its reports);
* everything else stays as indexed, and only new or changed passages are embedded.

Each change is written as ``legatus ingest`` writes (a new index folder swapped in, then the
database with the postgres backend), so a running ``legatus serve`` takes it in within its
reload interval; with the files backend a new report is written twice, first with its passage
vectors (searchable then), then with its sentence vectors, which take as long again (see
``apply``). The watcher runs at a lowered CPU priority (``--nice``), so that a page on the same
machine answers first.

One line per report says what happened: added, updated, removed, or skipped with the reason. A
file that cannot be read is reported and left; a full disk or an unreachable database is
reported, the previous index stays, and the update is tried again at the next change (or after
``RETRY_S``). A watcher stopped at any moment, ``kill -9`` included, leaves the previous index
whole (stopped between a report's two writes: the next update embeds its sentences).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ui.cli_common import fail, load_settings
from ui.cli_feeds import pull_all
from ui.settings import Settings, downloads_folder

if TYPE_CHECKING:
    from index.embedding import Embedder
    from ingest.pipeline import Discovery

RETRY_S = 120.0
"""Seconds after a failed update (a full disk, an unreachable database) before it is tried
again without another change; any change tries it at once."""

_TEMPORARY = (".part", ".crdownload", ".tmp", ".swp", "~")
"""Endings of files that are still being written by a browser, editor or copy tool."""


def _say(line: str) -> None:
    stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
    typer.echo(f"{stamp} {line}")


def _relevant(path: Path) -> bool:
    """A report or sidecar, not a hidden or temporary file."""
    from ingest.readers import SIDECAR_SUFFIX, is_readable

    name = path.name
    if name.startswith((".", "~$")) or name.endswith(_TEMPORARY):
        return False
    return is_readable(path) or name.endswith(SIDECAR_SUFFIX)


def _report_of(sidecar: Path) -> list[Path]:
    """The report files a sidecar describes (``x.pdf.meta.toml`` → ``x.pdf``; ``x.meta.toml``
    → the reports with stem ``x`` that have no sidecar of their own)."""
    from ingest.readers import SIDECAR_SUFFIX, find_sidecar, is_readable

    base = sidecar.name[: -len(SIDECAR_SUFFIX)]
    try:
        siblings = list(sidecar.parent.iterdir())
    except OSError:
        return []
    return [
        p
        for p in siblings
        if is_readable(p) and (p.name == base or p.stem == base)
        and find_sidecar(p) in (sidecar, None)
    ]  # fmt: skip


def _wanted(change: object, path: str) -> bool:
    """watchfiles' filter: reports and sidecars, and anything deleted (a removed sub-folder
    takes the reports read from under it)."""
    import watchfiles

    return change == watchfiles.Change.deleted or _relevant(Path(path))


def settled(paths: Iterable[Path], quiet_s: float, limit_s: float = 600.0) -> None:
    """Return once none of ``paths`` has changed size or modification time for ``quiet_s``
    seconds (a file still being copied in is waited for), or after ``limit_s``."""

    def look() -> dict[Path, tuple[int, int] | None]:
        out: dict[Path, tuple[int, int] | None] = {}
        for p in paths:
            try:
                st = p.stat()
                out[p] = (st.st_size, st.st_mtime_ns)
            except OSError:
                out[p] = None
        return out

    deadline = time.monotonic() + limit_s
    before = look()
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = look()
        if now == before:
            return
        before = now


def apply(
    settings: Settings,
    found: Discovery,
    gone: Sequence[Path] = (),
    *,
    prune: Sequence[Path] = (),
) -> bool:
    """Index the reports ``found`` (``ingest.scan``'s files; what it could not list is kept as
    indexed), remove those read from ``gone`` (files) or no longer under ``prune`` (folders);
    say what happened per report. False if the index could not be written (the previous one
    stays).

    With the files backend a new report is written in two steps: first with its passage
    vectors (searchable and answerable then), then with its sentence vectors, which take as
    long again to embed (``update_index``'s ``defer_sentences``). The database of the postgres
    backend is written once, when both are in.
    """
    import ingest
    from index.embedding import EmbeddingError, get_embedder
    from index.indexer import update_index
    from index.types import SearchIndexError

    started = time.monotonic()
    batch = ingest.read_batch(list(found.files), limits=settings.limits, skipped=found.failures)
    for failure in batch.failures:
        _say(f"skipped {failure.path}: {failure.reason}")
    reports = ingest.prepare(batch, settings.chunk)
    read_s = time.monotonic() - started
    defer = settings.index.backend == "files"
    embedder = get_embedder(settings.embedding)
    try:
        stats = update_index(
            settings.index.path, reports, settings.chunk, embedder, settings.index,
            prune_under=[*prune, *gone], keep_paths=[f.path for f in batch.failures],
            defer_sentences=defer,
        )  # fmt: skip
    except (SearchIndexError, EmbeddingError, OSError) as exc:
        _say(f"error: index not updated, the previous one stays ({exc}); tried again at the "
             f"next change or in {RETRY_S / 60:.0f} minutes")  # fmt: skip
        return False
    titles = {r.doc_id: r.document.meta.title for r in reports}
    for what, ids in (
        ("added", stats.added),
        ("updated", stats.updated),
        ("removed", stats.removed),
    ):
        for doc_id in ids:
            title = f" ({titles[doc_id]})" if doc_id in titles else ""
            _say(f"{what} {doc_id}{title}")
    if stats.embedded_chunks:
        now = "; searchable now, its sentences follow" if stats.sentences_pending else ""
        _say(f"read in {read_s:.1f} s; {stats.embedded_chunks} passages embedded and written "
             f"in {stats.seconds:.1f} s{now}")  # fmt: skip
    if stats.sentences_pending:
        return _sentences_in(settings, embedder)
    if stats.written and settings.index.backend == "postgres":
        return _into_database(settings)
    return True


def _sentences_in(settings: Settings, embedder: Embedder) -> bool:
    """The second step of ``apply``: embed the sentences of the passages written without them."""
    from index.embedding import EmbeddingError
    from index.indexer import update_index
    from index.types import SearchIndexError

    try:
        stats = update_index(settings.index.path, [], settings.chunk, embedder, settings.index)
    except (SearchIndexError, EmbeddingError, OSError) as exc:
        _say(f"error: sentence vectors not written ({exc}); the report is searchable without "
             f"them, and they are tried again at the next change or in {RETRY_S / 60:.0f} "
             "minutes")  # fmt: skip
        return False
    _say(f"{stats.embedded_sentences} sentences embedded and written in {stats.seconds:.1f} s")
    return True


def _into_database(settings: Settings) -> bool:
    from index.types import SearchIndexError
    from ui.cli_db import imported

    try:
        written, removed, _ = imported(settings, settings.index.dsn)
    except (SearchIndexError, OSError) as exc:
        _say(f"error: the database is not updated ({exc}); tried again at the next change or in "
             f"{RETRY_S / 60:.0f} minutes")  # fmt: skip
        return False
    _say(f"database updated: {written} reports written, {removed} removed")
    return True


def _has_feeds(settings: Settings) -> bool:
    from ingest.feeds import FeedError, load_state
    from ui.cli_feeds import state_path

    try:
        return bool(load_state(state_path(settings)).sources)
    except FeedError as exc:
        _say(f"error: {exc}; feeds are not pulled")
        return False


def watch_command(
    folders: Annotated[
        list[Path] | None, typer.Argument(help="Folders to watch (default: the reports folder).")
    ] = None,
    settle: Annotated[
        float,
        typer.Option(
            "--settle",
            min=0.2,
            max=600,
            help="Seconds a new or changed file must stay unchanged before it is read.",
        ),
    ] = 2.0,
    nice: Annotated[
        int,
        typer.Option(
            "--nice",
            min=0,
            max=19,
            help="How much to lower the watcher's CPU priority (0: not at all), so that a page "
            "answering questions on the same machine comes first.",
        ),
    ] = 10,
) -> None:
    """Watch report folders and keep the index up to date with them, until stopped (Ctrl+C).

    With feeds (`legatus feeds add`), they are pulled at start and every
    LEGATUS_FEEDS__EVERY_MIN minutes, and their downloads folder is watched too.

    Settings as for `legatus ingest` (LEGATUS_INDEX__PATH, and LEGATUS_INDEX__BACKEND /
    LEGATUS_INDEX__DSN for PostgreSQL). A running `legatus serve` shows what arrives within
    LEGATUS_UI__INDEX_RELOAD_S seconds.
    """
    import watchfiles

    settings = load_settings()
    if nice:
        os.nice(nice)  # reading and embedding are background work; questions are not
    roots = [f.expanduser().absolute() for f in (folders or [settings.reports])]
    missing = [str(f) for f in roots if not f.is_dir()]
    if missing:
        fail(f"not a folder: {', '.join(missing)}; create it, or name an existing one")
    if settings.index.backend == "postgres" and not settings.index.dsn:
        fail("the postgres backend needs LEGATUS_INDEX__DSN (`legatus db status` prints it)")
    feeds = _has_feeds(settings)
    if feeds:  # their downloads are watched too: a pulled report comes in as any other
        downloads = downloads_folder(settings).expanduser().absolute()
        downloads.mkdir(parents=True, exist_ok=True)
        roots = [*roots, downloads] if downloads not in roots else roots
        pull_all(settings, _say)
    next_pull = time.monotonic() + settings.feeds.every_min * 60
    _say(f"watching {', '.join(map(str, roots))}; catching up first")
    import ingest
    from index.embedding import EmbeddingError, get_embedder
    from ingest.readers import SIDECAR_SUFFIX

    try:  # the model that embeds reports, loaded before the first one arrives
        get_embedder(settings.embedding).warm_up(indexing=True)
    except EmbeddingError as exc:
        fail(str(exc))
    apply(settings, ingest.scan(roots), prune=roots)
    _say("up to date; waiting for changes (Ctrl+C to stop)")
    retry: set[Path] = set()  # what the last failed update was given, tried again
    retry_gone: set[Path] = set()
    failed_at: float | None = None
    try:
        for changes in watchfiles.watch(
            *roots, watch_filter=_wanted, debounce=800,
            raise_interrupt=False, rust_timeout=5_000, yield_on_timeout=True,
        ):  # fmt: skip
            if feeds and time.monotonic() >= next_pull:
                pull_all(settings, _say)  # what it downloads shows up as changes
                next_pull = time.monotonic() + settings.feeds.every_min * 60
            due = failed_at is not None and time.monotonic() - failed_at >= RETRY_S
            if not changes and not due:
                continue
            touched = {Path(p) for _, p in changes}
            settled([p for p in touched if p.exists()], settle)

            changed = {p for p in retry if p.is_file()}
            gone = {p for p in retry_gone if not p.exists()}
            for p in sorted(touched):
                if p.name.endswith(SIDECAR_SUFFIX):
                    changed.update(_report_of(p))
                elif p.is_file():
                    changed.add(p)
                elif not p.exists():
                    gone.add(p)
            if changed or gone or failed_at is not None:
                if apply(settings, ingest.scan(sorted(changed)), sorted(gone)):
                    retry, retry_gone, failed_at = set(), set(), None
                else:
                    retry, retry_gone, failed_at = changed, gone, time.monotonic()
    except KeyboardInterrupt:
        pass
    _say("stopped")
