"""``legatus eval``: answer a question set, report on runs, and gate on a committed baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, get_args

import typer

from assistant.settings import AnswererName
from eval.question_sets import DEV_SETS as DEV_SET_PATHS
from ui.cli_common import fail, load_settings
from ui.cli_help import Command, Group
from ui.settings import Settings

if TYPE_CHECKING:
    from assistant.settings import AssistantSettings
    from eval.types import EvalCase

SystemName = Literal["legatus", "dense", "bm25", "langchain"]
SYSTEM_NAMES = get_args(SystemName)
"""``eval.systems.SYSTEMS``, named here so that the help does not import the baselines (a test
keeps the two equal)."""

DEV_SETS = list(DEV_SET_PATHS)
"""The development question sets, evaluated and gated together (each reported on its own)."""
BASELINE = Path(__file__).resolve().parents[1] / "eval" / "baseline.json"

eval_app = typer.Typer(
    cls=Group,
    help="Evaluate answers on a question set (default: the bundled dev set).",
    invoke_without_command=True,
    no_args_is_help=False,
)

QuestionsOpt = Annotated[
    list[Path],
    typer.Option("--questions", help="Question set (JSON Lines); repeat to join several."),
]


def _questions(paths: list[Path]) -> tuple[list[EvalCase], dict[str, str]]:
    """The questions of all sets, and the set (file stem) each question comes from."""
    from eval.question_sets import QuestionSetError, load_questions

    cases: list[EvalCase] = []
    sets: dict[str, str] = {}
    try:
        for path in paths:
            for case in load_questions(path):
                if case.id in sets:
                    raise QuestionSetError(
                        f"{path}: id {case.id!r} is also used in {sets[case.id]}; ids must be "
                        "unique across the sets evaluated together"
                    )
                sets[case.id] = path.stem
                cases.append(case)
    except QuestionSetError as exc:
        fail(str(exc), exc)
    return cases, sets


@eval_app.callback()
def run_command(
    ctx: typer.Context,
    questions: QuestionsOpt = DEV_SETS,
    output: Annotated[Path, typer.Option("--output", help="Run file to write.")] = Path(
        "eval-run.jsonl"
    ),
    system: Annotated[
        SystemName,
        typer.Option("--system", help="Legatus, or a baseline retriever under the same answer."),
    ] = "legatus",
    answerer: Annotated[
        AnswererName | None,
        typer.Option("--answerer", help="Offline from the passages, or the configured LLM."),
    ] = None,
    start_llm: Annotated[
        bool, typer.Option("--start-llm", help="Run the packaged local LLM server for this run.")
    ] = False,
) -> None:
    """Answer every question of a set and write one JSON line per question.

    Each line is the `legatus ask --json` object plus "id".
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = load_settings()
    cases, _ = _questions(questions)
    cfg = settings.assistant
    if answerer:
        cfg = cfg.model_copy(update={"answerer": answerer})
    if start_llm:
        from assistant.llm_server import LLMServerError, free_port, running_server

        try:
            with running_server(port=free_port()) as server:
                llm = cfg.llm.model_copy(update={"base_url": server.base_url})
                _run(cases, output, system, cfg.model_copy(update={"llm": llm}), settings)
        except LLMServerError as exc:
            fail(str(exc), exc)
        return
    _run(cases, output, system, cfg, settings)


def _run(
    cases: list[EvalCase], output: Path, system: str, cfg: AssistantSettings, settings: Settings
) -> None:
    from eval.report import summarise
    from eval.run import run_questions
    from eval.systems import build_system
    from index.embedding import get_embedder
    from index.search import open_index
    from index.types import SearchIndexError

    try:
        embedder = get_embedder(settings.embedding)
        index = open_index(settings.index, settings.embedding, embedder=embedder)
        assistant = build_system(system, index, embedder, cfg, settings.reports)
    except (SearchIndexError, ValueError) as exc:
        fail(str(exc), exc)
    rows = run_questions(cases, assistant.ask, output, desc=system)
    report = summarise(cases, rows, system)
    typer.echo(f"{len(rows)} questions → {output}")
    for metric in (
        "recall_all@5",
        "answer_support",
        "key_fact_recall",
        "refusal_accuracy",
        "false_refusal_rate",
        "latency_p50_ms",
    ):
        typer.echo(f"  {metric}: {report.metrics.get(metric)}")


@eval_app.command("retrieval", cls=Command)
def retrieval_command(
    questions: QuestionsOpt = DEV_SETS,
    k: Annotated[int, typer.Option("--k", min=1, max=50, help="Passages looked at.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Retrieval alone: for each search mode, the share of answerable questions whose evidence
    is all in the top k passages, overall and per question language."""
    from eval.retrieval_eval import evaluate_retrieval, format_report
    from index.embedding import EmbeddingError
    from index.search import open_index
    from index.types import SearchIndexError

    settings = load_settings()
    cases, _ = _questions(questions)
    try:
        index = open_index(settings.index, settings.embedding)
        report = evaluate_retrieval(index, cases, k=k)
    except (SearchIndexError, EmbeddingError) as exc:
        fail(str(exc), exc)
    typer.echo(report.model_dump_json(indent=2) if as_json else format_report(report))


@eval_app.command("report", cls=Command)
def report_command(
    runs: Annotated[list[Path], typer.Argument(help="Run files; the system name is the stem.")],
    questions: QuestionsOpt = DEV_SETS,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md/.json.")] = Path(
        "eval-report"
    ),
) -> None:
    """Write a Markdown + JSON report with plots comparing the runs side by side."""
    from eval.report import summarise, write_report
    from eval.run import read_rows
    from eval.types import EvalError

    cases, sets = _questions(questions)
    try:
        reports = [summarise(cases, read_rows(run), run.stem, sets=sets) for run in runs]
        path = write_report(reports, out)
    except (EvalError, ValueError, OSError) as exc:
        fail(str(exc), exc)
    typer.echo(f"report: {path}")


@eval_app.command("gate", cls=Command)
def gate_command(
    run: Annotated[Path, typer.Argument(help="Run file of the system under test.")],
    questions: QuestionsOpt = DEV_SETS,
    baseline: Annotated[Path, typer.Option("--baseline", help="Committed baseline.")] = BASELINE,
    update: Annotated[bool, typer.Option("--update", help="Write the baseline instead.")] = False,
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Also fail when a gated metric differs from this run's by more than "
            "--tolerance, either way (the same system on another index backend).",
        ),
    ] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0, help="For --against.")] = 0.03,
) -> None:
    """Fail (exit 1) when a gated metric fell below the baseline by more than its tolerance."""
    from eval.gate import compare, compare_runs, write_baseline
    from eval.report import summarise
    from eval.run import read_rows
    from eval.types import EvalError

    cases, sets = _questions(questions)
    try:
        report = summarise(cases, read_rows(run), run.stem, sets=sets)
        if update:
            typer.echo(f"baseline written: {write_baseline(report, baseline)}")
            return
        regressions = compare(report, baseline)
        if against is not None:
            other = summarise(cases, read_rows(against), against.stem, sets=sets)
            regressions += compare_runs(report, other, tolerance)
    except (EvalError, ValueError, OSError) as exc:
        fail(str(exc), exc)
    if regressions:
        typer.echo("evaluation gate FAILED:", err=True)
        for line in regressions:
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(1)
    typer.echo("evaluation gate passed")
