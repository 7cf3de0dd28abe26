"""Access labels: a report labelled for a group reaches only that group's members, on both index
backends, through the CLI and through the chat page's own API.

Two of the small corpus's three reports (tests/corpus.py) are labelled ``access =
["bz-dgpz"]``; the questions asked have their evidence only in those two. A reader outside the
group must find nothing of them in any response (passage, title, publisher, id, count, filter
choice, example question, note, the reader route); a member must be answered from them.
"""

from __future__ import annotations

import http.cookiejar
import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from ingest.access import may_read, parse_groups
from ingest.types import IngestError
from tests.corpus import ARCTIC, KUSTWACHT, NOORDZEE, ingest_folder
from tests.web_helpers import free_port, legatus_command, legatus_env

pytestmark = pytest.mark.slow

GROUP = "bz-dgpz"
HIDDEN = (NOORDZEE, KUSTWACHT)
QUESTIONS = {
    "Hoeveel kilometer kabels en leidingen ligt er op de Nederlandse zeebodem?": NOORDZEE,
    "Hoeveel drugs onderschepte de Kustwacht in 2022?": KUSTWACHT,
}
"""Questions whose evidence is only in a labelled report, with that report."""

SECRETS = (
    *HIDDEN,
    "Kwetsbare infrastructuur op de Noordzee",  # titles
    "De Kustwacht in het Caribisch gebied",
    "Instituut voor Maritieme Veiligheid",  # their publisher: a filter choice
    "4.500 kilometer",  # their evidence
    "cocaïne",
    "3 reports",  # the count of all reports
)
"""What an outsider must never see of the labelled reports."""


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s.casefold() in text.casefold()]


@pytest.fixture(scope="module")
def labelled_index(small_reports: Path, embedder: Any, tmp_path_factory: Any) -> Path:
    """The small corpus with two reports labelled for GROUP, indexed with the real model."""
    folder = tmp_path_factory.mktemp("labelled") / "reports"
    shutil.copytree(small_reports, folder)
    for doc in HIDDEN:
        sidecar = folder / f"{doc}.meta.toml"
        sidecar.write_text(
            sidecar.read_text(encoding="utf-8") + f'access = ["{GROUP}"]\n', encoding="utf-8"
        )
    path = folder.parent / "index"
    ingest_folder(path, folder, embedder)
    return path


@pytest.fixture(scope="module")
def database(labelled_index: Path, server_folder: Callable[[str], Path]) -> Iterator[str]:
    """The bundled PostgreSQL with the labelled index imported (as `legatus db import` does)."""
    from index.postgres.schema import connect
    from index.postgres.server import start, stop
    from index.postgres.store import import_files_index

    db = start(server_folder("pg-access") / "data")
    try:
        with connect(db.dsn) as conn:
            assert import_files_index(conn, labelled_index) == (3, 0, 0)
        yield db.dsn
    finally:
        stop(db.data)


@pytest.fixture(params=["files", "postgres"])
def backend(request: pytest.FixtureRequest, labelled_index: Path) -> dict[str, str]:
    """The environment that chooses one backend over the labelled index."""
    if request.param == "files":
        return {"LEGATUS_INDEX__PATH": str(labelled_index)}
    dsn = request.getfixturevalue("database")
    return {"LEGATUS_INDEX__BACKEND": "postgres", "LEGATUS_INDEX__DSN": dsn}


def _index(backend: dict[str, str], embedding_settings: Any, embedder: Any) -> Any:
    from index.search import open_index
    from index.settings import IndexSettings

    settings = IndexSettings(
        backend=backend.get("LEGATUS_INDEX__BACKEND", "files"),  # type: ignore[arg-type]
        path=Path(backend.get("LEGATUS_INDEX__PATH", "unused")),
        dsn=backend.get("LEGATUS_INDEX__DSN", ""),
    )
    return open_index(settings, embedding_settings, embedder=embedder)


# --- labels ----------------------------------------------------------------------------------


def test_labels_are_checked_where_they_are_written(tmp_path: Path) -> None:
    from ingest.readers.meta import build_meta

    report = tmp_path / "nota.txt"
    report.write_text("Een interne nota.", encoding="utf-8")
    sidecar = tmp_path / "nota.meta.toml"
    sidecar.write_text('access = ["Internal", "bz-dgpz", "internal"]\n', encoding="utf-8")
    assert build_meta(report).access == ("bz-dgpz", "internal")
    for bad in ('access = "internal"', "access = []", 'access = ["internal, bz"]'):
        sidecar.write_text(bad + "\n", encoding="utf-8")
        with pytest.raises(IngestError, match="access"):
            build_meta(report)
    assert parse_groups(" bz-dgpz ,") == frozenset({"bz-dgpz"})
    with pytest.raises(ValueError, match="not a group name"):
        parse_groups("bz dgpz")
    assert may_read((), frozenset()) and may_read(("a",), None)
    assert not may_read(("a",), frozenset({"b"}))


# --- inside retrieval, both backends -----------------------------------------------------------


def test_a_reader_outside_the_group_searches_only_the_reports_they_may_read(
    backend: dict[str, str], embedding_settings: Any, embedder: Any
) -> None:
    from index.types import SearchFilters

    index = _index(backend, embedding_settings, embedder)
    outsider = index.readable_by(frozenset({"other"}))
    member = index.readable_by(frozenset({GROUP}))
    assert member is index and index.readable_by(None) is index
    assert set(outsider.documents) == {ARCTIC}
    assert outsider.manifest.counts.documents == 1
    assert set(outsider.manifest.documents) == {ARCTIC}
    assert len(outsider) == outsider.manifest.counts.chunks < len(index)
    hidden_chunk = next(c for c in index.chunks if c.doc_id == NOORDZEE)
    with pytest.raises(KeyError):
        outsider.chunk(hidden_chunk.id)
    assert outsider.following(hidden_chunk.id, 3) == ()
    assert outsider.unit_vectors([hidden_chunk.id]) == {}
    for question, doc in QUESTIONS.items():
        for mode in ("hybrid", "dense", "lexical"):
            # More passages than the readable report has: a filter after a top-k would show
            # fewer than asked for, or the others' passages.
            hits = outsider.search(question, k=len(index), mode=mode)  # type: ignore[arg-type]
            assert {h.document.doc_id for h in hits} == ({ARCTIC} if mode != "lexical" else set())
            # (the English report has none of the Dutch question's words)
        named = outsider.search(question, k=5, filters=SearchFilters(doc_ids=(doc,)))
        assert named == []  # naming a hidden report finds nothing, as an unknown one
        assert member.search(question, k=3)[0].document.doc_id == doc


# --- the CLI ----------------------------------------------------------------------------------


def _legatus(env: dict[str, str], tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*legatus_command(), *args],
        env=legatus_env(Path(env.get("LEGATUS_INDEX__PATH", tmp_path / "none")), tmp_path, **env),
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_the_cli_shows_an_outsider_nothing_of_the_labelled_reports(
    backend: dict[str, str], tmp_path: Path
) -> None:
    for question, doc in QUESTIONS.items():
        asked = _legatus(backend, tmp_path, "ask", question, "--json", "--as-groups", "other")
        assert asked.returncode == 0, asked.stderr
        answer = json.loads(asked.stdout)
        assert not leaks(asked.stdout + asked.stderr), (leaks(asked.stdout), answer["answer"])
        assert all(p["report"] == ARCTIC for p in answer["retrieved"])
        plain = _legatus(backend, tmp_path, "ask", question, "--as-groups", "")
        assert plain.returncode == 0 and not leaks(plain.stdout + plain.stderr), plain.stdout
        named = _legatus(backend, tmp_path, "search", question, "--report", doc,
                         "--as-groups", "other")  # fmt: skip
        assert named.returncode == 2 and f"known: {ARCTIC}" in named.stderr
    member = _legatus(backend, tmp_path, "ask", next(iter(QUESTIONS)), "--json",
                      "--as-groups", f"{GROUP},other")  # fmt: skip
    answer = json.loads(member.stdout)
    assert not answer["refused"] and {c["report"] for c in answer["citations"]} == {NOORDZEE}
    assert "4.500" in answer["answer"]
    bad = _legatus(backend, tmp_path, "ask", "Wat?", "--as-groups", "bz dgpz")
    assert bad.returncode == 2 and "--as-groups" in bad.stderr


# --- the chat page ------------------------------------------------------------------------------


def test_the_page_shows_each_login_only_the_reports_of_their_groups(
    backend: dict[str, str], embedding_settings: Any, embedder: Any, tmp_path: Path
) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings
    from ui.feedback import FeedbackStore
    from ui.settings import UISettings
    from ui.web import build_app, serve

    index = _index(backend, embedding_settings, embedder)
    assistant = Assistant(index, embedder, AssistantSettings())
    settings = UISettings(
        auth=["ann:pw-ann", "bob:pw-bob"],  # type: ignore[list-item]
        groups={"ann": [GROUP]}, port=free_port(),
    )  # fmt: skip
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    app = build_app(assistant, settings, index.manifest, store)
    serve(app, settings, prevent_thread_lock=True)
    base = f"http://127.0.0.1:{settings.port}"
    try:
        bob = Client(base, auth=("bob", "pw-bob"), verbose=False)
        seen = json.dumps(bob.config, ensure_ascii=False)  # the layout, filters, examples
        assert not leaks(seen), leaks(seen)
        for question in QUESTIONS:
            out = bob.predict(question, [], [], "", "", api_name="/ask")
            shown = json.dumps(out, ensure_ascii=False, default=str)  # chat, sources, note
            assert not leaks(shown), leaks(shown)
            # Naming a hidden report in the filter (as a forged request could): refused by the
            # filter's own check, or answered from nothing of it.
            try:
                out = bob.predict(question, list(HIDDEN), [], "", "", api_name="/ask")
            except AppError as exc:
                out = str(exc)
            shown = json.dumps(out, ensure_ascii=False, default=str)
            assert not leaks(shown.replace(NOORDZEE, "").replace(KUSTWACHT, "")), leaks(shown)
        ann = Client(base, auth=("ann", "pw-ann"), verbose=False)
        out = ann.predict(next(iter(QUESTIONS)), [], [], "", "", api_name="/ask")
        assert "4.500" in str(out[0][-1]["content"])

        # What start-up shows each of them (report and publisher choices, the index, examples).
        (start,) = [d for d in app.fns.values() if getattr(d.fn, "__name__", "") == "start"]
        for user, sees in (("bob", False), ("ann", True)):
            request = SimpleNamespace(headers={"accept-language": "nl"}, username=user)
            shown = json.dumps(
                [_plain(o) for o in start.fn("", "", "", request)], ensure_ascii=False,
                default=str,
            )  # fmt: skip
            assert bool(leaks(shown)) is sees, (user, leaks(shown))

        # The reports themselves: a hidden one is as unknown to bob as one never indexed.
        for user, password, status in (("bob", "pw-bob", 404), ("ann", "pw-ann", 200)):
            opener = _signed_in(base, user, password)
            assert _status(opener, f"{base}/reports/{NOORDZEE}/read") == status
            assert _status(opener, f"{base}/reports/{ARCTIC}/read") == 200
    finally:
        app.close()


def _plain(update: Any) -> Any:
    """A component update (or plain value) as data, for the text check."""
    if isinstance(update, dict | list | tuple | str | int | float) or update is None:
        return update
    return {k: v for k, v in vars(update).items() if not k.startswith("_")}


def _signed_in(base: str, user: str, password: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    form = urllib.parse.urlencode({"username": user, "password": password}).encode()
    assert opener.open(f"{base}/login", data=form, timeout=30).status == 200
    return opener


def _status(opener: urllib.request.OpenerDirector, url: str) -> int:
    try:
        with opener.open(url, timeout=30) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_feedback_exported_for_a_group_holds_only_what_it_may_read(
    labelled_index: Path, embedding_settings: Any, embedder: Any, tmp_path: Path
) -> None:
    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings
    from ui.feedback import FeedbackStore

    index = _index({"LEGATUS_INDEX__PATH": str(labelled_index)}, embedding_settings, embedder)
    member = Assistant(index, embedder, AssistantSettings())
    outsider = Assistant(index.readable_by(frozenset()), embedder, AssistantSettings())
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    for i, question in enumerate(QUESTIONS):
        store.record(f"a{i}", member.ask(question), "up")
    # Rated by a reader outside the group: drawn on the public report alone.
    store.record("b", outsider.ask("Why has traffic on the Northern Sea Route grown?"), "up")
    env = {"LEGATUS_INDEX__PATH": str(labelled_index)}
    out = tmp_path / "out.jsonl"
    for groups, count in (("other", 1), (GROUP, 3), ("", 1)):
        done = _legatus(env, tmp_path, "feedback", "export", str(out), "--as-groups", groups)
        assert done.returncode == 0, done.stderr
        text = out.read_text(encoding="utf-8")
        assert len(text.splitlines()) == count
        assert bool(leaks(text)) is (groups == GROUP), text


def test_a_saved_answer_from_a_report_its_owner_may_no_longer_read_is_not_shown_again(
    labelled_index: Path, embedding_settings: Any, embedder: Any, tmp_path: Path
) -> None:
    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings
    from ui.conversations import ConversationStore
    from ui.page import ChatPage
    from ui.settings import UISettings

    index = _index({"LEGATUS_INDEX__PATH": str(labelled_index)}, embedding_settings, embedder)
    assistant = Assistant(index, embedder, AssistantSettings())
    store = ConversationStore(tmp_path / "c.sqlite3")
    ann = SimpleNamespace(username="ann", headers={})
    before = ChatPage(assistant, UISettings(groups={"ann": [GROUP]}), None, None, store)
    question = next(iter(QUESTIONS))
    *_, last = before.respond(question, [], None, None, None, None, "nl", "user:ann", "", ann)
    conv = last[-3]
    assert "4.500" in json.dumps(last[0], ensure_ascii=False)
    assert "4.500" in json.dumps(before.open("user:ann", conv, "nl", ann)[0], ensure_ascii=False)
    # Ann left the group: her saved conversation no longer shows what the report said.
    after = ChatPage(assistant, UISettings(), None, None, store)
    chat, turns, current, sources, note, *_ = after.open("user:ann", conv, "nl", ann)
    shown = json.dumps([chat, sources, note], ensure_ascii=False)
    assert not leaks(shown) and "niet mag lezen" in shown and current == -1
    assert turns[0].answer is None
