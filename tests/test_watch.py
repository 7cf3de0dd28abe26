"""`legatus watch` as a real process over a real folder: a file copied in slowly is ingested
once and whole, a corrupt one is reported and the watcher goes on, a deleted one leaves the
index, and a watcher killed with SIGKILL mid-ingest leaves an index that loads."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.dense import vector_id
from index.store import read_index
from tests.corpus import ARCTIC
from tests.web_helpers import legatus_command, legatus_env

pytestmark = pytest.mark.slow

SLOW = [
    "# Havens en de Noordelijke Zeeroute\n\n## Samenvatting\n\n",
    "De notitie bespreekt wat de Noordelijke Zeeroute betekent voor de havens van Rotterdam en "
    "Antwerpen. ",
    "Zij schat dat de route in 2035 hooguit vier procent van het containervervoer tussen Azië "
    "en Europa trekt. ",
    "Het laatste stuk van dit bestand noemt het getal zevenenveertig, dat alleen hier staat.\n",
]
"""A report written in four pieces, as a slow copy would land."""


class Watcher:
    """`legatus watch FOLDER` with its output in a file."""

    def __init__(self, folder: Path, index: Path, home: Path, **env: str) -> None:
        self.log = home / "watch.log"
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [*legatus_command(), "watch", str(folder), "--settle", "1"],
            env=legatus_env(index, home, **env), stdout=self._out, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for(self, needle: str, timeout: float = 120, *, times: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while (text := self.text()).count(needle) < times:
            assert self.proc.poll() is None, f"the watcher exited:\n{text}"
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{text}"
            time.sleep(0.3)
        return text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self._out.close()


@pytest.fixture
def watcher(tmp_path: Path, small_reports: Path) -> Iterator[tuple[Watcher, Path, Path]]:
    folder = tmp_path / "incoming"
    folder.mkdir()
    for name in (f"{ARCTIC}.md", f"{ARCTIC}.meta.toml"):
        shutil.copy(small_reports / name, folder / name)
    index = tmp_path / "index"
    w = Watcher(folder, index, tmp_path)
    try:
        yield w, folder, index
    finally:
        w.stop()


def _texts(index: Path, doc: str) -> str:
    manifest, chunks, *_ = read_index(index)
    return " ".join(c.text for c in chunks if c.doc_id == doc) if doc in manifest.documents else ""


def test_the_watcher_follows_the_folder_and_survives_bad_files_and_kill(
    watcher: tuple[Watcher, Path, Path],
) -> None:
    w, folder, index = watcher
    w.wait_for("waiting for changes")
    assert f"added {ARCTIC}" in w.text()  # caught up with what was there
    # background work: its CPU priority lowered below a page's (--nice, 10 by default)
    lowered = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    assert os.getpriority(os.PRIO_PROCESS, w.proc.pid) == lowered

    # A file copied in slowly (pauses shorter than --settle) is read once, complete.
    slow = folder / "havens-noordelijke-zeeroute.md"
    with slow.open("w", encoding="utf-8") as handle:
        for piece in SLOW:
            handle.write(piece)
            handle.flush()
            time.sleep(0.6)
    w.wait_for("added havens-noordelijke-zeeroute")
    # written first with its passage vectors (searchable), then with its sentence vectors
    w.wait_for("sentences embedded and written", times=2)  # the first: catching up
    time.sleep(3)  # whatever else the copy's events bring: nothing more to do
    log = w.text()
    assert log.count("havens-noordelijke-zeeroute") == 1, log
    assert "passages embedded and written" in log and "searchable now" in log
    assert "zevenenveertig" in _texts(index, "havens-noordelijke-zeeroute")
    manifest, chunks, _, _, sentences = read_index(index)
    assert manifest.counts.sentences_pending == 0
    assert all(
        len(sentences.rows_of(vector_id(c.id)))
        for c in chunks
        if c.doc_id == "havens-noordelijke-zeeroute"
    )

    # A corrupt file is reported by name, and the watcher goes on.
    (folder / "kapot.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    w.wait_for("skipped")
    assert "kapot.pdf" in w.text()
    (folder / "tweede.md").write_text("# Tweede\n\nEen tweede notitie over ijsbrekers.\n")
    w.wait_for("added tweede")

    # A deleted file's report leaves the index.
    slow.unlink()
    w.wait_for("removed havens-noordelijke-zeeroute")
    assert _texts(index, "havens-noordelijke-zeeroute") == ""

    # Killed with SIGKILL while a report comes in: the index still loads, whole.
    (folder / "derde.md").write_text("# Derde\n\n" + "Een lange notitie over poolijs. " * 400)
    time.sleep(1.5)  # settled, and being read or embedded
    w.proc.send_signal(signal.SIGKILL)
    w.proc.wait(timeout=30)
    manifest, chunks, *_ = read_index(index)
    assert {ARCTIC, "tweede"} <= set(manifest.documents)
    assert len(chunks) == manifest.counts.chunks


def test_a_full_disk_is_reported_the_index_kept_and_the_report_taken_in_once_there_is_room(
    watcher: tuple[Watcher, Path, Path],
) -> None:
    """A real failed write, as on a full disk: the running watcher's file size limit
    (RLIMIT_FSIZE, set from here with prlimit) just above its index's FAISS file, so that the
    next index cannot be written. Then the limit is lifted, as when space is freed: the next
    change brings in the new report and the one that failed."""
    import resource

    from index.store import DENSE_FILE, read_manifest

    w, folder, index = watcher
    w.wait_for("waiting for changes")
    before = read_manifest(index)
    limit = (index / DENSE_FILE).stat().st_size + 1024
    soft, hard = resource.prlimit(w.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(w.proc.pid, resource.RLIMIT_FSIZE, (limit, hard))  # the soft limit only
    lines = "".join(f"Alinea {i}: de werf bouwt ijsbreker {i}.\n\n" for i in range(60))
    (folder / "groot.md").write_text(f"# Groot\n\n{lines}", encoding="utf-8")
    log = w.wait_for("error: index not updated")
    assert "the previous one stays" in log and "File too large" in log, log
    assert read_manifest(index) == before  # the index as it was, and it loads
    assert "groot" not in read_manifest(index).documents

    resource.prlimit(w.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))
    (folder / "klein.md").write_text("# Klein\n\nEen korte notitie over ijsbrekers.\n")
    w.wait_for("added klein")
    log = w.wait_for("added groot")
    assert w.proc.poll() is None, log
    assert {"groot", "klein", ARCTIC} <= set(read_manifest(index).documents)
    assert "ijsbreker 59" in _texts(index, "groot")
