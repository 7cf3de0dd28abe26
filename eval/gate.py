"""Comparing a run with a committed baseline at an explicit tolerance.

``baseline.json`` names the metrics it gates, so the gate can change without code changes::

    {"system": "hybrid", "tolerance": 0.02, "primary_metric": "answer_support",
     "metrics": {"answer_support": 0.81, "recall_all@5": 0.75, ...}}

Example:
    >>> regressions = compare(report, Path("eval/baseline.json"))  # doctest: +SKIP
    >>> if regressions: raise SystemExit("\\n".join(regressions))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from eval.metrics import LOWER_IS_BETTER, PRIMARY_METRIC
from eval.types import EvalError, EvalReport

GATED_METRICS = (
    PRIMARY_METRIC,
    "recall_all@5",
    "mrr",
    "citation_precision",
    "key_fact_recall",
    "refusal_accuracy",
    "false_refusal_rate",
)
"""Metrics a new baseline gates by default. Latency is left out: it depends on the machine."""

DEFAULT_TOLERANCE = 0.02


class GateError(EvalError):
    """The baseline file is missing or malformed."""


class Baseline(BaseModel):
    """The contents of ``baseline.json``."""

    system: str = Field(description="System the baseline was measured on.")
    tolerance: float = Field(ge=0, description="Allowed drop, in absolute metric units.")
    primary_metric: str = Field(default=PRIMARY_METRIC, description="The run's primary metric.")
    metrics: dict[str, float] = Field(min_length=1, description="Gated metric → baseline value.")


def load_baseline(path: Path) -> Baseline:
    """Read ``baseline.json``.

    Raises:
        GateError: The file is missing, not JSON, or lacks a field.
    """
    try:
        return Baseline.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise GateError(
            f"{path}: cannot read baseline ({exc}); write one with write_baseline()"
        ) from exc


def compare(report: EvalReport, baseline_path: Path, tolerance: float | None = None) -> list[str]:
    """The gated metrics that got worse than the baseline by more than ``tolerance``.

    Args:
        report: This run's report.
        baseline_path: The committed ``baseline.json``.
        tolerance: Allowed drop in absolute units (0.02 = two points of recall); defaults to the
            tolerance stored in the baseline. For lower-is-better metrics (false refusals) a rise
            is a drop.

    Returns:
        One line per regression, ``"<metric>: baseline <b>, now <n> (...)"``; empty if none. A
        gated metric missing from the report (or undefined in it) is a regression.

    Raises:
        GateError: The baseline cannot be read.
    """
    baseline = load_baseline(baseline_path)
    tol = baseline.tolerance if tolerance is None else tolerance
    regressions: list[str] = []
    for metric, base in baseline.metrics.items():
        now = report.metrics.get(metric)
        if now is None or math.isnan(now):
            regressions.append(f"{metric}: baseline {base:.4f}, now missing")
            continue
        worse = now - base if metric in LOWER_IS_BETTER else base - now
        if worse > tol + 1e-12:
            regressions.append(
                f"{metric}: baseline {base:.4f}, now {now:.4f} "
                f"(worse by {worse:.4f} > tolerance {tol:.4f})"
            )
    return regressions


def compare_runs(report: EvalReport, other: EvalReport, tolerance: float) -> list[str]:
    """The gated metrics on which two runs of the same questions differ by more than
    ``tolerance``, either way (e.g. one system on two index backends).

    Example:
        >>> a = EvalReport(system="files", primary_metric="mrr", n_questions=1, n_answerable=1,
        ...                metrics={"mrr": 0.80})
        >>> b = a.model_copy(update={"system": "postgres", "metrics": {"mrr": 0.76}})
        >>> compare_runs(a, b, 0.03)
        ['mrr: files 0.8000, postgres 0.7600 (apart by 0.0400 > tolerance 0.0300)']
        >>> compare_runs(a, b, 0.05)
        []
    """
    lines = []
    for metric in GATED_METRICS:
        mine, theirs = report.metrics.get(metric), other.metrics.get(metric)
        if mine is None or theirs is None or math.isnan(mine) or math.isnan(theirs):
            if (mine is None) != (theirs is None):
                lines.append(f"{metric}: in one run only")
            continue
        if abs(mine - theirs) > tolerance + 1e-12:
            lines.append(
                f"{metric}: {report.system} {mine:.4f}, {other.system} {theirs:.4f} "
                f"(apart by {abs(mine - theirs):.4f} > tolerance {tolerance:.4f})"
            )
    return lines


def write_baseline(
    report: EvalReport,
    path: Path,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    metrics: tuple[str, ...] = GATED_METRICS,
) -> Path:
    """Write the report's values of ``metrics`` as the new baseline.

    Metrics the report leaves undefined (e.g. refusal accuracy on a set without unanswerable
    questions) are not gated.

    Raises:
        GateError: None of the metrics is defined in the report.
    """
    values = {m: v for m in metrics if (v := report.metrics.get(m)) is not None}
    if not values:
        raise GateError(f"none of {list(metrics)} is defined in the report; nothing to gate")
    baseline = Baseline(
        system=report.system,
        tolerance=tolerance,
        primary_metric=report.primary_metric,
        metrics=values,
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(baseline.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path
