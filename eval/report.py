"""Summarising answered questions into an :class:`EvalReport`, and writing reports to disk.

Example:
    >>> from eval.report import summarise, write_report
    >>> report = summarise(cases, rows, system="hybrid")  # doctest: +SKIP
    >>> write_report([report], Path("runs/eval"))  # doctest: +SKIP
    PosixPath('runs/eval/report.md')
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from eval.metrics import (
    MIN_PART_WORDS,
    PRIMARY_METRIC,
    RECALL_KS,
    SHINGLE_SIZE,
    THRESHOLD,
    Pair,
    compute_all,
    pair_rows,
)
from eval.types import EvalCase, EvalError, EvalReport, EvalRow, QuestionResult, Score

SNIPPET_CHARS = 200
TOP_PASSAGES = 3
WORST_N = 8

MAIN_METRICS: dict[str, str] = {
    "recall_all@1": "Recall@1 (all evidence)",
    "recall_all@3": "Recall@3 (all evidence)",
    "recall_all@5": "Recall@5 (all evidence)",
    "recall_all@10": "Recall@10 (all evidence)",
    "recall_any@5": "Recall@5 (any evidence)",
    "mrr": "MRR@10",
    "ndcg@10": "nDCG@10",
    "key_fact_recall": "Key-fact recall",
    "answer_support": "Citation support",
    "citation_precision": "Citation precision",
    "refusal_accuracy": "Refusal accuracy (unanswerable)",
    "false_refusal_rate": "False refusals (answerable)",
    "latency_p50_ms": "Latency p50 (ms)",
    "latency_p95_ms": "Latency p95 (ms)",
}
"""Metrics shown in the side-by-side table, with their labels."""

GROUP_METRICS = (
    "n_questions",
    "recall_all@5",
    "mrr",
    "ndcg@10",
    "key_fact_recall",
    "answer_support",
    "citation_precision",
    "refusal_accuracy",
    "false_refusal_rate",
)
"""Columns of the per-language and per-type tables."""


def quality(scores: dict[str, float], answerable: bool) -> float:
    """One number per question to find the worst ones by.

    Answerable: mean of citation support, recall@5 (all evidence) and key-fact recall, where
    present. Unanswerable: 1 if refused, else 0.
    """
    if not answerable:
        return scores.get("refusal_accuracy", 0.0)
    parts = [
        scores[m] for m in ("answer_support", "recall_all@5", "key_fact_recall") if m in scores
    ]
    return sum(parts) / len(parts) if parts else 0.0


def _group_metrics(pairs: Sequence[Pair], threshold: float) -> dict[str, Score]:
    results = compute_all(pairs, threshold=threshold)
    out: dict[str, Score] = {"n_questions": float(len(pairs))}
    out.update({name: r.overall for name, r in results.items()})
    return out


def _question_result(pair: Pair, scores: dict[str, float]) -> QuestionResult:
    case, row = pair
    return QuestionResult(
        id=case.id,
        question=case.question,
        lang=case.lang,
        type=case.type,
        answerable=case.answerable,
        refused=row.refused,
        answer=row.answer,
        scores=scores,
        quality=quality(scores, case.answerable),
        evidence=list(case.evidence),
        top_passages=[p.text[:SNIPPET_CHARS] for p in row.retrieved[:TOP_PASSAGES]],
    )


def summarise(
    cases: Sequence[EvalCase],
    rows: Sequence[EvalRow],
    system: str,
    *,
    threshold: float = THRESHOLD,
    sets: Mapping[str, str] | None = None,
) -> EvalReport:
    """Score one system's answers to a question set.

    Args:
        cases: The question set.
        rows: One answered row per question (any order).
        system: A name for the system, shown in reports and stored in baselines.
        threshold: Share of a quote's words that must be covered for it to count as found.
        sets: Question id → the question set it comes from, for the per-set table (so that
            tuning to one set shows up as a gap to the others).

    Raises:
        EvalError: The rows do not match the questions one to one.
    """
    pairs = pair_rows(cases, rows)
    results = compute_all(pairs, threshold=threshold)
    by_lang: dict[str, list[Pair]] = defaultdict(list)
    by_type: dict[str, list[Pair]] = defaultdict(list)
    by_set: dict[str, list[Pair]] = defaultdict(list)
    for pair in pairs:
        by_lang[pair[0].lang].append(pair)
        by_type[pair[0].type].append(pair)
        if sets:
            by_set[sets.get(pair[0].id, "")].append(pair)
    questions = []
    for pair in pairs:
        qid = pair[0].id
        scores = {n: r.per_question[qid] for n, r in results.items() if qid in r.per_question}
        questions.append(_question_result(pair, scores))
    return EvalReport(
        system=system,
        primary_metric=PRIMARY_METRIC,
        n_questions=len(pairs),
        n_answerable=sum(c.answerable for c, _ in pairs),
        metrics={name: r.overall for name, r in results.items()},
        per_lang={k: _group_metrics(v, threshold) for k, v in sorted(by_lang.items())},
        per_type={k: _group_metrics(v, threshold) for k, v in sorted(by_type.items())},
        per_set={k: _group_metrics(v, threshold) for k, v in by_set.items()},
        questions=questions,
        params={
            "threshold": threshold,
            "shingle_size": SHINGLE_SIZE,
            "min_part_words": MIN_PART_WORDS,
        },
    )


# --- writing ---------------------------------------------------------------------------------


def _fmt(value: Score, metric: str) -> str:
    if value is None:
        return "—"
    if metric.endswith("_ms"):
        return f"{value:.0f}"
    if metric == "n_questions":
        return f"{value:.0f}"
    return f"{value:.3f}"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _systems_table(reports: Sequence[EvalReport]) -> list[str]:
    lines = [
        "| Metric | " + " | ".join(_cell(r.system) for r in reports) + " |",
        "|---|" + "---:|" * len(reports),
    ]
    for metric, label in MAIN_METRICS.items():
        name = f"**{label}** (primary)" if metric == PRIMARY_METRIC else label
        values = " | ".join(_fmt(r.metrics.get(metric), metric) for r in reports)
        lines.append(f"| {name} | {values} |")
    return lines


def _group_table(reports: Sequence[EvalReport], attr: str, title: str) -> list[str]:
    lines = [
        f"| {title} | System | " + " | ".join(GROUP_METRICS) + " |",
        "|---|---|" + "---:|" * len(GROUP_METRICS),
    ]
    groups = sorted({g for r in reports for g in getattr(r, attr)})
    for group in groups:
        for report in reports:
            values = getattr(report, attr).get(group)
            if values is None:
                continue
            cells = " | ".join(_fmt(values.get(m), m) for m in GROUP_METRICS)
            lines.append(f"| {_cell(group)} | {_cell(report.system)} | {cells} |")
    return lines


def _worst(report: EvalReport, n: int = WORST_N) -> list[str]:
    lines = [f"### {_cell(report.system)}", ""]
    failing = sorted(
        (q for q in report.questions if q.quality < 1.0), key=lambda q: (q.quality, q.id)
    )
    if not failing:
        lines.append("No question scored below 1.")
    for q in failing[:n]:
        kind = "answerable" if q.answerable else "unanswerable"
        lines.append(f"- **{q.id}** ({q.lang}, {q.type}, {kind}) quality {q.quality:.2f}")
        lines.append(f"  - Question: {_cell(q.question)}")
        if q.evidence:
            lines.append(f"  - Expected evidence: {_cell(q.evidence[0][:SNIPPET_CHARS])}")
        answer = "(refused) " if q.refused else ""
        lines.append(f"  - Answer: {answer}{_cell(q.answer[:SNIPPET_CHARS])}")
        for rank, passage in enumerate(q.top_passages, start=1):
            lines.append(f"  - Retrieved #{rank}: {_cell(passage)}")
    return lines + [""]


def _plot_recall(reports: Sequence[EvalReport], path: Path) -> None:
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    for report in reports:
        ys = [report.metrics.get(f"recall_all@{k}") for k in RECALL_KS]
        ax.plot(
            RECALL_KS,
            [y if y is not None else float("nan") for y in ys],
            marker="o",
            label=report.system,
        )
    ax.set(
        xlabel="k",
        ylabel="Recall@k (all evidence)",
        ylim=(0, 1.05),
        xticks=RECALL_KS,
        title="Retrieval recall@k",
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)


def _plot_types(reports: Sequence[EvalReport], path: Path) -> None:
    types = sorted({t for r in reports for t in r.per_type})
    metrics = ("recall_all@5", PRIMARY_METRIC)
    fig = Figure(figsize=(max(6, 1.3 * len(types) + 2), 6), dpi=100)
    width = 0.8 / max(1, len(reports))
    for row, metric in enumerate(metrics, start=1):
        ax = fig.add_subplot(len(metrics), 1, row)
        for i, report in enumerate(reports):
            ys = [report.per_type.get(t, {}).get(metric) for t in types]
            xs = [j + i * width - 0.4 + width / 2 for j in range(len(types))]
            ax.bar(xs, [y if y is not None else 0.0 for y in ys], width, label=report.system)
        ax.set_xticks(range(len(types)), types)
        ax.set(ylim=(0, 1.05), ylabel=MAIN_METRICS[metric])
        ax.grid(axis="y", alpha=0.3)
    fig.axes[0].legend()
    fig.axes[0].set_title("Scores by question type (unanswerable: no retrieval score)")
    fig.tight_layout()
    fig.savefig(path)


def write_report(reports: Sequence[EvalReport], out_dir: Path) -> Path:
    """Write ``report.md``, ``report.json``, ``recall_at_k.png`` and ``by_type.png``.

    Args:
        reports: One report per system, all on the same question set.
        out_dir: Folder to write into (created if missing; files are overwritten).

    Returns:
        The path of ``report.md``.

    Raises:
        EvalError: No reports, or two reports share a system name.
    """
    if not reports:
        raise EvalError("no reports to write; evaluate at least one system")
    names = [r.system for r in reports]
    if len(set(names)) != len(names):
        raise EvalError(f"system names must be unique, got {names}; rename one")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot_recall(reports, out_dir / "recall_at_k.png")
    _plot_types(reports, out_dir / "by_type.png")
    payload = {
        "primary_metric": PRIMARY_METRIC,
        "systems": [r.model_dump(mode="json") for r in reports],
    }
    (out_dir / "report.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    first = reports[0]
    params = ", ".join(f"{k}={v:g}" for k, v in first.params.items())
    lines = [
        "# Legatus evaluation",
        "",
        f"Primary metric: **{PRIMARY_METRIC}** — the answer is given and cites at least one "
        "passage holding gold evidence (answerable questions only).",
        f"Questions: {first.n_questions} ({first.n_answerable} answerable). "
        f"Evidence matching: {params}.",
        "",
        "## Systems",
        "",
        *_systems_table(reports),
        "",
        "![Recall@k](recall_at_k.png)",
        "",
        "## By question set",
        "",
        "The first 40 development questions (`dev`), the 76 written later from other parts of "
        "the reports (`wide`), 20 kept aside while tuning (`holdout`) and 33 questions that "
        'name their topic (`topic`: "what does … say about X", 19 of them on topics the '
        "reports do not discuss): a rule tuned to one set shows up as a gap to the others.",
        "",
        *_group_table(reports, "per_set", "Set"),
        "",
        "## By language",
        "",
        *_group_table(reports, "per_lang", "Language"),
        "",
        "## By question type",
        "",
        *_group_table(reports, "per_type", "Type"),
        "",
        "![By type](by_type.png)",
        "",
        "## Worst questions",
        "",
    ]
    for report in reports:
        lines.extend(_worst(report))
    md = out_dir / "report.md"
    md.write_text("\n".join(lines), encoding="utf-8")
    return md
