"""Answering a question set with a system and writing one JSON line per question."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from tqdm import tqdm

from assistant.types import Answer, AssistantError
from eval.types import EvalCase, EvalRow

Ask = Callable[[str], Answer]


def answer_row(case: EvalCase, ask: Ask) -> EvalRow:
    """One question answered, in the ``legatus ask --json`` shape plus ``id``.

    A question the assistant rejects (e.g. an empty one) is recorded as a refusal with the
    reason, so one bad line cannot stop a run or silently improve its scores.
    """
    try:
        data = ask(case.question).to_json()
    except AssistantError as exc:
        data = Answer(question=case.question, answer=str(exc), refused=True).to_json()
        data["error"] = str(exc)
    return EvalRow.model_validate({**data, "id": case.id})


def run_questions(
    cases: Sequence[EvalCase], ask: Ask, output: Path | None = None, *, desc: str = "answering"
) -> list[EvalRow]:
    """Answer every case, with a progress bar; write JSON Lines to ``output`` as it goes."""
    rows: list[EvalRow] = []
    handle = output.open("w", encoding="utf-8") if output else None
    try:
        for case in tqdm(cases, desc=desc, unit="question"):
            row = answer_row(case, ask)
            rows.append(row)
            if handle:
                handle.write(json.dumps(row.model_dump(mode="json"), ensure_ascii=False) + "\n")
                handle.flush()
    finally:
        if handle:
            handle.close()
    return rows


def read_rows(path: Path) -> list[EvalRow]:
    """The rows of a run file written by ``run_questions`` (or by ``legatus eval``)."""
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append(EvalRow.model_validate_json(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a run row: {exc}") from exc
    return rows
