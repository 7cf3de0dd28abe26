"""Pure metric functions over answered questions; no models, no I/O.

Each metric takes ``(case, row)`` pairs and returns a :class:`MetricResult`: an overall score and
a score per question. Questions a metric does not apply to (retrieval metrics on unanswerable
questions, refusal accuracy on answerable ones) are left out of both.

Evidence is matched by normalised word overlap, robust to how the text was chunked: a gold quote
may be spread over two passages, carry PDF hyphenation ("hernucleari- satie"), bullets or other
quote marks. See :func:`evidence_coverage` and :func:`evidence_in_passage`.

Example:
    >>> evidence_in_passage("mede- ondertekenaars van het verdrag",
    ...                     "Alle medeondertekenaars van het verdrag stemden in.")
    True
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from eval.types import EvalCase, EvalError, EvalRow

SHINGLE_SIZE = 5
"""Words per shingle."""
THRESHOLD = 0.8
"""Share of a quote's words that must be covered for the quote to count as found."""
MIN_PART_WORDS = 8
"""Words of a quote a passage must hold at its start or end to count as holding part of it."""
EDGE_SLACK = 2
"""Shingles a passage may start (end) before the quote run: a word cut at the chunk edge."""
RECALL_KS = tuple(range(1, 11))
PRIMARY_METRIC = "answer_support"
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "latency_p50_ms", "latency_p95_ms"})

Pair = tuple[EvalCase, EvalRow]


@dataclass(frozen=True)
class MetricResult:
    """An overall score and the per-question scores it summarises.

    ``overall`` is None when no question qualifies for the metric.

    Example:
        >>> MetricResult.mean({"a": 1.0, "b": 0.0}).overall
        0.5
    """

    overall: float | None
    per_question: dict[str, float]

    @classmethod
    def mean(cls, per_question: dict[str, float]) -> MetricResult:
        values = list(per_question.values())
        return cls(sum(values) / len(values) if values else None, per_question)


# --- normalisation ---------------------------------------------------------------------------

_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        **dict.fromkeys("\u2022\u25cf\u25aa\u25e6\u25a0\u2023\u2043", " "),  # bullets
        **dict.fromkeys("\u00ad\u200b\u200c\u200d\ufeff*", None),  # soft hyphen, markdown *
    }
)
_JOIN_HYPHEN = re.compile(r"(?<=\w)-\s*(?=\w)")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Normalise text for matching.

    NFKC; quotes and dashes unified; soft hyphens, zero-width characters and markdown ``*``
    removed; bullets become spaces; case and accents folded; a hyphen between two word characters
    is dropped together with any whitespace after it, so ``"mede- ondertekenaars"``,
    ``"mede-ondertekenaars"`` and ``"medeondertekenaars"`` all become ``"medeondertekenaars"``;
    whitespace collapsed.

    Example:
        >>> normalise("• Expert‑enquêtes –  “Taming”")
        'expertenquetes - "taming"'
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE).casefold()
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _JOIN_HYPHEN.sub("", unicodedata.normalize("NFC", text))
    return _SPACE.sub(" ", text).strip()


@lru_cache(maxsize=8192)
def words(text: str) -> tuple[str, ...]:
    """The words of the normalised text (runs of letters and digits; punctuation dropped)."""
    return tuple(_WORD.findall(normalise(text)))


def contains_text(needle: str, haystack: str) -> bool:
    """True if the normalised words of ``needle`` occur, in order, inside those of ``haystack``.

    Matching is on the joined word string, so a needle may end inside a longer word: Dutch
    compounds ("enquêtes" is found in "expert-enquêtes").
    """
    n = " ".join(words(needle))
    return bool(n) and n in " ".join(words(haystack))


# --- evidence matching -----------------------------------------------------------------------


def _shingles(ws: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(ws[i : i + size]) for i in range(len(ws) - size + 1)]


def evidence_coverage(evidence: str, passages: Iterable[str], *, size: int = SHINGLE_SIZE) -> float:
    """Share of the quote's words covered by its word shingles found in any of the passages.

    1.0 when the quote lies inside one passage. Otherwise each ``size``-word shingle of the quote
    that occurs in some passage covers its words; a quote split cleanly over two passages is thus
    fully covered by the pair (the shingles straddling the cut are in neither, but their words are
    covered by their neighbours). Quotes shorter than ``size`` words are one shingle.
    """
    q = words(evidence)
    if not q:
        return 1.0
    n = min(size, len(q))
    joined = f" {' '.join(q)} "
    found: set[tuple[str, ...]] = set()
    for passage in passages:
        pw = words(passage)
        if joined in f" {' '.join(pw)} ":
            return 1.0
        found.update(_shingles(pw, n))
    covered = [False] * len(q)
    for i, shingle in enumerate(_shingles(q, n)):
        if shingle in found:
            covered[i : i + n] = [True] * n
    return sum(covered) / len(q)


def _edge_run(shingles: Sequence[tuple[str, ...]], quote: set[tuple[str, ...]]) -> int:
    """Words in the longest run of quote shingles starting within EDGE_SLACK of the edge."""
    best = 0
    for start in range(min(EDGE_SLACK + 1, len(shingles))):
        run = 0
        for shingle in shingles[start:]:
            if shingle not in quote:
                break
            run += 1
        if run:
            best = max(best, run + SHINGLE_SIZE - 1)
    return best


def evidence_in_passage(
    evidence: str,
    passage: str,
    *,
    threshold: float = THRESHOLD,
    min_part_words: int = MIN_PART_WORDS,
) -> bool:
    """True if the passage holds the quote, or its part of a quote the chunker cut.

    A passage holds a quote when at least ``threshold`` of the quote's words are covered by its
    shingles (:func:`evidence_coverage`; 1.0 when the quote lies inside it). It holds its part of
    a quote cut by a chunk boundary when it starts or ends with a run of the quote's words (a cut
    word at the very edge is allowed) at least ``min_part_words`` long, or half the quote if that
    is shorter, and never under ``SHINGLE_SIZE + 1`` words.

    Example:
        >>> quote = "een twee drie vier vijf zes zeven acht negen tien elf twaalf"
        >>> evidence_in_passage(quote, "Begin van de tekst. Een twee drie vier vijf zes zeven acht")
        True
    """
    if evidence_coverage(evidence, [passage]) >= threshold:
        return True
    q = words(evidence)
    need = max(SHINGLE_SIZE + 1, min(min_part_words, math.ceil(len(q) / 2)))
    if len(q) <= need:
        return False
    quote = set(_shingles(q, SHINGLE_SIZE))
    ps = _shingles(words(passage), SHINGLE_SIZE)
    return max(_edge_run(ps, quote), _edge_run(ps[::-1], quote)) >= need


def passage_relevant(case: EvalCase, passage: str, *, threshold: float = THRESHOLD) -> bool:
    """True if the passage holds (part of) any of the case's evidence quotes."""
    return any(evidence_in_passage(e, passage, threshold=threshold) for e in case.evidence)


def all_evidence_covered(
    evidence: Sequence[str], passages: Sequence[str], *, threshold: float = THRESHOLD
) -> bool:
    """True if every quote is covered (>= ``threshold``) by the union of the passages."""
    return all(evidence_coverage(e, passages) >= threshold for e in evidence)


# --- pairing ---------------------------------------------------------------------------------


def pair_rows(cases: Sequence[EvalCase], rows: Sequence[EvalRow]) -> list[Pair]:
    """Match answered rows to their questions by id, in question-set order.

    Raises:
        EvalError: A row id repeats or is not in the question set, or a question has no row.
    """
    by_id: dict[str, EvalRow] = {}
    for row in rows:
        if row.id in by_id:
            raise EvalError(f"row id {row.id!r} appears twice; answer each question once")
        by_id[row.id] = row
    known = {case.id for case in cases}
    unknown = sorted(set(by_id) - known)
    if unknown:
        raise EvalError(f"rows for ids not in the question set: {unknown[:5]}; check the file")
    missing = [case.id for case in cases if case.id not in by_id]
    if missing:
        raise EvalError(f"no row for questions {missing[:5]} ({len(missing)} in all); run them")
    return [(case, by_id[case.id]) for case in cases]


def _per_answerable(
    pairs: Sequence[Pair], score: Callable[[EvalCase, EvalRow], float | None]
) -> MetricResult:
    per: dict[str, float] = {}
    for case, row in pairs:
        if case.answerable and (value := score(case, row)) is not None:
            per[case.id] = value
    return MetricResult.mean(per)


def _relevance(case: EvalCase, row: EvalRow, k: int, threshold: float) -> list[bool]:
    return [passage_relevant(case, p.text, threshold=threshold) for p in row.retrieved[:k]]


# --- retrieval -------------------------------------------------------------------------------


def recall_all_at_k(pairs: Sequence[Pair], k: int, *, threshold: float = THRESHOLD) -> MetricResult:
    """1 if every evidence quote is covered by the union of the top ``k`` passages, else 0."""

    def score(case: EvalCase, row: EvalRow) -> float:
        top = [p.text for p in row.retrieved[:k]]
        return float(all_evidence_covered(case.evidence, top, threshold=threshold))

    return _per_answerable(pairs, score)


def recall_any_at_k(pairs: Sequence[Pair], k: int, *, threshold: float = THRESHOLD) -> MetricResult:
    """1 if any of the top ``k`` passages holds (part of) some evidence quote, else 0."""
    return _per_answerable(pairs, lambda c, r: float(any(_relevance(c, r, k, threshold))))


def mrr(pairs: Sequence[Pair], k: int = 10, *, threshold: float = THRESHOLD) -> MetricResult:
    """Reciprocal rank of the first passage (within ``k``) holding any evidence; 0 if none."""

    def score(case: EvalCase, row: EvalRow) -> float:
        rel = _relevance(case, row, k, threshold)
        return next((1.0 / (i + 1) for i, r in enumerate(rel) if r), 0.0)

    return _per_answerable(pairs, score)


def ndcg_at_k(pairs: Sequence[Pair], k: int = 10, *, threshold: float = THRESHOLD) -> MetricResult:
    """nDCG@k with binary relevance (a passage holding part of some evidence is relevant).

    The ideal ranking is unknown without judging the whole corpus; it is taken as
    ``max(number of quotes, relevant passages retrieved)`` relevant passages, capped at ``k``
    (each quote needs at least one passage).
    """

    def score(case: EvalCase, row: EvalRow) -> float:
        rel = _relevance(case, row, k, threshold)
        dcg = sum(1.0 / math.log2(i + 2) for i, r in enumerate(rel) if r)
        ideal = min(k, max(len(case.evidence), sum(rel)))
        idcg = sum(1.0 / math.log2(i + 2) for i in range(ideal))
        return dcg / idcg if idcg else 0.0

    return _per_answerable(pairs, score)


# --- answers and citations -------------------------------------------------------------------


def key_fact_recall(pairs: Sequence[Pair]) -> MetricResult:
    """Share of a question's key facts literally present in the answer (normalised).

    Case, accents, punctuation and hyphenation are ignored (:func:`contains_text`). Limitation:
    presence is literal, so an English key fact is missed in a correct Dutch answer
    ("legal migration" vs "legale migratie"), and a fact mentioned in a negated sentence counts.
    Questions without key facts are left out.
    """

    def score(case: EvalCase, row: EvalRow) -> float | None:
        if not case.key_facts:
            return None
        return sum(contains_text(f, row.answer) for f in case.key_facts) / len(case.key_facts)

    return _per_answerable(pairs, score)


def answer_support(pairs: Sequence[Pair], *, threshold: float = THRESHOLD) -> MetricResult:
    """1 if the answer is given (not refused) and cites a passage holding gold evidence.

    The primary metric: it needs retrieval, generation and citation to work together. A refusal
    or an answer without a supported citation scores 0.
    """

    def score(case: EvalCase, row: EvalRow) -> float:
        if row.refused:
            return 0.0
        cited = (passage_relevant(case, c.text, threshold=threshold) for c in row.citations)
        return float(any(cited))

    return _per_answerable(pairs, score)


def citation_precision(pairs: Sequence[Pair], *, threshold: float = THRESHOLD) -> MetricResult:
    """Share of an answer's citations whose passage holds evidence for the question.

    An approximation of ALCE citation precision: ALCE asks an NLI model whether each cited
    passage supports the statement it is attached to; here a citation counts as precise when its
    passage holds (part of) a gold quote. A citation to a passage that supports the answer but is
    not among the gold quotes is counted as imprecise, so this is a lower bound. Refused answers
    and answers without citations are left out (see :func:`answer_support`).
    """

    def score(case: EvalCase, row: EvalRow) -> float | None:
        if row.refused or not row.citations:
            return None
        good = sum(passage_relevant(case, c.text, threshold=threshold) for c in row.citations)
        return good / len(row.citations)

    return _per_answerable(pairs, score)


# --- refusals and latency --------------------------------------------------------------------


def refusal_accuracy(pairs: Sequence[Pair]) -> MetricResult:
    """Share of unanswerable questions the assistant refused."""
    return MetricResult.mean({c.id: float(r.refused) for c, r in pairs if not c.answerable})


def false_refusal_rate(pairs: Sequence[Pair]) -> MetricResult:
    """Share of answerable questions the assistant refused (lower is better)."""
    return MetricResult.mean({c.id: float(r.refused) for c, r in pairs if c.answerable})


def latency_percentile(pairs: Sequence[Pair], q: float) -> MetricResult:
    """The ``q``-th percentile (0-100) of latency in ms over all questions."""
    per = {c.id: r.latency_ms for c, r in pairs}
    overall = float(np.percentile(list(per.values()), q)) if per else None
    return MetricResult(overall, per)


def compute_all(pairs: Sequence[Pair], *, threshold: float = THRESHOLD) -> dict[str, MetricResult]:
    """Every metric, by name: ``recall_all@1..10``, ``recall_any@{1,3,5,10}``, ``mrr``,
    ``ndcg@10``, ``key_fact_recall``, ``answer_support``, ``citation_precision``,
    ``refusal_accuracy``, ``false_refusal_rate``, ``latency_p50_ms``, ``latency_p95_ms``."""
    out = {f"recall_all@{k}": recall_all_at_k(pairs, k, threshold=threshold) for k in RECALL_KS}
    for k in (1, 3, 5, 10):
        out[f"recall_any@{k}"] = recall_any_at_k(pairs, k, threshold=threshold)
    out["mrr"] = mrr(pairs, 10, threshold=threshold)
    out["ndcg@10"] = ndcg_at_k(pairs, 10, threshold=threshold)
    out["key_fact_recall"] = key_fact_recall(pairs)
    out["answer_support"] = answer_support(pairs, threshold=threshold)
    out["citation_precision"] = citation_precision(pairs, threshold=threshold)
    out["refusal_accuracy"] = refusal_accuracy(pairs)
    out["false_refusal_rate"] = false_refusal_rate(pairs)
    out["latency_p50_ms"] = latency_percentile(pairs, 50)
    out["latency_p95_ms"] = latency_percentile(pairs, 95)
    return out
