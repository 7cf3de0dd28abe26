"""The CI evaluation gate: it passes on the real system and fails on a broken retriever."""

from __future__ import annotations

from pathlib import Path

from assistant.pipeline import Assistant
from assistant.settings import AssistantSettings
from eval.gate import compare, load_baseline
from eval.question_sets import DEV_QUESTIONS, load_questions
from eval.report import summarise
from eval.run import read_rows, run_questions
from eval.types import EvalRow
from index.types import Hit, SearchFilters
from tests.conftest import ROOT

BASELINE = ROOT / "eval" / "baseline.json"


class BrokenSearch:
    """A retriever that returns the same irrelevant passages whatever is asked."""

    def __init__(self, index) -> None:  # type: ignore[no-untyped-def]
        self.index = index
        self.chunks = index.chunks
        self.documents = index.documents

    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]:
        return self.index.search("adres postbus email website colofon", k, filters)

    def unit_vectors(self, chunk_ids):  # type: ignore[no-untyped-def]
        return self.index.unit_vectors(chunk_ids)

    def footnote(self, chunk_id: str, number: str) -> tuple[Hit, list[str]] | None:
        return None


def test_committed_baseline_names_its_gate() -> None:
    baseline = load_baseline(BASELINE)
    assert baseline.primary_metric in baseline.metrics
    assert 0 < baseline.tolerance <= 0.1
    assert {"answer_support", "recall_all@5", "refusal_accuracy"} <= set(baseline.metrics)


def test_gate_passes_on_the_real_system(all_dev_answers) -> None:
    cases = [case for case, _ in all_dev_answers]
    rows = []
    for case, answer in all_dev_answers:
        rows.append(EvalRow.model_validate({**answer.to_json(), "id": case.id}))
    report = summarise(cases, rows, "legatus")
    assert compare(report, BASELINE) == []


def test_gate_fails_on_a_broken_retriever(bundled_search_index, embedder, tmp_path: Path) -> None:
    cases = load_questions(DEV_QUESTIONS)
    broken = Assistant(BrokenSearch(bundled_search_index), embedder, AssistantSettings())
    run = tmp_path / "broken.jsonl"
    run_questions(cases, broken.ask, run, desc="broken")
    report = summarise(cases, read_rows(run), "broken")
    regressions = compare(report, BASELINE)
    assert any(line.startswith("answer_support") for line in regressions)
    assert any(line.startswith("recall_all@5") for line in regressions)
