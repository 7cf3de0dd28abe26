"""The assistant of a running page, replaced when `legatus ingest` swaps in a new index folder.

`legatus ingest` writes a complete new folder and moves it into place (``index.store``), so a new
``manifest.json`` (a new file: another inode and mtime) means a complete new index. A background
thread looks at that file every few seconds; on a change it loads the new index fully beside the
old one, then replaces the reference. A question reads the reference once when it starts, so one
in flight finishes on the index it started with.

Example:
    >>> live = LiveAssistant(assistant, manifest, path, load=reload_fn, interval_s=10)
    ... # doctest: +SKIP
    >>> live.start()  # doctest: +SKIP
    >>> loaded = live.current()  # doctest: +SKIP   (assistant and manifest of one index)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.pipeline import Assistant
from index.settings import EmbeddingSettings, IndexSettings
from index.store import MANIFEST_FILE
from index.types import IndexManifest
from ingest.access import Groups

log = logging.getLogger("legatus.web")

Identity = tuple[int, int, int, int]
"""What tells one ``manifest.json`` from another: device, inode, size, mtime (ns)."""


@dataclass(frozen=True)
class Loaded:
    """An assistant with the manifest of the index it answers from (None: not known), as one
    reader sees it: ``hidden`` holds the reports of the index that reader may not read (none of
    them is in the assistant's index or the manifest)."""

    assistant: Assistant
    manifest: IndexManifest | None
    hidden: frozenset[str] = frozenset()


def readable(loaded: Loaded, groups: Groups) -> Loaded:
    """``loaded`` as a reader of ``groups`` sees it (``PassageSearch.readable_by``): an assistant
    over their view of the index, with its manifest; ``loaded`` itself when they may read it all.
    """
    from index.search import PassageSearch  # pulls in FAISS: only where it is needed

    index = loaded.assistant.index
    if not isinstance(index, PassageSearch):  # a retriever of the tests: no access labels
        return loaded
    view = index.readable_by(groups)
    if view is index:
        return loaded
    like = loaded.assistant
    hidden = frozenset(index.documents) - frozenset(view.documents)
    return Loaded(Assistant(view, like.embedder, like.settings, like.llm), view.manifest, hidden)


def manifest_identity(index_path: Path) -> Identity | None:
    """The identity of the index's manifest file; None while there is none (e.g. mid-swap)."""
    try:
        st = os.stat(index_path.expanduser() / MANIFEST_FILE)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def reloader(
    index_path: Path, embedding: EmbeddingSettings, settings: IndexSettings, like: Assistant
) -> Callable[[], Loaded]:
    """A ``load`` for :class:`LiveAssistant`: the index at ``index_path`` read anew, answered
    with ``like``'s model, settings and LLM (the model is not loaded twice).

    The new index must have been built with the same model (``SearchIndex.load`` checks).
    """

    def load() -> Loaded:
        from index.search import SearchIndex  # pulls in FAISS: only where it is needed

        index = SearchIndex.load(index_path, embedding, settings, embedder=like.embedder)
        return Loaded(Assistant(index, like.embedder, like.settings, like.llm), index.manifest)

    return load


def postgres_watch(
    dsn: str, embedding: EmbeddingSettings, settings: IndexSettings, like: Assistant
) -> tuple[Callable[[], Loaded], Callable[[], object | None]]:
    """``load`` and ``identity`` for :class:`LiveAssistant` over the PostgreSQL index at
    ``dsn``: the index read anew (with ``like``'s model, settings and LLM), and a digest of
    which reports are stored at which version (None while the database cannot be reached)."""

    def load() -> Loaded:
        from index.postgres.search import PostgresIndex

        index = PostgresIndex.connect(dsn, embedding, settings, embedder=like.embedder)
        return Loaded(Assistant(index, like.embedder, like.settings, like.llm), index.manifest)

    def identity() -> object | None:
        from index.postgres.schema import DatabaseError, connect
        from index.postgres.store import reports_identity

        try:
            with connect(dsn) as conn:
                return reports_identity(conn)
        except DatabaseError:
            return None

    return load, identity


class LiveAssistant:
    """Holds the current :class:`Loaded` and, once started, keeps it up to date with the folder.

    Args:
        assistant: the assistant over the index as it is now.
        manifest: that index's manifest.
        index_path: the index folder to watch; None: never reload.
        load: builds a new assistant and its manifest over the folder as it is then (reusing
            the loaded model); raises when the folder is not a usable index.
        interval_s: seconds between two looks at the manifest; 0: never reload.
        seen: the identity the loaded index had when it was read (default: taken now).
        identity: what tells one state of the index from another (default: the folder's
            manifest file, ``manifest_identity``; the postgres backend's: a digest of its
            reports table); None from it: not readable now, look again later.
    """

    def __init__(
        self,
        assistant: Assistant,
        manifest: IndexManifest | None,
        index_path: Path | None = None,
        load: Callable[[], Loaded] | None = None,
        interval_s: float = 0.0,
        identity: Callable[[], object | None] | None = None,
        seen: object | None = None,
    ) -> None:
        self._loaded = Loaded(assistant, manifest)
        self.index_path = index_path
        self._load = load
        self.interval_s = interval_s
        if identity is None and index_path is not None:
            folder = index_path

            def identity() -> object | None:
                return manifest_identity(folder)

        self._identity = identity
        # ``seen``: the identity of the index ``assistant`` was loaded from, when the loader read
        # it (so that a write between that read and this line is not missed); else taken now.
        self._seen = seen if seen is not None else (identity() if identity else None)
        self.where = str(index_path) if index_path else "the database"  # for the log
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one reload at a time (the timer and check() may race)
        self._readers: dict[frozenset[str], Loaded] = {}  # views of _readers_of, by groups
        self._readers_of: Loaded | None = None
        self._readers_lock = threading.Lock()

    def current(self, groups: Groups = None) -> Loaded:
        """The assistant and manifest to use for one whole question, as a reader of ``groups``
        sees them (None: the whole index); each reader's is made once per loaded index."""
        loaded = self._loaded
        if groups is None:
            return loaded
        with self._readers_lock:
            if self._readers_of is not loaded:  # a new index: new views
                self._readers, self._readers_of = {}, loaded
            mine = self._readers.get(groups)
            if mine is None:
                mine = self._readers[groups] = readable(loaded, groups)
            return mine

    def check(self) -> bool:
        """Load the index anew if its manifest changed since the last load; True if it did.

        A folder that cannot be loaded (half written by hand, another model) is logged and the
        old index kept; it is tried again at the next check.
        """
        if self._identity is None or self._load is None:
            return False
        with self._lock:
            # The identity is taken before loading: a swap during the load shows up next time.
            seen = self._identity()
            if seen is None or seen == self._seen:
                return False
            try:
                loaded = self._load()
            except Exception:
                log.exception("the index at %s changed but could not be loaded; keeping the "
                              "previous one", self.where)  # fmt: skip
                return False
            self._loaded, self._seen = loaded, seen
        count = len(loaded.manifest.documents) if loaded.manifest else "?"
        log.info("index at %s reloaded: %s reports", self.where, count)
        return True

    def start(self) -> None:
        """Check every ``interval_s`` seconds in a daemon thread (no-op when reloading is off)."""
        if self.interval_s <= 0 or self._load is None or self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._watch, name="legatus-index-reload", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()
