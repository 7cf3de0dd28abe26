"""Saved conversations, per owner, in SQLite beside the feedback database.

Each turn (the question, its answer or the message why there is none, its filters) is stored as
JSON (:mod:`ui.turn_json`) once it is done, so a page reload loses nothing, and the page lists an
owner's earlier conversations. An owner is a string key (:func:`ui.owners.owner_key`); no call
reads or changes a conversation of another owner.

WAL mode, a busy timeout, one connection per call and each write one ``BEGIN IMMEDIATE``
transaction: the page's worker threads and other processes share the file (on a local disk; WAL
does not work on a network share).

Example:
    >>> store = ConversationStore(Path("var/conversations.sqlite3"))  # doctest: +SKIP
    >>> conv = store.create("user:alice")  # doctest: +SKIP
    >>> store.append("user:alice", conv, StoredTurn("Wat?", answer=answer))  # doctest: +SKIP
    True
    >>> [c.title for c in store.list("user:alice")]  # doctest: +SKIP
    ['Wat?']
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ui.turn_json import StoredTurn, now, turn_from_json, turn_to_json
from ui.turn_json import answer_from_json as answer_from_json  # for the page, with the store

log = logging.getLogger("legatus.conversations")

SCHEMA_VERSION = 1
"""Version of the tables below; a file written with a later version is refused, not changed."""

_TABLES = (
    "CREATE TABLE schema_version (name TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    "CREATE TABLE conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL,"
    " title TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, updated_at TEXT NOT NULL)",
    "CREATE INDEX conversations_by_owner ON conversations (owner, updated_at)",
    "CREATE TABLE turns (conversation_id TEXT NOT NULL"
    " REFERENCES conversations (id) ON DELETE CASCADE, seq INTEGER NOT NULL,"
    " question TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (conversation_id, seq))",
)
_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_OWNER_CHARS = 300
MAX_TITLE_CHARS = 120


class ConversationError(Exception):
    """The conversations file cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Conversation:
    """A saved conversation with its turns, oldest first."""

    id: str
    title: str
    created_at: str
    updated_at: str
    turns: tuple[StoredTurn, ...]


@dataclass(frozen=True)
class ConversationSummary:
    """One line of an owner's list: ``title`` is the first question, shortened ('' when none)."""

    id: str
    title: str
    created_at: str
    updated_at: str
    turn_count: int


def short_title(question: str, limit: int = 60) -> str:
    """A question as a conversation's title: on one line, cut at a word within ``limit``.

    Example:
        >>> short_title("  Wat zegt   HCSS over\\ndrones?")
        'Wat zegt HCSS over drones?'
        >>> short_title("Welke onderzoeksmethoden gebruikt de Strategische Monitor 2022?", 40)
        'Welke onderzoeksmethoden gebruikt de…'
    """
    text = " ".join(question.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def conversations_path(feedback_db: Path) -> Path:
    """The conversations file beside the feedback database (UISettings.feedback_db).

    Example:
        >>> conversations_path(Path("var/feedback.sqlite3")).as_posix()
        'var/conversations.sqlite3'
    """
    path = feedback_db.with_name("conversations.sqlite3")
    return path if path != feedback_db else feedback_db.with_name("conversations-saved.sqlite3")


class ConversationStore:
    """Owners' conversations in one SQLite file (created with its folder on first use).

    Args:
        path: the SQLite file.
        max_turns: turns kept per conversation; beyond, the oldest are dropped.
        max_conversations: conversations kept per owner; beyond, the least recently used go.
        max_turn_bytes: largest stored turn (UTF-8 JSON); a larger answer is saved without its
            uncited passages, and refused if still too large.
        busy_timeout_s: how long a call waits for another writer before it gives up.

    Raises:
        ConversationError: the file cannot be created or written, is damaged, or is not a
            conversations database; the file is then left exactly as it was.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_turns: int = 100,
        max_conversations: int = 50,
        max_turn_bytes: int = 512_000,
        busy_timeout_s: float = 10.0,
    ) -> None:
        for name, value, least in (
            ("max_turns", max_turns, 1),
            ("max_conversations", max_conversations, 1),
            ("max_turn_bytes", max_turn_bytes, 10_000),
        ):
            if value < least:
                raise ValueError(f"{name} must be at least {least}, not {value}")
        self.path = path
        self.max_turns = max_turns
        self.max_conversations = max_conversations
        self.max_turn_bytes = max_turn_bytes
        self.busy_timeout_s = busy_timeout_s
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationError(_explain(path, "make the folder of", exc)) from exc
        self._prepare()

    # --- the file -----------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun explicitly, writes with BEGIN IMMEDIATE,
        # so that a writer waits for the lock instead of failing to upgrade a read transaction.
        db = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode a crash still never corrupts
        return db

    @contextmanager
    def _connection(self, doing: str) -> Iterator[sqlite3.Connection]:
        """A connection; SQLite's and the file system's errors become a ConversationError."""
        try:
            db = self._connect()
            try:
                yield db
            finally:
                db.close()
        except (sqlite3.Error, OSError) as exc:
            raise ConversationError(_explain(self.path, doing, exc)) from exc

    @contextmanager
    def _transaction(self, doing: str, write: bool = True) -> Iterator[sqlite3.Connection]:
        with self._connection(doing) as db:
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _prepare(self) -> None:
        with self._connection("open") as db:
            # Only read until the file is known to be sound: a damaged file is left as it was.
            check = [row[0] for row in db.execute("PRAGMA quick_check")]
            if check != ["ok"]:
                raise sqlite3.DatabaseError(f"database disk image is malformed: {check[:3]}")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode != "wal":
                log.warning("%s: journal mode is %s, not WAL (a network share?)", self.path, mode)
        with self._transaction("open") as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not tables:
                for statement in _TABLES:
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version VALUES ('conversations', ?)", (SCHEMA_VERSION,)
                )
                return
            query = "SELECT version FROM schema_version WHERE name = 'conversations'"
            found = db.execute(query).fetchone() if "schema_version" in tables else None
        if found is None:
            raise ConversationError(
                f"{self.path} is an SQLite file of something else, not saved conversations; "
                "leave it as it is and give the conversations a file of their own"
            )
        if found[0] != SCHEMA_VERSION:
            raise ConversationError(
                f"{self.path} holds conversations in format {found[0]}, this Legatus reads format "
                f"{SCHEMA_VERSION}: run the Legatus that wrote it, or move the file aside to start "
                "with an empty list"
            )

    # --- the calls ----------------------------------------------------------------------------

    def create(self, owner: str) -> str:
        """A new, empty conversation of ``owner``; returns its id. Drops the owner's least recently
        used conversation when they already have ``max_conversations``."""
        owner, conv_id, at = _owner(owner), uuid.uuid4().hex, now()
        with self._transaction("create a conversation in") as db:
            db.execute(
                "INSERT INTO conversations (id, owner, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (conv_id, owner, at, at),
            )
            db.execute(
                "DELETE FROM conversations WHERE owner = ? AND id NOT IN (SELECT id FROM"
                " conversations WHERE owner = ? ORDER BY updated_at DESC, rowid DESC LIMIT ?)",
                (owner, owner, self.max_conversations),
            )
        return conv_id

    def append(self, owner: str, conv_id: str, turn: StoredTurn) -> bool:
        """Add ``turn`` at the end (dropping the oldest beyond ``max_turns``); False when ``owner``
        has no conversation ``conv_id`` (deleted meanwhile, or another's).

        Raises:
            ConversationError: the turn is too large to store, or the file cannot be written.
        """
        return self._put(_owner(owner), conv_id, turn, last=False)

    def replace_last(self, owner: str, conv_id: str, turn: StoredTurn) -> bool:
        """Put ``turn`` in place of the last one (a regenerated answer); False when ``owner`` has no
        conversation ``conv_id`` or it has no turn yet."""
        return self._put(_owner(owner), conv_id, turn, last=True)

    def _put(self, owner: str, conv_id: str, turn: StoredTurn, last: bool) -> bool:
        data = self._turn_json(turn)
        if not _ID.match(conv_id):
            return False
        with self._transaction("save the answer in") as db:
            found = db.execute(
                "SELECT c.title, MAX(t.seq) FROM conversations c LEFT JOIN turns t ON"
                " t.conversation_id = c.id WHERE c.id = ? AND c.owner = ? GROUP BY c.id",
                (conv_id, owner),
            ).fetchone()
            if found is None or (last and found[1] is None):
                return False
            title, top = found
            seq = top if last else (top or 0) + 1
            db.execute(
                "INSERT OR REPLACE INTO turns (conversation_id, seq, question, data)"
                " VALUES (?, ?, ?, ?)",
                (conv_id, seq, turn.question, data),
            )
            db.execute(
                "DELETE FROM turns WHERE conversation_id = ? AND seq <= ?",
                (conv_id, seq - self.max_turns),
            )
            db.execute(
                "UPDATE conversations SET updated_at = ?, title = ? WHERE id = ?",
                (now(), title or short_title(turn.question), conv_id),
            )
        return True

    def _turn_json(self, turn: StoredTurn) -> str:
        """The turn as JSON within ``max_turn_bytes``: without the passages its answer does not
        cite if need be (the page only lists those), else refused."""
        text = json.dumps(turn_to_json(turn), ensure_ascii=False)
        if len(text.encode()) > self.max_turn_bytes and turn.answer is not None:
            cited = {c.passage.chunk_id for c in turn.answer.citations}
            kept = tuple(p for p in turn.answer.retrieved if p.chunk_id in cited)
            smaller = replace(turn, answer=replace(turn.answer, retrieved=kept))
            text = json.dumps(turn_to_json(smaller), ensure_ascii=False)
        size = len(text.encode())
        if size > self.max_turn_bytes:
            raise ConversationError(
                f"this answer takes {size:,} bytes, more than the {self.max_turn_bytes:,} a saved "
                "answer may take: it is shown, but will not be there after a reload"
            )
        return text

    def load(self, owner: str, conv_id: str) -> Conversation | None:
        """Conversation ``conv_id`` of ``owner`` with its turns in order; None when they have none
        of that id. A turn that does not read back comes as a turn with an ``error``."""
        owner = _owner(owner)
        if not _ID.match(conv_id):
            return None
        with self._transaction("read a conversation from", write=False) as db:
            head = db.execute(
                "SELECT title, created_at, updated_at FROM conversations"
                " WHERE id = ? AND owner = ?",
                (conv_id, owner),
            ).fetchone()
            rows = db.execute(
                "SELECT seq, question, data FROM turns WHERE conversation_id = ? ORDER BY seq",
                (conv_id,),
            ).fetchall()
        if head is None:
            return None
        turns = tuple(_turn(conv_id, *row) for row in rows)
        return Conversation(conv_id, head[0], head[1], head[2], turns)

    def delete(self, owner: str, conv_id: str) -> bool:
        """Delete conversation ``conv_id`` of ``owner`` with its turns; False when there is none."""
        owner = _owner(owner)
        with self._transaction("delete a conversation from") as db:
            query = "DELETE FROM conversations WHERE id = ? AND owner = ?"
            return db.execute(query, (conv_id, owner)).rowcount > 0

    def rename(self, owner: str, conv_id: str, title: str) -> bool:
        """Title conversation ``conv_id`` of ``owner`` (one line, at most ``MAX_TITLE_CHARS``);
        False when there is none.

        Raises:
            ConversationError: the title is blank.
        """
        owner, clean = _owner(owner), short_title(title, MAX_TITLE_CHARS)
        if not clean:
            raise ConversationError("a conversation's title cannot be empty; type a few words")
        with self._transaction("rename a conversation in") as db:
            query = "UPDATE conversations SET title = ? WHERE id = ? AND owner = ?"
            return db.execute(query, (clean, conv_id, owner)).rowcount > 0

    def list(self, owner: str, limit: int = 50) -> builtins.list[ConversationSummary]:
        """The owner's conversations, most recently used first (at most ``limit``)."""
        owner = _owner(owner)
        with self._transaction("list the conversations in", write=False) as db:
            rows = db.execute(
                "SELECT c.id, c.title, c.created_at, c.updated_at, (SELECT COUNT(*) FROM turns t"
                " WHERE t.conversation_id = c.id) FROM conversations c WHERE c.owner = ?"
                " ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?",
                (owner, max(1, min(limit, self.max_conversations))),
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]


def _owner(owner: str) -> str:
    if not isinstance(owner, str) or not owner.strip() or len(owner) > MAX_OWNER_CHARS:
        raise ConversationError(
            f"a conversation's owner must be a key of 1 to {MAX_OWNER_CHARS} characters "
            "(see ui.owners.owner_key)"
        )
    return owner


def _turn(conv_id: str, seq: int, question: str, text: str) -> StoredTurn:
    """A stored row as a turn; one that does not read back shows as a turn with an error."""
    try:
        return turn_from_json(json.loads(text))
    except ValueError as exc:  # json.JSONDecodeError is one too
        log.warning("conversation %s, turn %s does not read back: %s", conv_id, seq, exc)
        return StoredTurn(
            question, error="This answer was saved in a form that can no longer be read; ask again."
        )


def _explain(path: Path, doing: str, exc: BaseException) -> str:
    """What went wrong with the file, and what to do about it."""
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        hint = (
            "the file is damaged. Stop the page, move the file aside (keep it: `sqlite3 FILE "
            '".recover"` can often save its conversations) and start the page again for a new one'
        )
    elif "locked" in text or "busy" in text:
        hint = "another process held the file too long; try again in a moment"
    elif "full" in text:
        hint = "the disk is full; free some space and try again"
    else:
        hint = (
            f"check that {path.parent} exists and that the page's user may write {path.name} "
            "and its -wal and -shm files there"
        )
    return f"cannot {doing} {path}: {text}; {hint}"
