"""Reading a question set: one JSON object per line, validated into :class:`EvalCase`.

Example:
    >>> from eval.question_sets import DEV_QUESTIONS, load_questions
    >>> cases = load_questions(DEV_QUESTIONS)  # doctest: +SKIP
    >>> cases[0].id  # doctest: +SKIP
    'D001'
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from eval.types import EvalCase

QUESTIONS_DIR = Path(__file__).resolve().parent / "questions"
"""The committed question sets."""
DEV_QUESTIONS = QUESTIONS_DIR / "dev.jsonl"
DEV_SETS = tuple(QUESTIONS_DIR / f"{name}.jsonl" for name in ("dev", "wide", "holdout", "topic"))
"""The development sets the evaluation runs, in report order."""


class QuestionSetError(ValueError):
    """A question set is unreadable or invalid; the message names file, line and field."""


def load_questions(path: str | Path) -> list[EvalCase]:
    """Read and validate a JSON Lines question set.

    Blank lines are skipped. Every other line must be a JSON object that validates as an
    :class:`EvalCase`; ids must be unique and the file must hold at least one question.

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The questions in file order.

    Raises:
        QuestionSetError: The file is missing, empty, or a line is malformed; the message reads
            ``<file>:<line>: field '<name>': <problem>``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"{path}: cannot read question set: {exc}") from exc
    cases: list[EvalCase] = []
    first_line: dict[str, int] = {}
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        case = _parse_line(path, lineno, line)
        if case.id in first_line:
            raise QuestionSetError(
                f"{path}:{lineno}: field 'id': duplicate id {case.id!r} "
                f"(first used on line {first_line[case.id]}); ids must be unique"
            )
        first_line[case.id] = lineno
        cases.append(case)
    if not cases:
        raise QuestionSetError(f"{path}: question set is empty; add one JSON object per line")
    return cases


def _parse_line(path: Path, lineno: int, line: str) -> EvalCase:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionSetError(
            f"{path}:{lineno}: field '(line)': not valid JSON ({exc.msg} at column {exc.colno})"
        ) from exc
    if not isinstance(data, dict):
        raise QuestionSetError(
            f"{path}:{lineno}: field '(line)': expected a JSON object, got {type(data).__name__}"
        )
    try:
        return EvalCase.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "(line)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise QuestionSetError(f"{path}:{lineno}: field '{field}': {err['msg']}{more}") from exc


def check_against_reports(cases: list[EvalCase], reports: dict[str, str]) -> list[str]:
    """Problems of a question set against the report texts it is about (report id → text):
    an evidence quote that is not verbatim in its report (``doc``; any report for "both"),
    a key fact found in neither the evidence nor the reference answer, an unknown report.
    Matching ignores case, accents, quote and dash styles, whitespace and line-break hyphens
    (:func:`eval.metrics.contains_text`). Empty when the set is sound.

    Example:
        >>> case = EvalCase(id="Q", question="Wie?", lang="nl", type="factoid", doc="r",
        ...                 evidence=["Jan deed het."], key_facts=["Piet"])
        >>> check_against_reports([case], {"r": "Toen Jan deed het. Klaar."})
        ["Q: key fact 'Piet' is in neither the evidence nor the answer"]
    """
    from eval.metrics import contains_text

    problems: list[str] = []
    for case in cases:
        if case.doc in ("both", "none"):
            texts = list(reports.values())
        elif case.doc in reports:
            texts = [reports[case.doc]]
        else:
            problems.append(f"{case.id}: doc {case.doc!r} is not a bundled report")
            continue
        for quote in case.evidence:
            if not any(contains_text(quote, t) for t in texts):
                problems.append(f"{case.id}: evidence not verbatim in {case.doc}: {quote[:60]!r}")
        for fact in case.key_facts:
            if not any(contains_text(fact, x) for x in [*case.evidence, case.answer]):
                problems.append(f"{case.id}: key fact {fact!r} is in neither the evidence nor "
                                "the answer")  # fmt: skip
    return problems
