"""Retrieval-only evaluation: does the top ``k`` hold all the evidence a question needs?

For hybrid, dense-only and BM25-only search, the share of answerable questions whose evidence
quotes are all covered by the union of the top ``k`` passages, overall and per question language.
Matching is ``eval.metrics.all_evidence_covered``: normalised, hyphen-insensitive word shingles;
a quote split over two passages counts.

Run it against the configured index (``LEGATUS_INDEX__PATH``)::

    legatus eval retrieval [--questions eval/questions/dev.jsonl] [--k 5] [--json]

Example:
    >>> report = evaluate_retrieval(search_index, load_questions(DEV_QUESTIONS))  # doctest: +SKIP
    >>> report.modes["hybrid"].overall  # doctest: +SKIP
    0.914
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from pydantic import BaseModel, Field

from eval.metrics import all_evidence_covered
from eval.types import EvalCase
from index.search import PassageSearch
from index.settings import Mode

MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


class ModeScores(BaseModel):
    """Share of answerable questions with all evidence in the top k, for one search mode."""

    overall: float = Field(description="Over all answerable questions.")
    per_lang: dict[str, float] = Field(description="Per question language ('nl', 'en', ...).")
    n_per_lang: dict[str, int] = Field(description="Answerable questions per language.")
    missed: list[str] = Field(description="Ids of questions with evidence outside the top k.")
    latency_ms_p50: float = Field(description="Median search time per question.")


class RetrievalReport(BaseModel):
    """Scores of every evaluated search mode.

    Example:
        >>> RetrievalReport(k=5, n_answerable=0, modes={}).k
        5
    """

    k: int
    n_answerable: int
    modes: dict[str, ModeScores]


def evaluate_mode(
    index: PassageSearch, cases: Sequence[EvalCase], mode: Mode, k: int
) -> ModeScores:
    """Score one search mode on the answerable questions of ``cases``."""
    hits: dict[str, bool] = {}
    times: list[float] = []
    for case in cases:
        if not case.answerable:
            continue
        started = time.perf_counter()
        found = index.search(case.question, k=k, mode=mode)
        times.append(1000 * (time.perf_counter() - started))
        hits[case.id] = all_evidence_covered(case.evidence, [h.chunk.text for h in found])
    langs = sorted({c.lang for c in cases if c.id in hits})
    per_lang = {
        lang: [hits[c.id] for c in cases if c.id in hits and c.lang == lang] for lang in langs
    }
    times.sort()
    return ModeScores(
        overall=sum(hits.values()) / len(hits) if hits else 0.0,
        per_lang={lang: sum(v) / len(v) for lang, v in per_lang.items()},
        n_per_lang={lang: len(v) for lang, v in per_lang.items()},
        missed=[qid for qid, ok in hits.items() if not ok],
        latency_ms_p50=times[len(times) // 2] if times else 0.0,
    )


def evaluate_retrieval(
    index: PassageSearch,
    cases: Sequence[EvalCase],
    *,
    k: int = 5,
    modes: Sequence[Mode] = MODES,
) -> RetrievalReport:
    """Score each search mode; see the module docstring for the measure."""
    return RetrievalReport(
        k=k,
        n_answerable=sum(c.answerable for c in cases),
        modes={mode: evaluate_mode(index, cases, mode, k) for mode in modes},
    )


def format_report(report: RetrievalReport) -> str:
    """A small table: one row per mode, columns overall and per language."""
    langs = sorted({lang for m in report.modes.values() for lang in m.per_lang})
    head = f"all evidence in top {report.k} ({report.n_answerable} answerable questions)"
    lines = [head, f"{'mode':<8} {'all':>6} " + " ".join(f"{lang:>6}" for lang in langs)]
    for name, scores in report.modes.items():
        cells = " ".join(f"{scores.per_lang.get(lang, 0.0):6.3f}" for lang in langs)
        lines.append(
            f"{name:<8} {scores.overall:6.3f} {cells}   missed: {', '.join(scores.missed)}"
        )
    return "\n".join(lines)
