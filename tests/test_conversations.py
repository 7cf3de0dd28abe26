"""Saved conversations: answers as JSON and back, the SQLite store per owner (caps, sizes, two
writers at once, two processes, damaged and foreign files)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.types import Answer, AnswerSentence, Citation, Passage, Verification
from index.types import SearchFilters
from ui.conversations import (
    SCHEMA_VERSION,
    ConversationError,
    ConversationStore,
    StoredTurn,
    conversations_path,
    short_title,
)
from ui.feedback import FeedbackStore
from ui.owners import new_browser_id, owner_key
from ui.turn_json import answer_from_json, answer_to_json, turn_from_json, turn_to_json

ROOT = Path(__file__).resolve().parents[1]
ALICE, BOB = "user:alice", "user:bob"


def full_passage(n: int, **kw: object) -> Passage:
    """A passage with every field set to something other than its default."""
    fields: dict[str, object] = {
        "chunk_id": f"c{n}", "doc_id": "hcss-monitor-2022", "text": f"Zin {n}. Nog één zin ✓.",
        "title": "Strategische Monitor", "section": "2. Methoden › 2.1 Data",
        "score": 0.123456789012345, "rank": n, "publisher": "HCSS", "date": "2022-06",
        "page": 12, "page_end": 13, "page_label": "xii", "section_page": "11",
        "parts": (f"c{n}", f"c{n}b"), "section_path": ("2. Methoden", "2.1 Data"),
        "language": "nl", "source_file": "hcss-monitor-2022.pdf",
        "url": "https://hcss.nl/report/strategische-monitor-2022/",
        "page_starts": ((40, 13, "xiii"),),
    }  # fmt: skip
    fields.update(kw)
    return Passage(**fields)  # type: ignore[arg-type]


def full_answer() -> Answer:
    """An answer with every field (and every field of its parts) set."""
    p1, p2, p3 = full_passage(1), full_passage(2, language="en"), full_passage(3, page=None)
    return Answer(
        question="Welke methoden gebruikt HCSS?",
        answer="HCSS gebruikt scenario's [1] en enquêtes [2].",
        refused=False,
        language="en",
        standalone_question="Welke onderzoeksmethoden gebruikt HCSS in de monitor?",
        sentences=(
            AnswerSentence("HCSS gebruikt scenario's.", (1,), 0.987654321, True, "2. Methoden"),
            AnswerSentence("En enquêtes.", (1, 2), 0.51234567, False, "2.1 Data"),
        ),
        citations=(Citation(1, p1, ("Zin 1.",)), Citation(2, p2, ("Zin 2.", "Nog één zin ✓."))),
        retrieved=(p1, p2, p3),
        verification=Verification(3, ("Weg.",), ("c9",), ("Niet gevonden.",), 0.55),
        answerer="llm:qwen",
        latency_ms=1234.56789,
        notice="The language model timed out.",
        refusal="weak",
        hidden_reports=("clingendael-2026",),
        strength=0.8765432109,
        listed=True,
    )


def turn(question: str = "Wat zegt HCSS?", **kw: object) -> StoredTurn:
    return StoredTurn(question, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "var" / "conversations.sqlite3")


# --- answers and turns as JSON -----------------------------------------------------------------


def test_the_hand_built_answer_sets_every_field() -> None:
    """So that the round trips below cover every field, and tell when one is added."""
    answer = full_answer()
    found: dict[type, list[object]] = {}
    for value in (answer, answer.verification, *answer.sentences, *answer.citations,
                  *answer.retrieved):  # fmt: skip
        found.setdefault(type(value), []).append(value)
    for kind, values in found.items():
        for f in dataclasses.fields(kind):  # type: ignore[arg-type]
            default = (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            )
            if default is not dataclasses.MISSING:
                assert any(getattr(v, f.name) != default for v in values), (kind, f.name)
    assert set(found) == {Answer, Verification, AnswerSentence, Citation, Passage}


def test_a_hand_built_answer_with_every_field_set_reads_back_identical() -> None:
    answer = full_answer()
    data = json.loads(json.dumps(answer_to_json(answer)))
    assert answer_from_json(data) == answer
    # the documented to_json shape is kept: a reader of `legatus ask --json` reads this too
    assert set(answer.to_json()) <= set(data)
    assert data["citations"][0]["report"] == "hcss-monitor-2022"


@pytest.mark.parametrize(
    "answer",
    [
        Answer(question="Wat?", answer="Dat zeggen de rapporten niet.", refused=True),
        # what to_json writes in place of an empty field: the question, the passage's own id
        replace(full_answer(), standalone_question="Welke methoden gebruikt HCSS?"),
        replace(full_answer(), retrieved=(full_passage(1, parts=("c1",)), full_passage(2))),
        replace(full_answer(), retrieved=(full_passage(1, parts=(), section_path=()),)),
    ],
)
def test_defaults_and_fields_that_to_json_fills_in_read_back_identical(answer: Answer) -> None:
    assert answer_from_json(json.loads(json.dumps(answer_to_json(answer)))) == answer


def test_a_plain_to_json_answer_reads_back_to_the_same_json() -> None:
    answer = full_answer()
    again = answer_from_json(json.loads(json.dumps(answer.to_json())))
    assert again.to_json() == answer.to_json()
    assert again.citations[1].quotes == ("Zin 2.", "Nog één zin ✓.")


def test_unknown_keys_are_ignored_at_every_level() -> None:
    data = answer_to_json(full_answer())
    data["future_field"] = {"nested": [1, 2]}
    data["citations"][0]["future"] = "x"
    data["retrieved"][1]["future"] = 3
    data["sentences"][0]["future"] = None
    data["verification"]["future"] = []
    assert answer_from_json(data) == full_answer()
    row = turn_to_json(turn(answer=full_answer(), filters=SearchFilters(publishers=("HCSS",))))
    row["future"] = 1
    row["filters"]["future"] = "y"
    assert turn_from_json(row) == turn_from_json(turn_to_json(turn_from_json(row)))
    assert turn_from_json(row).filters == SearchFilters(publishers=("HCSS",))


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1, 2], "must be a JSON object"),
        ({"answer": "x", "refused": False}, "does not read back: question: Field required"),
        ({"question": "q", "answer": "a", "citations": "c"}, "'citations' must be a list"),
        (
            {"question": "q", "answer": "a", "refused": True, "citations": [{"chunk_id": "c"}]},
            r"citations.0.n: Input should be a valid integer",
        ),
        ({"question": 3, "answer": "a", "refused": 1}, "question: Input should be a valid string"),
    ],
)
def test_a_damaged_answer_raises_value_error(data: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        answer_from_json(data)  # type: ignore[arg-type]


def test_turns_keep_errors_filters_ids_and_times() -> None:
    failed = turn("Wat?", error="The index is being rebuilt.", filters=SearchFilters())
    assert turn_from_json(json.loads(json.dumps(turn_to_json(failed)))) == failed
    plain = turn("Wat?", answer=full_answer())
    assert turn_from_json(turn_to_json(plain)).filters is None  # asked without filters
    dated = turn(filters=SearchFilters(("a", "b"), ("HCSS",), "2020", "2022-06"))
    assert turn_from_json(turn_to_json(dated)) == dated


# --- the store ---------------------------------------------------------------------------------


def test_turns_come_back_in_order_after_the_store_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    conv = store.create(ALICE)
    turns = [
        turn("Eerste vraag over methoden?", answer=full_answer()),
        turn("Tweede?", error="The language model timed out.", filters=SearchFilters(("x",))),
        turn("Derde?", answer=Answer("Derde?", "Niet gevonden.", True)),
    ]
    for t in turns:
        assert store.append(ALICE, conv, t)
    del store
    again = ConversationStore(path).load(ALICE, conv)
    assert again is not None
    assert again.turns == tuple(turns)
    assert again.title == "Eerste vraag over methoden?"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_the_list_is_newest_first_with_titles_and_counts(store: ConversationStore) -> None:
    first, second = store.create(ALICE), store.create(ALICE)
    store.append(
        ALICE,
        first,
        turn("  Welke   onderzoeksmethoden gebruikt de Strategische Monitor 2022 van HCSS?"),
    )
    store.append(ALICE, second, turn("Wat?"))
    store.append(ALICE, second, turn("En verder?"))
    listed = store.list(ALICE)
    assert [(c.id, c.turn_count) for c in listed] == [(second, 2), (first, 1)]
    assert listed[1].title == "Welke onderzoeksmethoden gebruikt de Strategische Monitor…"
    store.append(ALICE, first, turn("Nog één?"))  # used again: first again
    assert [c.id for c in store.list(ALICE)] == [first, second]
    assert [c.id for c in store.list(ALICE, limit=1)] == [first]
    assert store.rename(ALICE, second, "  Mijn\nvragen ")
    assert store.list(ALICE)[1].title == "Mijn vragen"
    assert store.delete(ALICE, first) and not store.delete(ALICE, first)
    assert store.load(ALICE, first) is None
    assert [c.id for c in store.list(ALICE)] == [second]


def test_an_owner_sees_and_changes_only_their_own_conversations(store: ConversationStore) -> None:
    mine = store.create(ALICE)
    store.append(ALICE, mine, turn("Geheim?"))
    theirs = store.create(BOB)
    assert [c.id for c in store.list(BOB)] == [theirs]
    assert store.load(BOB, mine) is None
    assert not store.append(BOB, mine, turn("Ingebroken?"))
    assert not store.replace_last(BOB, mine, turn("Overschreven?"))
    assert not store.rename(BOB, mine, "Van mij")
    assert not store.delete(BOB, mine)
    kept = store.load(ALICE, mine)
    assert kept is not None and [t.question for t in kept.turns] == ["Geheim?"]
    assert kept.title == "Geheim?"
    # a browser id never reaches a user's conversations, whatever it says
    assert owner_key(None, "alice") is None
    browser = owner_key(None, new_browser_id())
    assert browser is not None and browser.startswith("browser:")
    assert store.list(browser) == []


def test_replace_last_swaps_the_last_turn_only(store: ConversationStore) -> None:
    conv = store.create(ALICE)
    assert not store.replace_last(ALICE, conv, turn("Niets om te vervangen?"))
    store.append(ALICE, conv, turn("Eerste?"))
    store.append(ALICE, conv, turn("Tweede?", error="Timed out."))
    again = turn("Tweede?", answer=full_answer())
    assert store.replace_last(ALICE, conv, again)
    loaded = store.load(ALICE, conv)
    assert loaded is not None
    assert [t.question for t in loaded.turns] == ["Eerste?", "Tweede?"]
    assert loaded.turns[-1] == again


def test_unknown_or_malformed_ids_and_owners(store: ConversationStore) -> None:
    assert store.load(ALICE, "nope") is None
    assert store.load(ALICE, "0" * 32) is None
    assert not store.append(ALICE, "'; DROP TABLE turns; --", turn())
    with pytest.raises(ConversationError, match="owner must be a key"):
        store.create("  ")
    with pytest.raises(ConversationError, match="title cannot be empty"):
        store.rename(ALICE, store.create(ALICE), " \n ")
    with pytest.raises(ValueError, match="max_turns must be at least 1"):
        ConversationStore(store.path, max_turns=0)


def test_the_oldest_turns_and_conversations_are_dropped_beyond_the_caps(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", max_turns=3, max_conversations=2)
    conv = store.create(ALICE)
    for i in range(5):
        store.append(ALICE, conv, turn(f"Vraag {i}?"))
    loaded = store.load(ALICE, conv)
    assert loaded is not None
    assert [t.question for t in loaded.turns] == ["Vraag 2?", "Vraag 3?", "Vraag 4?"]
    assert loaded.title == "Vraag 0?"  # the conversation keeps the title it started with
    second = store.create(ALICE)
    other = store.create(BOB)
    store.append(ALICE, conv, turn("Weer actueel?"))  # conv is now the most recently used
    third = store.create(ALICE)
    assert {c.id for c in store.list(ALICE)} == {conv, third}
    assert store.load(ALICE, second) is None
    assert [c.id for c in store.list(BOB)] == [other]  # another owner's are not counted


def test_a_large_answer_is_saved_without_its_uncited_passages(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", max_turn_bytes=20_000)
    answer = full_answer()
    bulky = tuple(full_passage(10 + i, text="lange tekst " * 1000) for i in range(5))
    big = turn(answer=replace(answer, retrieved=(*answer.retrieved, *bulky)))
    conv = store.create(ALICE)
    assert store.append(ALICE, conv, big)
    loaded = store.load(ALICE, conv)
    assert loaded is not None and loaded.turns[0].answer is not None
    kept = loaded.turns[0].answer
    assert kept.citations == answer.citations
    assert [p.chunk_id for p in kept.retrieved] == ["c1", "c2"]  # the cited ones
    huge = turn(error="x" * 30_000)
    with pytest.raises(ConversationError, match="more than the 20,000 a saved answer may take"):
        store.append(ALICE, conv, huge)
    loaded = store.load(ALICE, conv)
    assert loaded is not None and len(loaded.turns) == 1


def test_two_stores_in_threads_write_the_same_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    stores = [ConversationStore(path), ConversationStore(path)]
    shared = stores[0].create(ALICE)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        store = stores[worker % 2]
        owner = f"user:w{worker}"
        try:
            own = store.create(owner)
            for i in range(25):
                store.append(ALICE, shared, turn(f"w{worker} q{i}?"))
                store.append(owner, own, turn(f"q{i}?", answer=full_answer()))
                store.list(owner)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loaded = stores[1].load(ALICE, shared)
    assert loaded is not None and len(loaded.turns) == 100
    for w in range(4):  # each writer's turns in its own order
        asked = [t.question for t in loaded.turns if t.question.startswith(f"w{w} ")]
        assert asked == [f"w{w} q{i}?" for i in range(25)]
        (own,) = stores[0].list(f"user:w{w}")
        assert own.turn_count == 25


def test_two_processes_write_the_same_file_at_once(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    conv = store.create(ALICE)
    child = (
        "import sys; from pathlib import Path;"
        "from ui.conversations import ConversationStore, StoredTurn;"
        "s = ConversationStore(Path(sys.argv[1]));"
        "print('ready', flush=True); sys.stdin.readline();"
        "[s.append('user:alice', sys.argv[2], StoredTurn(f'child {i}?')) for i in range(50)]"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child, str(path), conv], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    with sqlite3.connect(path, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")  # the child's first write has to wait for this one
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(0.5)
        db.execute("COMMIT")
    for i in range(50):
        store.append(ALICE, conv, turn(f"parent {i}?"))
    assert proc.wait(timeout=120) == 0
    loaded = store.load(ALICE, conv)
    assert loaded is not None and len(loaded.turns) == 100  # max_turns: none dropped yet
    for who in ("child", "parent"):
        asked = [t.question for t in loaded.turns if t.question.startswith(who)]
        assert asked == [f"{who} {i}?" for i in range(50)]


def test_a_writer_that_holds_the_file_too_long_gives_a_message(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", busy_timeout_s=0.2)
    conv = store.create(ALICE)
    with sqlite3.connect(store.path, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        with pytest.raises(ConversationError, match="another process held the file too long"):
            store.append(ALICE, conv, turn())
        assert store.list(ALICE)[0].turn_count == 0  # readers are never blocked (WAL)
        db.execute("COMMIT")
    assert store.append(ALICE, conv, turn())


# --- damaged, foreign and unwritable files -------------------------------------------------------


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    junk = b"these are not the conversations you are looking for\n" * 100
    path.write_bytes(junk)
    with pytest.raises(ConversationError, match="damaged. Stop the page, move the file aside"):
        ConversationStore(path)
    assert path.read_bytes() == junk


def test_a_damaged_page_is_reported_and_nothing_is_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    store = ConversationStore(path)
    for i in range(30):
        store.append(ALICE, store.create(ALICE), turn(f"Vraag {i}?", answer=full_answer()))
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page = db.execute("PRAGMA page_size").fetchone()[0]
    data = bytearray(path.read_bytes())
    data[3 * page : 5 * page] = b"\xff" * (2 * page)
    path.write_bytes(bytes(data))
    with pytest.raises(ConversationError, match="is damaged"):
        ConversationStore(path)
    with pytest.raises(ConversationError, match=r"cannot list the conversations in .* damaged"):
        store.list(ALICE)  # a store opened before the damage reports it too, as a message
    assert path.read_bytes() == bytes(data)


def test_the_file_damaged_while_open_gives_a_message(store: ConversationStore) -> None:
    conv = store.create(ALICE)
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.path.write_bytes(b"\0" * 4096)
    with pytest.raises(ConversationError, match=f"cannot save the answer in {store.path}"):
        store.append(ALICE, conv, turn())


def test_a_turn_that_does_not_read_back_keeps_the_others(store: ConversationStore) -> None:
    conv = store.create(ALICE)
    store.append(ALICE, conv, turn("Goed?"))
    store.append(ALICE, conv, turn("Kapot?"))
    store.append(ALICE, conv, turn("Ook goed?"))
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE turns SET data = '{\"answer\": [' WHERE question = 'Kapot?'")
    loaded = store.load(ALICE, conv)
    assert loaded is not None
    assert [t.question for t in loaded.turns] == ["Goed?", "Kapot?", "Ook goed?"]
    assert loaded.turns[1].error.startswith("This answer was saved in a form that can no longer")
    assert loaded.turns[0].error == loaded.turns[2].error == ""


def test_another_sqlite_file_or_a_later_format_is_refused(tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.sqlite3"
    FeedbackStore(feedback)
    with pytest.raises(ConversationError, match="SQLite file of something else"):
        ConversationStore(feedback)
    assert conversations_path(feedback) == tmp_path / "conversations.sqlite3"
    later = tmp_path / "later.sqlite3"
    ConversationStore(later)
    with sqlite3.connect(later) as db:
        db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    with pytest.raises(ConversationError, match=f"in format {SCHEMA_VERSION + 1}, this Legatus"):
        ConversationStore(later)


def test_an_unwritable_place_gives_a_message(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ConversationError, match="cannot make the folder of .* check that"):
        ConversationStore(blocker / "conversations.sqlite3")
    folder = tmp_path / "a-folder.sqlite3"
    folder.mkdir()
    with pytest.raises(ConversationError, match="cannot open .* may write a-folder.sqlite3"):
        ConversationStore(folder)


def test_short_titles() -> None:
    assert short_title("Wat?") == "Wat?"
    assert short_title("a" * 100, 10) == "aaaaaaaaa…"
    assert short_title("") == ""


# --- a real answer -------------------------------------------------------------------------------


@pytest.mark.slow
def test_real_answers_read_back_identical(assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = ConversationStore(tmp_path / "c.sqlite3")
    conv = store.create(ALICE)
    hcss = SearchFilters(publishers=("HCSS",))
    asked = [
        ("Welke onderzoeksmethoden gebruikt de Strategische Monitor 2022?", None),
        ("Wat is de hoofdstad van Peru?", None),
        ("Wat zegt het rapport over strategische autonomie?", hcss),
    ]
    turns = [turn(q, answer=assistant.ask(q, filters=f), filters=f) for q, f in asked]
    assert not turns[0].answer.refused and turns[0].answer.citations  # type: ignore[union-attr]
    assert turns[1].answer.refused  # type: ignore[union-attr]
    for t in turns:
        assert answer_from_json(json.loads(json.dumps(answer_to_json(t.answer)))) == t.answer  # type: ignore[arg-type]
        assert store.append(ALICE, conv, t)
    loaded = ConversationStore(store.path).load(ALICE, conv)
    assert loaded is not None and loaded.turns == tuple(turns)
