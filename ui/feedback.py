"""Readers' 👍/👎 on answers, kept in SQLite and exported as question-set lines for evaluation.

One row per answer: rating again and the row is updated, not duplicated. The file is opened in
WAL mode, so the web page's threads can write while ``legatus feedback export`` reads.

Example:
    >>> store = FeedbackStore(Path("var/feedback.sqlite3"))  # doctest: +SKIP
    >>> store.record("a1b2", answer, "up", comment="precies wat ik zocht")  # doctest: +SKIP
    >>> [case.type for case in store.export_lines()]  # doctest: +SKIP
    ['feedback']
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.types import Answer
from eval.types import EvalCase
from index.types import SearchFilters

Rating = Literal["up", "down"]
RatingChoice = Literal["up", "down", "all"]
"""Which ratings to export: one kind, or all."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    answer_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    standalone_question TEXT NOT NULL,
    language TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    answerer TEXT NOT NULL,
    citations TEXT NOT NULL,
    filters TEXT NOT NULL,
    reports TEXT NOT NULL DEFAULT '[]'
)
"""

_ADD_REPORTS = "ALTER TABLE feedback ADD COLUMN reports TEXT NOT NULL DEFAULT '[]'"
"""For a database made before ratings recorded the reports their answer drew on."""

_LANG = re.compile(r"^[a-z]{2}$")


class FeedbackError(Exception):
    """The feedback file cannot be opened or written; the message says which and why."""


@dataclass(frozen=True)
class FeedbackRow:
    """One stored rating with the answer it rates (``citations`` as ``Answer.to_json`` has them)."""

    id: int
    answer_id: str
    created_at: str
    updated_at: str
    rating: Rating
    comment: str
    question: str
    standalone_question: str
    language: str
    answer: str
    refused: bool
    answerer: str
    citations: list[dict[str, Any]]
    filters: dict[str, Any]
    reports: list[str] = field(default_factory=list)  # every report the answer drew on

    @property
    def drawn_on(self) -> set[str]:
        """The reports the answer drew on: cited, retrieved, or named by a refusal (older rows
        recorded only their citations)."""
        return set(self.reports) | {c["report"] for c in self.citations if c.get("report")}


class FeedbackStore:
    """Ratings of answers in one SQLite file (created with its folder on first use).

    Raises:
        FeedbackError: the file cannot be created or is not a feedback database.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(SCHEMA)
                columns = {r[1] for r in db.execute("PRAGMA table_info(feedback)")}
                if "reports" not in columns:
                    db.execute(_ADD_REPORTS)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"cannot open the feedback database {path}: {exc}") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on an exception
                yield db
        finally:
            db.close()

    def record(
        self,
        answer_id: str,
        answer: Answer,
        rating: Rating,
        comment: str = "",
        filters: SearchFilters | None = None,
    ) -> int:
        """Store (or replace) the rating of one answer; returns the row id."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        data = answer.to_json()
        row = {
            "answer_id": answer_id, "now": now, "rating": 1 if rating == "up" else -1,
            "comment": comment.strip(), "question": answer.question,
            "standalone": data["standalone_question"], "language": answer.language,
            "answer": answer.answer, "refused": int(answer.refused), "answerer": answer.answerer,
            "citations": json.dumps(data["citations"], ensure_ascii=False),
            "filters": json.dumps(_filters_json(filters), ensure_ascii=False),
            "reports": json.dumps(sorted(answer.drawn_on)),
        }  # fmt: skip
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO feedback (answer_id, created_at, updated_at, rating, comment,"
                    " question, standalone_question, language, answer, refused, answerer,"
                    " citations, filters, reports) VALUES (:answer_id, :now, :now, :rating,"
                    " :comment, :question, :standalone, :language, :answer, :refused, :answerer,"
                    " :citations, :filters, :reports) ON CONFLICT(answer_id) DO UPDATE SET"
                    " updated_at = excluded.updated_at, rating = excluded.rating,"
                    " comment = excluded.comment",
                    row,
                )
                found = db.execute(
                    "SELECT id FROM feedback WHERE answer_id = ?", (answer_id,)
                ).fetchone()
        except sqlite3.Error as exc:
            raise FeedbackError(f"cannot store feedback in {self.path}: {exc}") from exc
        return int(found[0])

    def rows(self) -> list[FeedbackRow]:
        """All ratings, oldest first."""
        try:
            with self._connect() as db:
                db.row_factory = sqlite3.Row
                found = db.execute("SELECT * FROM feedback ORDER BY id").fetchall()
        except sqlite3.Error as exc:
            raise FeedbackError(f"cannot read feedback from {self.path}: {exc}") from exc
        return [_row(r) for r in found]

    def export_lines(
        self, rating: RatingChoice = "up", readable: Callable[[str], bool] | None = None
    ) -> list[EvalCase]:
        """The ratings as question-set lines (see :func:`question_line`), oldest first; with
        ``readable`` (report id → may it be shown), only those whose answer drew on readable
        reports alone."""
        return [
            question_line(r)
            for r in self.rows()
            if rating in ("all", r.rating)
            and (readable is None or all(readable(d) for d in r.drawn_on))
        ]


def question_line(row: FeedbackRow) -> EvalCase:
    """A rated answer as one line of a question set.

    ``evidence`` is what the answer's citations quote; ``doc`` is the one report cited, ``both``
    when several are, ``none`` for an answer that said the reports do not cover the question.
    A 👎 line keeps what the assistant cited, which the reader judged wrong: review it before
    adding it to a question set.
    """
    reports = list(dict.fromkeys(c.get("report", "") for c in row.citations if c.get("report")))
    evidence = list(
        dict.fromkeys(
            " ".join(q.split())
            for c in row.citations
            for q in (c.get("quotes") or [c.get("text", "")])
            if q.strip()
        )
    )
    if row.refused or not reports:
        doc, evidence = "none", []
    else:
        doc = reports[0] if len(reports) == 1 else "both"
    return EvalCase(
        id=f"FB{row.id:04d}" + ("" if row.rating == "up" else "-down"),
        question=row.standalone_question or row.question,
        lang=row.language if _LANG.match(row.language) else "mixed",
        type="feedback",
        doc=doc,
        answer=row.answer,
        evidence=evidence,
    )


def export_jsonl(
    store: FeedbackStore,
    path: Path,
    rating: RatingChoice = "up",
    readable: Callable[[str], bool] | None = None,
) -> int:
    """Write the ratings as a JSON Lines question set (see :meth:`FeedbackStore.export_lines`);
    returns how many lines were written."""
    lines = store.export_lines(rating, readable)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(json.dumps(case.model_dump(), ensure_ascii=False) + "\n" for case in lines),
        encoding="utf-8",
    )
    return len(lines)


def _filters_json(filters: SearchFilters | None) -> dict[str, Any]:
    if filters is None or not filters.active:
        return {}
    return {
        "doc_ids": list(filters.doc_ids),
        "publishers": list(filters.publishers),
        "date_from": filters.date_from,
        "date_to": filters.date_to,
    }


def _row(r: sqlite3.Row) -> FeedbackRow:
    return FeedbackRow(
        id=r["id"],
        answer_id=r["answer_id"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        rating="up" if r["rating"] > 0 else "down",
        comment=r["comment"],
        question=r["question"],
        standalone_question=r["standalone_question"],
        language=r["language"],
        answer=r["answer"],
        refused=bool(r["refused"]),
        answerer=r["answerer"],
        citations=json.loads(r["citations"]),
        filters=json.loads(r["filters"]),
        reports=json.loads(r["reports"]),
    )
