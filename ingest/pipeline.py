"""Reading reports from disk into documents: one file, or a whole batch that survives bad files;
and a batch cut into passages, ready for the index (`prepare`).

Finding the files (`scan`) and reading them (`read_batch`) both report what they skip, by name,
instead of failing the batch or passing over it in silence.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import chunk
from ingest.clean import clean
from ingest.readers import SUPPORTED_SUFFIXES, read_raw
from ingest.settings import ChunkSettings, ReadLimits
from ingest.structure import build_document
from ingest.types import Document, IngestError, Report


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read(path: str | Path, limits: ReadLimits | None = None) -> Document:
    """Read, clean and structure one report.

    Example:
        >>> doc = read("data/reports/hcss-strategische-monitor-2022.txt")  # doctest: +SKIP
        >>> doc.sections[1].label  # doctest: +SKIP
        '1. Inleiding'

    Args:
        path: the report file.
        limits: file size limits (default: `ReadLimits()`).

    Raises:
        IngestError: the file is missing, empty, too large, corrupt, encrypted, unsupported or
            has no text.
    """
    path = Path(path)
    raw = read_raw(path, limits=limits)
    blocks = clean(list(raw.blocks))
    doc = build_document(raw.meta, blocks, page_count=raw.page_count, content_hash=file_hash(path))
    if not doc.text.strip():
        raise IngestError(f"{path}: no text left after cleaning; is it a scan or an empty page?")
    return doc


@dataclass(frozen=True)
class Failure:
    """A file (or folder) that was skipped, and why.

    ``reason`` does not repeat the path: print them as ``f"{path}: {reason}"``.
    """

    path: Path
    reason: str


@dataclass(frozen=True)
class Discovery:
    """The report files found under the paths given, and what was found but refused.

    ``failures`` name folders that could not be listed (nothing indexed from under them may be
    removed: their files are unknown, not gone) and links that were not followed.
    """

    files: tuple[Path, ...]
    failures: tuple[Failure, ...] = ()


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """The report files named by ``paths`` (files, or folders searched recursively), sorted.

    See `scan`, which also says what it refused; this is its list of files.
    """
    return list(scan(paths).files)


def scan(paths: Iterable[str | Path]) -> Discovery:
    """Find the report files named by ``paths``: files, or folders searched recursively.

    Sidecar metadata (``*.meta.toml``) and hidden files are not reports. A named file is kept
    whatever its suffix or state, so that the batch reports it instead of silently ignoring it.
    Inside a folder, a link is followed only when it stays inside that folder (a file reached
    twice is listed once); a link that leads out of it, a dangling link or a loop of links, a
    folder that cannot be listed and a report that is not a regular file (a pipe, a device) are
    failures, by name.
    """
    found: dict[Path, Path] = {}  # real path → the path to read it by (the real one if reached)
    failures: list[Failure] = []
    for item in map(Path, paths):
        if item.is_dir():
            _scan_folder(item, found, failures)
        else:
            found.setdefault(_real(item) or item, item)
    return Discovery(tuple(sorted(found.values())), tuple(sorted(failures, key=_by_path)))


def _by_path(failure: Failure) -> Path:
    return failure.path


def _real(path: Path) -> Path | None:
    """Where ``path`` really is, or ``None`` for a dangling link or a loop of links."""
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a loop of links (Python 3.11)
        return None


def _unresolvable(path: Path) -> str:
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "is a loop of links"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a loop of links"
    try:
        points_to = os.readlink(path)
    except OSError:
        points_to = "?"
    return f"is a dangling link (to {points_to})"


def _scan_folder(root: Path, found: dict[Path, Path], failures: list[Failure]) -> None:
    """Walk ``root`` without recursion (deep trees) and without following links to folders.

    A link to a folder inside ``root`` adds nothing: the folder is walked where it really is.
    `Path.rglob` is not used because it skips unreadable folders without a word.
    """
    top = _real(root) or root.absolute()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            failures.append(
                Failure(
                    folder,
                    f"folder cannot be listed ({exc.strerror or exc}); its reports were not read "
                    "and those indexed from it are kept. Check that it exists and that you may "
                    "read it",
                )
            )
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    _link(path, top, found, failures)
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                elif path.suffix.lower() in SUPPORTED_SUFFIXES:
                    if entry.is_file(follow_symlinks=False):
                        found[_real(path) or path] = path  # the real path wins over a link
                    else:
                        failures.append(Failure(path, _NOT_A_FILE))
            except OSError as exc:  # vanished or unreadable between listing and looking
                failures.append(Failure(path, f"cannot be read ({exc.strerror or exc})"))


_NOT_A_FILE = "is not a regular file (a pipe, socket or device); copy the report into a file"


def _link(path: Path, top: Path, found: dict[Path, Path], failures: list[Failure]) -> None:
    """Follow a link met inside the folder ``top`` (real path) if it stays there."""
    target = _real(path)
    if target is None:
        failures.append(Failure(path, f"{_unresolvable(path)}; remove it, or point it at a report"))
    elif target.is_dir():
        if (_real(path.parent) or path.parent).is_relative_to(target):
            failures.append(
                Failure(path, f"is a link to {target}, a folder that holds it (a loop); remove it")
            )
        elif not target.is_relative_to(top):
            failures.append(Failure(path, _outside(target)))
        # else: a folder inside `top`, walked where it really is
    elif path.suffix.lower() in SUPPORTED_SUFFIXES:
        if not target.is_relative_to(top):
            failures.append(Failure(path, _outside(target)))
        elif target.is_file():
            found.setdefault(target, path)
        else:
            failures.append(Failure(path, _NOT_A_FILE))


def _outside(target: Path) -> str:
    return (
        f"is a link to {target}, outside the folder being ingested, so it was not followed; "
        "copy what it links to into the folder, or ingest that by its own path"
    )


@dataclass(frozen=True)
class Batch:
    """What a batch read: each file with its document (in the order read), and the files that
    were skipped."""

    read: tuple[tuple[Path, Document], ...]
    failures: tuple[Failure, ...]

    @property
    def documents(self) -> tuple[Document, ...]:
        return tuple(doc for _, doc in self.read)


def prepare(batch: Batch, cfg: ChunkSettings | None = None) -> tuple[Report, ...]:
    """The batch's documents cut into passages, each with the file it was read from: what
    ``index.indexer.update_index`` takes (with the same ``cfg``, which it records).

    Example:
        >>> reports = prepare(read_batch(discover(["data/reports"])))  # doctest: +SKIP
        >>> reports[0].path.name, len(reports[0].chunks)  # doctest: +SKIP
        ('clingendael-state-of-the-union-2026.pdf', 131)
    """
    return tuple(Report(doc, tuple(chunk(doc, cfg)), path) for path, doc in batch.read)


def read_batch(
    paths: Iterable[Path],
    progress: Callable[[Path], None] | None = None,
    *,
    limits: ReadLimits | None = None,
    skipped: Iterable[Failure] = (),
) -> Batch:
    """Read every file; a bad file is recorded as a failure and the rest still ingest.

    Args:
        paths: the files, e.g. ``scan(...).files``.
        progress: called with each path before it is read.
        limits: file size limits (default: `ReadLimits()`).
        skipped: failures found before reading (``scan(...).failures``); they come first.
    """
    pairs: list[tuple[Path, Document]] = []
    failures: list[Failure] = list(skipped)
    seen: dict[str, Path] = {}
    for path in paths:
        if progress:
            progress(path)
        try:
            doc = read(path, limits)
        except IngestError as exc:
            failures.append(Failure(path, str(exc).removeprefix(f"{path}: ")))
            continue
        except Exception as exc:
            # A reader bug on one odd file (deep recursion, a library's unexpected error) must
            # cost that file only, not the batch and the index update after it.
            failures.append(
                Failure(
                    path,
                    f"reading failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug "
                    "in Legatus: please report it with the file, or convert the file to another "
                    "format",
                )
            )
            continue
        if doc.doc_id in seen:
            failures.append(
                Failure(path, f"same document id '{doc.doc_id}' as {seen[doc.doc_id]}; rename one")
            )
            continue
        seen[doc.doc_id] = path
        pairs.append((path, doc))
    return Batch(tuple(pairs), tuple(failures))
