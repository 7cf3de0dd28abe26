"""A conversation's turns as JSON and back, so that a saved conversation survives a page reload.

:func:`answer_to_json` writes :meth:`Answer.to_json`'s documented shape, every field at its exact
value, plus the fields that shape leaves out (a passage's language, heading path, file name...):
:func:`answer_from_json` rebuilds the very same Answer, its sentences, citations, passages and
verification, and a field added to those types later is carried without a change here. It also
reads a plain ``to_json()`` dict (``legatus ask --json``). Keys it does not know are ignored, so
rows written by a later version still load. JSON only: nothing stored is ever run (no pickle).

Example:
    >>> a = Answer(question="Wat?", answer="De rapporten zeggen dit niet.", refused=True)
    >>> answer_from_json(answer_to_json(a)) == a
    True
    >>> t = StoredTurn("Wat?", answer=a, filters=SearchFilters(publishers=("hcss",)))
    >>> turn_from_json(turn_to_json(t)) == t
    True
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from assistant.types import Answer
from index.types import SearchFilters

_ANSWER = TypeAdapter(Answer)  # the dataclasses' own fields, types and defaults
_FILTERS = TypeAdapter(SearchFilters)


def now() -> str:
    """The time now, ISO 8601 in UTC to the microsecond (so that stored times sort)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class StoredTurn:
    """One question of a conversation and what came of it: an answer, or ``error`` saying why not.

    Example:
        >>> StoredTurn("Wat?", error="The index is being rebuilt.").answer is None
        True
    """

    question: str
    answer: Answer | None = None
    error: str = ""
    filters: SearchFilters | None = None  # None: asked without filters
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: str = field(default_factory=now)  # when it was answered, ISO 8601


def turn_to_json(turn: StoredTurn) -> dict[str, Any]:
    """The turn as a JSON object (its answer as :func:`answer_to_json` writes it)."""
    return {
        "id": turn.id,
        "created_at": turn.created_at,
        "question": turn.question,
        "answer": answer_to_json(turn.answer) if turn.answer is not None else None,
        "error": turn.error,
        "filters": filters_to_json(turn.filters),
    }


def turn_from_json(data: object) -> StoredTurn:
    """The inverse of :func:`turn_to_json`.

    Raises:
        ValueError: ``data`` is not a saved turn.
    """
    found = _mapping(data, "turn")
    text = {key: found.get(key, "") for key in ("question", "error", "id", "created_at")}
    if not all(isinstance(value, str) for value in text.values()) or "question" not in found:
        raise ValueError(
            "a saved turn needs its question, and text in question, error, id, created_at"
        )
    answer = found.get("answer")
    return StoredTurn(
        question=text["question"],
        answer=answer_from_json(answer) if answer is not None else None,
        error=text["error"],
        filters=filters_from_json(found.get("filters")),
        id=text["id"] or uuid.uuid4().hex,
        created_at=text["created_at"],
    )


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """``answer.to_json()`` with exact values and every field of the answer and its parts.

    Two keys keep ``to_json``'s meaning, which fills in an empty field: ``standalone_question``
    (the question when there is none) and a passage's ``parts`` (its own id when it stands for
    itself); ``standalone_given`` and ``parts_given`` say whether the field was empty.
    """
    full = _ANSWER.dump_python(answer, mode="json")
    data = answer.to_json()
    cited, retrieved = data["citations"], data["retrieved"]
    data.update({k: v for k, v in full.items() if k != "standalone_question"})
    data["standalone_given"] = bool(answer.standalone_question)
    data["citations"] = [
        {**row, **_passage_json(c["passage"])}
        for row, c in zip(cited, full["citations"], strict=True)
    ]
    data["retrieved"] = [
        {**row, **_passage_json(p)} for row, p in zip(retrieved, full["retrieved"], strict=True)
    ]
    return data


def _passage_json(fields: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in fields.items() if k != "parts"}
    out["parts_given"] = bool(fields["parts"])
    return out


def answer_from_json(data: Mapping[str, Any]) -> Answer:
    """The Answer that :func:`answer_to_json` (or ``Answer.to_json``) wrote as ``data``.

    Raises:
        ValueError: ``data`` is not an answer: not an object, a field missing (question, answer,
            refused; a citation's n and chunk_id) or of the wrong type.
    """
    try:
        return _ANSWER.validate_python(_answer_fields(_mapping(data, "answer")))
    except ValidationError as exc:
        raise ValueError(f"a saved answer does not read back: {_first(exc)}") from None


def _answer_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the Answer's own field names and nesting."""
    out = dict(data)
    if not data.get("standalone_given", True):
        out["standalone_question"] = ""
    out["citations"] = [
        {"n": row.get("n"), "quotes": row.get("quotes", []), "passage": _passage_fields(row)}
        for row in _rows(data, "citations")
    ]
    out["retrieved"] = [_passage_fields(row) for row in _rows(data, "retrieved")]
    return out


def _passage_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    # to_json calls doc_id "report" and leaves out a citation's rank and score
    out = {"doc_id": row.get("report", ""), "rank": 0, "score": 0.0, **row}
    if not row.get("parts_given", True):
        out["parts"] = []
    return out


def filters_to_json(filters: SearchFilters | None) -> dict[str, Any] | None:
    """The filters a question was asked with (None: asked without any).

    Example:
        >>> filters_to_json(SearchFilters(publishers=("hcss",)))["publishers"]
        ['hcss']
    """
    return None if filters is None else _FILTERS.dump_python(filters, mode="json")


def filters_from_json(data: object) -> SearchFilters | None:
    """The inverse of :func:`filters_to_json`.

    Example:
        >>> filters_from_json({"doc_ids": ["a"], "date_to": "2022"})
        SearchFilters(doc_ids=('a',), publishers=(), date_from=None, date_to='2022')
    """
    if data is None:
        return None
    try:
        return _FILTERS.validate_python(_mapping(data, "filters"))
    except ValidationError as exc:
        raise ValueError(f"saved filters do not read back: {_first(exc)}") from None


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"a saved {what} must be a JSON object, not {type(value).__name__}")
    return value


def _rows(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    rows = data.get(key) or []
    if not isinstance(rows, list | tuple) or not all(isinstance(r, Mapping) for r in rows):
        raise ValueError(f"a saved answer's {key!r} must be a list of JSON objects")
    return list(rows)


def _first(exc: ValidationError) -> str:
    """The first problem pydantic found, in one line: ``citations.0.passage.chunk_id: ...``."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" + (
        f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    )
