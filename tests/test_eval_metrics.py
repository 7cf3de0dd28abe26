"""Evaluation metrics on hand-made questions whose scores were worked out by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.gate import GateError, compare, write_baseline
from eval.metrics import (
    answer_support,
    citation_precision,
    compute_all,
    contains_text,
    evidence_coverage,
    evidence_in_passage,
    false_refusal_rate,
    key_fact_recall,
    latency_percentile,
    mrr,
    ndcg_at_k,
    normalise,
    pair_rows,
    recall_all_at_k,
    recall_any_at_k,
    refusal_accuracy,
)
from eval.question_sets import DEV_QUESTIONS, QuestionSetError, load_questions
from eval.report import summarise, write_report
from eval.types import EvalCase, EvalError, EvalReport, EvalRow

# --- a tiny corpus -----------------------------------------------------------------------------

E1 = "De Nederlandse regering investeert twee miljard euro in de marine tot 2030."
E2A = (
    "Frankrijk heeft operationele autonomie en volledige technologische autonomie, "
    "in tegenstelling tot het Verenigd Koninkrijk."
)
E2B = "Het Verenigd Koninkrijk is lid van de Nuclear Planning Group binnen de NAVO."
E3 = (
    "Het onderzoek steunt op casestudies, datagestuurde risicobeoordeling, deskresearch, "
    "expert-enquêtes, spelsimulaties met beleidsmakers en interviews met experts uit de industrie."
)
# E3 cut by the chunker after "deskresearch,", with a PDF line-break hyphen in the second half.
P3A = "Methodologie. " + E3[: E3.index("expert-")]
P3B = "expert- enquêtes, spelsimulaties met beleidsmakers en interviews met experts uit de " + (
    "industrie. Daarna volgt de inleiding."
)
IRR = [
    "De Europese Unie bespreekt de uitbreiding met Oekraïne en Moldavië.",
    "Klimaatbeleid vraagt om investeringen in waterstof en netcapaciteit.",
    "Het begrotingstekort van de lidstaten blijft onder de drie procent.",
]


def _case(qid: str, lang: str, qtype: str, evidence: list[str], facts: list[str]) -> EvalCase:
    doc = "report" if evidence else "none"
    return EvalCase(
        id=qid,
        question=f"Vraag {qid}?",
        lang=lang,
        type=qtype,
        doc=doc,
        evidence=evidence,
        key_facts=facts,
    )


def _row(
    qid: str, answer: str, passages: list[str], cited: list[str], refused: bool, ms: float
) -> EvalRow:
    return EvalRow.model_validate(
        {
            "id": qid,
            "question": f"Vraag {qid}?",
            "answer": answer,
            "refused": refused,
            "citations": [
                {
                    "n": i + 1,
                    "chunk_id": f"c{i}",
                    "report": "r",
                    "title": "T",
                    "section": "S",
                    "page": 1,
                    "text": text,
                }
                for i, text in enumerate(cited)
            ],
            "retrieved": [
                {"chunk_id": f"{qid}-{i}", "text": t, "score": 1.0 - i / 10, "doc_id": "r"}
                for i, t in enumerate(passages)
            ],
            "latency_ms": ms,
            "sentences": [],  # extra fields from the assistant are kept
        }
    )


CASES = [
    _case("Q1", "nl", "factoid", [E1], ["twee miljard", "marine"]),
    _case("Q2", "en", "multi_hop", [E2A, E2B], ["Nuclear Planning Group", "technologische"]),
    _case("Q3", "nl", "list", [E3], ["casestudies"]),
    _case("Q4", "en", "unanswerable", [], []),
]
ROWS = [
    _row(
        "Q1",
        "De regering investeert Twee Miljard euro in de Marine [1][2].",
        [IRR[0], "Inleiding. " + E1, IRR[1]],
        ["Inleiding. " + E1, IRR[2]],
        False,
        100,
    ),
    _row(
        "Q2",
        "France has technological autonomy; the UK sits in the Nuclear Planning Group [1].",
        [E2A, IRR[0], IRR[1], E2B + " Verder niets."],
        [E2A],
        False,
        200,
    ),
    _row("Q3", "Dat weet ik niet.", [IRR[2], P3A, P3B], [], True, 300),
    _row("Q4", "De rapporten zeggen dat niet.", [IRR[0]], [], True, 400),
]
PAIRS = pair_rows(CASES, ROWS)
L3, L5 = math.log2(3), math.log2(5)


# --- normalisation and evidence matching ------------------------------------------------------


@pytest.mark.parametrize(
    "variant",
    [
        "mede- ondertekenaars",
        "mede-ondertekenaars",
        "mede\u00adondertekenaars",
        "mede-\nondertekenaars",
        "Mede‐ ondertekenaars",
        "medeondertekenaars",
    ],
)
def test_hyphenation_variants_normalise_alike(variant: str) -> None:
    assert normalise(variant) == "medeondertekenaars"
    assert evidence_in_passage(
        f"alle {variant} van het verdrag", "Alle medeondertekenaars van het verdrag stemden in."
    )


def test_quotes_dashes_bullets_accents_and_markdown_are_unified() -> None:
    assert normalise("• “Taming”  ‘x’ — **Ben** Enquête") == "\"taming\" 'x' - ben enquete"
    assert evidence_in_passage(
        "Expert View door **Ben Knapen** (voormalig minister)",
        "Expert View door Ben Knapen (voormalig minister) & anderen",
    )


def test_quote_inside_passage_and_unrelated_passage() -> None:
    assert evidence_in_passage(E1, "Inleiding. " + E1 + " Slot.")
    assert not evidence_in_passage(E1, IRR[0])
    # Sharing a few words is not enough.
    assert not evidence_in_passage(E1, "De Nederlandse regering investeert in onderwijs.")


def test_mostly_present_quote_matches_at_threshold() -> None:
    # 18 of 19 words left, inside other text (so no edge run of the quote either)
    altered = E3.replace("risicobeoordeling", "analyse")
    altered = f"Inleiding van het rapport. {altered} Daarna volgt het slot."
    assert evidence_coverage(E3, [altered]) >= 0.8
    assert evidence_in_passage(E3, altered)
    assert not evidence_in_passage(E3, altered, threshold=0.95)


def test_quote_split_over_two_passages() -> None:
    # Neither half holds 80% of the quote ...
    assert evidence_coverage(E3, [P3A]) < 0.8
    assert evidence_coverage(E3, [P3B]) < 0.8
    # ... but each holds its part at its edge, and together they cover it.
    assert evidence_in_passage(E3, P3A)
    assert evidence_in_passage(E3, P3B)
    assert evidence_coverage(E3, [P3A, P3B]) == 1.0


def test_short_fragment_at_edge_is_not_a_part() -> None:
    assert not evidence_in_passage(E3, "industrie. Daarna volgt de inleiding van het rapport.")


def test_key_facts_ignore_case_accents_and_compounds() -> None:
    assert contains_text("enquêtes", "Expert-Enquetes en interviews")
    assert contains_text("3,5%", "een norm van 3,5 procent")
    assert not contains_text("legal migration", "legale migratie")


# --- metrics, by hand -------------------------------------------------------------------------


def test_recall_all_and_any() -> None:
    assert recall_all_at_k(PAIRS, 1).per_question == {"Q1": 0.0, "Q2": 0.0, "Q3": 0.0}
    r3 = recall_all_at_k(PAIRS, 3)
    assert r3.per_question == {"Q1": 1.0, "Q2": 0.0, "Q3": 1.0}
    assert r3.overall == pytest.approx(2 / 3)
    assert recall_all_at_k(PAIRS, 5).overall == 1.0
    assert recall_any_at_k(PAIRS, 1).per_question == {"Q1": 0.0, "Q2": 1.0, "Q3": 0.0}


def test_mrr_and_ndcg() -> None:
    assert mrr(PAIRS).per_question == {"Q1": 0.5, "Q2": 1.0, "Q3": 0.5}
    assert mrr(PAIRS).overall == pytest.approx(2 / 3)
    nd = ndcg_at_k(PAIRS, 10).per_question
    assert nd["Q1"] == pytest.approx(1 / L3)
    assert nd["Q2"] == pytest.approx((1 + 1 / L5) / (1 + 1 / L3))
    assert nd["Q3"] == pytest.approx((1 / L3 + 0.5) / (1 + 1 / L3))


def test_answer_metrics() -> None:
    assert key_fact_recall(PAIRS).per_question == {"Q1": 1.0, "Q2": 0.5, "Q3": 0.0}
    assert answer_support(PAIRS).per_question == {"Q1": 1.0, "Q2": 1.0, "Q3": 0.0}
    precision = citation_precision(PAIRS)
    assert precision.per_question == {"Q1": 0.5, "Q2": 1.0}  # Q3 refused: left out
    assert precision.overall == pytest.approx(0.75)


def test_refusals_and_latency() -> None:
    assert refusal_accuracy(PAIRS).per_question == {"Q4": 1.0}
    assert false_refusal_rate(PAIRS).overall == pytest.approx(1 / 3)
    assert latency_percentile(PAIRS, 50).overall == pytest.approx(250.0)
    assert latency_percentile(PAIRS, 95).overall == pytest.approx(385.0)


def test_metric_without_qualifying_questions_is_none() -> None:
    answerable_only = PAIRS[:3]
    assert refusal_accuracy(answerable_only).overall is None
    assert refusal_accuracy(answerable_only).per_question == {}


def test_pairing_errors() -> None:
    with pytest.raises(EvalError, match=r"no row for questions \['Q4'\]"):
        pair_rows(CASES, ROWS[:3])
    with pytest.raises(EvalError, match="appears twice"):
        pair_rows(CASES, [*ROWS, ROWS[0]])
    stray = ROWS[0].model_copy(update={"id": "X9"})
    with pytest.raises(EvalError, match="not in the question set"):
        pair_rows(CASES, [*ROWS, stray])


# --- question sets ----------------------------------------------------------------------------

GOOD = {
    "id": "A1",
    "question": "Wie?",
    "lang": "nl",
    "type": "factoid",
    "doc": "r",
    "evidence": ["Jan deed het."],
    "key_facts": ["Jan"],
}


def _write(tmp_path: Path, *lines: object) -> Path:
    path = tmp_path / "q.jsonl"
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def test_dev_question_set_loads() -> None:
    cases = load_questions(DEV_QUESTIONS)
    assert len(cases) == 40
    assert sum(not c.answerable for c in cases) == 4


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("{not json", r"q\.jsonl:2: field '\(line\)': not valid JSON"),
        ("[1, 2]", r"q\.jsonl:2: field '\(line\)': expected a JSON object"),
        ({**GOOD, "id": "A2", "question": "  "}, r"q\.jsonl:2: field 'question': .*blank"),
        ({k: v for k, v in GOOD.items() if k != "doc"} | {"id": "A2"}, r":2: field 'doc'"),
        ({**GOOD, "id": "A2", "lang": "dutch"}, r":2: field 'lang': .*two-letter"),
        ({**GOOD, "id": "A2", "evidence": ["ok", " "]}, r":2: field 'evidence': .*item 1"),
        ({**GOOD, "id": "A2", "doc": "none"}, r":2: field 'evidence': .*unanswerable"),
        ({**GOOD, "id": "A2", "evidance": []}, r":2: field 'evidance'"),
        ({**GOOD, "id": "A2", "key_facts": "Jan"}, r":2: field 'key_facts'"),
        (GOOD, r":2: field 'id': duplicate id 'A1' \(first used on line 1\)"),
    ],
)
def test_question_set_errors_name_line_and_field(
    tmp_path: Path, line: object, pattern: str
) -> None:
    with pytest.raises(QuestionSetError, match=pattern):
        load_questions(_write(tmp_path, GOOD, line))


def test_empty_and_missing_question_sets(tmp_path: Path) -> None:
    with pytest.raises(QuestionSetError, match="empty"):
        load_questions(_write(tmp_path, "", "  "))
    with pytest.raises(QuestionSetError, match="cannot read"):
        load_questions(tmp_path / "missing.jsonl")


def test_lang_codes_and_blank_lines(tmp_path: Path) -> None:
    cases = load_questions(_write(tmp_path, GOOD, "", {**GOOD, "id": "A2", "lang": "mixed"}))
    assert [c.lang for c in cases] == ["nl", "mixed"]


# --- reports and the gate ---------------------------------------------------------------------


def _report(system: str = "hybrid") -> EvalReport:
    return summarise(CASES, ROWS, system=system)


def test_summarise_breaks_down_by_lang_and_type() -> None:
    report = _report()
    assert report.n_questions == 4 and report.n_answerable == 3
    assert report.metrics["mrr"] == pytest.approx(2 / 3)
    assert report.metrics == {n: r.overall for n, r in compute_all(PAIRS).items()}
    assert set(report.per_lang) == {"nl", "en"}
    assert report.per_lang["nl"]["mrr"] == pytest.approx(0.5)
    assert report.per_lang["en"]["refusal_accuracy"] == 1.0
    assert report.per_type["unanswerable"]["mrr"] is None
    q3 = next(q for q in report.questions if q.id == "Q3")
    assert q3.quality == pytest.approx((0.0 + 1.0 + 0.0) / 3)
    assert q3.top_passages[1] == P3A[:200]


def test_write_report(tmp_path: Path) -> None:
    worse = [r.model_copy(update={"retrieved": r.retrieved[::-1]}) for r in ROWS]
    reports = [_report("hybrid"), summarise(CASES, worse, system="reversed")]
    md = write_report(reports, tmp_path / "out")
    assert md == tmp_path / "out" / "report.md"
    for name in ("recall_at_k.png", "by_type.png"):
        png = (tmp_path / "out" / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 1000
    text = md.read_text(encoding="utf-8")
    assert "| Metric | hybrid | reversed |" in text
    assert "| **Citation support** (primary) | 0.667 | 0.667 |" in text
    assert "| MRR@10 | 0.667 |" in text
    assert "## By language" in text and "| nl | hybrid |" in text
    assert "## Worst questions" in text and "**Q3**" in text
    data = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [s["system"] for s in data["systems"]] == ["hybrid", "reversed"]
    with pytest.raises(EvalError, match="unique"):
        write_report([reports[0], reports[0]], tmp_path / "dup")


def _with(report: EvalReport, **changes: float) -> EvalReport:
    return report.model_copy(update={"metrics": {**report.metrics, **changes}})


def test_gate(tmp_path: Path) -> None:
    report = _report()
    path = write_baseline(report, tmp_path / "baseline.json", tolerance=0.02)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["system"] == "hybrid" and stored["tolerance"] == 0.02
    assert stored["primary_metric"] == "answer_support"
    assert "answer_support" in stored["metrics"] and "latency_p50_ms" not in stored["metrics"]

    assert compare(report, path) == []
    support = report.metrics["answer_support"]
    frr = report.metrics["false_refusal_rate"]
    assert support is not None and frr is not None
    assert compare(_with(report, answer_support=support - 0.01), path) == []
    [msg] = compare(_with(report, answer_support=support - 0.1), path)
    assert msg.startswith("answer_support: baseline 0.6667, now 0.5667")
    assert compare(_with(report, answer_support=support - 0.1), path, tolerance=0.2) == []
    assert compare(_with(report, answer_support=support + 0.3), path) == []
    [msg] = compare(_with(report, false_refusal_rate=frr + 0.1), path)  # lower is better
    assert msg.startswith("false_refusal_rate")
    missing = report.model_copy(update={"metrics": {"mrr": report.metrics["mrr"]}})
    assert any("answer_support" in m and "missing" in m for m in compare(missing, path))


def test_gate_rejects_bad_baseline(tmp_path: Path) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text('{"system": "x", "metrics": {}}', encoding="utf-8")
    with pytest.raises(GateError, match="cannot read baseline"):
        compare(_report(), bad)
    with pytest.raises(GateError, match="cannot read baseline"):
        compare(_report(), tmp_path / "nope.json")
