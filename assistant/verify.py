"""Checking every answer sentence against the passages it cites, whoever wrote the sentence.

A sentence keeps a citation only when the cited passage supports it: lexically (most of the
sentence's content words stand in the passage) or semantically (a sentence of the passage says
nearly the same, by embedding similarity). Quoted spans must occur verbatim in a cited passage.
Citations to passages that were never shown are removed. A sentence left without a supporting
citation is dropped, and the answer records what was dropped and why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.types import AnswerSentence, Citation, Draft, Passage, Verification
from index.embedding import Embedder
from index.terms import tokenize
from ingest.units import passage_units

_QUOTED = re.compile(r"[“\"„]([^”\"“]{12,})[”\"]")
# Cosine similarities of multilingual-e5 between a sentence and its paraphrase sit around
# 0.88-0.95, unrelated sentences of the same report around 0.75-0.82: map that band onto 0..1.
_COS_LOW, _COS_HIGH = 0.82, 0.94


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip().lower()


def lexical_support(sentence: str, passage: str) -> float:
    """Share of the sentence's content terms that occur in the passage (0..1)."""
    terms = set(tokenize(sentence))
    if not terms:
        return 0.0
    return len(terms & set(tokenize(passage))) / len(terms)


def unverified_quotes(sentence: str, passages: Sequence[Passage]) -> list[str]:
    """Quoted spans of ``sentence`` found in none of ``passages`` (verbatim, spacing aside)."""
    texts = [_squash(p.text) for p in passages]
    return [q for q in _QUOTED.findall(sentence) if not any(_squash(q) in t for t in texts)]


@dataclass(frozen=True)
class _Scored:
    support: float
    quotes: tuple[str, ...]


class Verifier:
    """Scores support of sentences by passages with the same embedding model as search.

    Example:
        >>> verifier = Verifier(embedder, threshold=0.5)  # doctest: +SKIP
        >>> sentences, citations, record = verifier.check(draft, passages)  # doctest: +SKIP
    """

    def __init__(self, embedder: Embedder | None, threshold: float) -> None:
        self.embedder = embedder
        self.threshold = threshold

    def _support(self, sentence: str, passage: Passage) -> _Scored:
        units = passage_units(passage.text) or [passage.text]
        lexical = [lexical_support(sentence, u) for u in units]
        best_lex = max(lexical)
        whole = lexical_support(sentence, passage.text)
        semantic = np.zeros(len(units))
        if self.embedder is not None and best_lex < 0.999:
            vectors = self.embedder.encode_passages([sentence, *units])
            cos = vectors[1:] @ vectors[0]
            semantic = np.clip((cos - _COS_LOW) / (_COS_HIGH - _COS_LOW), 0.0, 1.0)
        per_unit = np.maximum(np.asarray(lexical), semantic)
        order = np.argsort(-per_unit)
        quotes = tuple(units[i] for i in order[:2] if per_unit[i] >= self.threshold)
        return _Scored(float(max(per_unit.max(), whole * 0.9)), quotes)

    def check(
        self, draft: Draft, passages: Sequence[Passage]
    ) -> tuple[list[AnswerSentence], list[Citation], Verification]:
        shown = {p.chunk_id: p for p in passages}
        numbers: dict[str, int] = {}
        quotes: dict[str, list[str]] = {}
        kept: list[AnswerSentence] = []
        dropped: list[str] = []
        removed = list(draft.unknown_ids)
        unverified: list[str] = []
        for sentence in draft.sentences:
            cited = [shown[s] for s in sentence.sources if s in shown]
            removed.extend(s for s in sentence.sources if s not in shown)
            missing_quotes = unverified_quotes(sentence.text, cited) if cited else []
            if missing_quotes:
                unverified.extend(missing_quotes)
                dropped.append(sentence.text)
                continue
            scored = [(p, self._support(sentence.text, p)) for p in cited]
            good = [(p, s) for p, s in scored if s.support >= self.threshold]
            if not good:
                dropped.append(sentence.text)
                continue
            for passage, score in good:
                numbers.setdefault(passage.chunk_id, len(numbers) + 1)
                bucket = quotes.setdefault(passage.chunk_id, [])
                bucket.extend(q for q in score.quotes if q not in bucket)
            kept.append(
                AnswerSentence(
                    text=sentence.text,
                    citations=tuple(numbers[p.chunk_id] for p, _ in good),
                    support=max(s.support for _, s in good),
                    verified=True,
                    heading=sentence.heading,
                )
            )
        citations = [
            Citation(n, shown[chunk_id], tuple(quotes.get(chunk_id, ())))
            for chunk_id, n in numbers.items()
        ]
        record = Verification(
            checked_sentences=len(draft.sentences),
            dropped_sentences=tuple(dropped),
            removed_citations=tuple(dict.fromkeys(removed)),
            unverified_quotes=tuple(unverified),
            threshold=self.threshold,
        )
        return kept, citations, record


_FOOTNOTE_MARK = re.compile(r"(?<=\S)\[\d{1,3}\]|^\s*\[\d{1,3}\]\s*")


_LINK = re.compile(r"\[([^\[\]]+)\]\([^()\s]*\)")


def without_footnote_marks(text: str) -> str:
    """The sentence as an answer shows it: without the report's own footnote markers, and with
    Markdown links (kept in passages converted from HTML) shown as their text.

    Example:
        >>> without_footnote_marks("[3] Zie ook het rapport.[4]")
        'Zie ook het rapport.'
        >>> without_footnote_marks("5 Atlantic Council, [‘Speech by Robert Gates’](#), 2011.")
        '5 Atlantic Council, ‘Speech by Robert Gates’, 2011.'
    """
    return _FOOTNOTE_MARK.sub("", _LINK.sub(r"\1", text))


def cited_text(sentences: Sequence[AnswerSentence]) -> str:
    """The answer text: each sentence followed by its citation markers ``[1][3]``; where the
    quotes move to another section, its heading introduces them ("— Heading: …").

    The reports' own footnote markers (``…waarden.[2]``, kept as ``[n]`` in the passages) are
    left out of the answer, where they would read as citations; the passages keep them.

    Example:
        >>> s = AnswerSentence("Zo staat het er.[2]", (1,), 0.9, True)
        >>> cited_text([s])
        'Zo staat het er. [1]'
    """
    out: list[str] = []
    heading = ""
    for s in sentences:
        text = f"{without_footnote_marks(s.text)} {''.join(f'[{n}]' for n in s.citations)}"
        if s.heading and s.heading != heading:
            text = f"— {s.heading}: {text}"
        heading = s.heading or heading
        out.append(text.strip())
    return " ".join(out)
