"""Values produced by the assistant: answers, their sentences and their citations.

``Answer.to_json()`` is the documented ``legatus ask --json`` shape that evaluation reads:

    {"question", "answer", "refused": bool,
     "citations": [{"n", "chunk_id", "report", "title", "section", "page", "text", ...}],
     "retrieved": [{"chunk_id", "text", "score", ...}]  (rank order),
     "latency_ms", ...}

Keys may be added; none of these is ever renamed or removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class AssistantError(Exception):
    """The assistant could not answer for a reason the user can act on (message says how)."""


class QuestionError(AssistantError):
    """The question itself is unusable: empty, too long, or not text."""


class LLMError(AssistantError):
    """The configured language model failed or timed out."""


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the assistant shows it: text plus everything a citation needs."""

    chunk_id: str
    doc_id: str
    text: str
    title: str
    section: str
    score: float
    rank: int
    publisher: str = ""
    date: str = ""
    page: int | None = None
    page_end: int | None = None
    page_label: str | None = None
    section_page: str | None = None
    parts: tuple[str, ...] = ()  # stored passages merged into this one (index.ranking)
    section_path: tuple[str, ...] = ()  # the headings above it, outermost first
    language: str = ""  # the report's language ("nl", "en"), "" when unknown
    source_file: str = ""  # the report's file name ("x.pdf"), "" when unknown
    url: str = ""  # the report's own page (its metadata's url: the publisher's), "" if none
    # later pages beginning inside ``text``: (offset in text, physical page, printed label)
    page_starts: tuple[tuple[int, int, str | None], ...] = ()

    @property
    def part_ids(self) -> tuple[str, ...]:
        """The stored passages this one covers: its ``parts``, or itself."""
        return self.parts or (self.chunk_id,)

    def to_json(self) -> dict[str, Any]:
        """The passage as ``legatus ask --json`` lists it (``retrieved``; citations add to it).

        Example:
            >>> p = Passage("c1", "hcss", "Tekst.", "Monitor", "1. Inleiding", 0.5, 1)
            >>> p.to_json()["report"], p.to_json()["parts"]
            ('hcss', ['c1'])
        """
        return {
            "chunk_id": self.chunk_id,
            "report": self.doc_id,
            "title": self.title,
            "publisher": self.publisher,
            "date": self.date,
            "section": self.section,
            "page": self.page,
            "page_end": self.page_end,
            "page_label": self.page_label,
            "section_page": self.section_page,
            "url": self.url,
            "parts": list(self.part_ids),
            "rank": self.rank,
            "score": round(self.score, 6),
            "text": self.text,
        }


@dataclass(frozen=True)
class DraftSentence:
    """A sentence an answerer proposes, with the chunk ids it says support it (unverified)."""

    text: str
    sources: tuple[str, ...]
    heading: str = ""  # the heading of the section it is quoted from ("" for written text)


@dataclass(frozen=True)
class Draft:
    """An answerer's proposal before verification."""

    sentences: tuple[DraftSentence, ...]
    unknown_ids: tuple[str, ...] = ()  # ids the answerer cited that were not in its prompt
    refused: bool = False  # the answerer itself said the passages do not answer the question
    answerer: str = "extractive"


@dataclass(frozen=True)
class Citation:
    """A numbered reference ``[n]`` in an answer, resolved to a passage that was shown."""

    n: int
    passage: Passage
    quotes: tuple[str, ...] = ()  # the passage's sentences that support the answer


@dataclass(frozen=True)
class AnswerSentence:
    """One sentence of an answer, the citations it carries, and how well they support it."""

    text: str
    citations: tuple[int, ...]
    support: float  # best support score over its cited passages, 0..1
    verified: bool
    heading: str = ""  # the heading of the section a quote comes from


@dataclass(frozen=True)
class Verification:
    """What the citation check did to an answer (kept so that a reviewer can see it)."""

    checked_sentences: int = 0
    dropped_sentences: tuple[str, ...] = ()
    removed_citations: tuple[str, ...] = ()  # ids the answerer cited that were never shown
    unverified_quotes: tuple[str, ...] = ()
    threshold: float = 0.0


@dataclass(frozen=True)
class Answer:
    """The assistant's reply to one question.

    Example:
        >>> a = Answer(question="Wat?", answer="De rapporten zeggen dit niet.", refused=True)
        >>> a.to_json()["refused"]
        True
    """

    question: str
    answer: str
    refused: bool
    language: str = "nl"
    standalone_question: str = ""
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[Passage, ...] = ()
    verification: Verification = field(default_factory=Verification)
    answerer: str = "extractive"
    latency_ms: float = 0.0
    notice: str = ""  # e.g. the LLM timed out and the extractive answer was given instead
    # why it was refused: unknown, detail, topic, judgement, filter, llm, weak, none
    refusal: str = ""
    hidden_reports: tuple[str, ...] = ()  # reports a filter left out that answer the question
    strength: float = 0.0  # cosine of the question and the best evidence sentence
    listed: bool = False  # a list question whose items were found in the passages

    @property
    def drawn_on(self) -> frozenset[str]:
        """Every report the answer drew on: retrieved, cited, or named by a filter refusal."""
        return (
            frozenset(p.doc_id for p in self.retrieved)
            | {c.passage.doc_id for c in self.citations}
            | set(self.hidden_reports)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "standalone_question": self.standalone_question or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "language": self.language,
            "answerer": self.answerer,
            "citations": [_citation_json(c) for c in self.citations],
            "retrieved": [p.to_json() for p in self.retrieved],
            "sentences": [
                {
                    "text": s.text,
                    "citations": list(s.citations),
                    "support": round(s.support, 4),
                    "verified": s.verified,
                    "heading": s.heading,
                }
                for s in self.sentences
            ],
            "verification": {
                "checked_sentences": self.verification.checked_sentences,
                "dropped_sentences": list(self.verification.dropped_sentences),
                "removed_citations": list(self.verification.removed_citations),
                "unverified_quotes": list(self.verification.unverified_quotes),
                "threshold": self.verification.threshold,
            },
            "notice": self.notice,
            "refusal": self.refusal,
            "hidden_reports": list(self.hidden_reports),
            "latency_ms": round(self.latency_ms, 1),
        }


def _citation_json(c: Citation) -> dict[str, Any]:
    data = c.passage.to_json()
    data.pop("rank")
    data.pop("score")
    return {"n": c.n, **data, "quotes": list(c.quotes)}
