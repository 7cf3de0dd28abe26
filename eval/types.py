"""Values of the evaluation stage: question-set lines, answered questions, reports.

Everything here crosses a boundary (a JSON Lines question set, the ``legatus ask --json`` output,
``report.json``), so these are pydantic models.

Example:
    >>> case = EvalCase(id="Q1", question="Wie?", lang="nl", type="factoid", doc="r",
    ...                 evidence=["Jan deed het."], key_facts=["Jan"])
    >>> case.answerable
    True
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

UNANSWERABLE_DOC = "none"
"""The ``doc`` value of a question the reports cannot answer."""

LANGS = frozenset({"mixed", "multi"})
"""Language labels accepted besides two-letter ISO 639-1 codes."""

_LANG_CODE = re.compile(r"^[a-z]{2}$")


class EvalError(Exception):
    """Evaluation inputs do not fit together; the message says what and how to fix it."""


class EvalCase(BaseModel):
    """One line of a question set.

    Example:
        >>> EvalCase(id="Q2", question="Hoeveel?", lang="nl", type="unanswerable",
        ...          doc="none").answerable
        False
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, description="Unique id within the question set.")
    question: str = Field(min_length=1, description="The question as a user would ask it.")
    lang: str = Field(description="Language of the question: a two-letter code or 'mixed'.")
    type: str = Field(description="Question type: factoid, list, explanatory, multi_hop, ...")
    doc: str = Field(description="Report file stem, 'both', or 'none' when unanswerable.")
    answer: str = Field(default="", description="Reference answer (for reading, not scored).")
    evidence: list[str] = Field(
        default_factory=list, description="Verbatim quotes from the reports that answer it."
    )
    key_facts: list[str] = Field(
        default_factory=list, description="Short facts a correct answer must mention."
    )

    @field_validator("id", "question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("lang")
    @classmethod
    def _known_lang(cls, value: str) -> str:
        if value in LANGS or _LANG_CODE.match(value):
            return value
        raise ValueError(
            f"{value!r} is not a two-letter lowercase language code (e.g. 'nl', 'en') "
            f"or one of {sorted(LANGS)}"
        )

    @field_validator("evidence", "key_facts")
    @classmethod
    def _no_blank_items(cls, value: list[str]) -> list[str]:
        for i, item in enumerate(value):
            if not item.strip():
                raise ValueError(f"item {i} is blank; remove it or fill it in")
        return value

    @field_validator("evidence")
    @classmethod
    def _none_has_no_evidence(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("doc") == UNANSWERABLE_DOC and value:
            raise ValueError("doc is 'none' (unanswerable) but evidence is given; drop one")
        return value

    @property
    def answerable(self) -> bool:
        """False when the reports hold no answer: ``doc == 'none'`` or no evidence."""
        return self.doc != UNANSWERABLE_DOC and bool(self.evidence)


class CitationOut(BaseModel):
    """A citation as ``legatus ask --json`` prints it; ``text`` is the cited passage."""

    model_config = ConfigDict(extra="allow")

    n: int = Field(description="The citation's number in the answer, [n].")
    chunk_id: str = Field(description="Id of the cited chunk.")
    report: str = Field(default="", description="Report (document) id.")
    title: str = Field(default="", description="Report title.")
    section: str = Field(default="", description="Section label.")
    page: int | None = Field(default=None, description="Page number, when the source has pages.")
    text: str = Field(description="The cited passage.")


class RetrievedPassage(BaseModel):
    """A passage handed to the answerer, in rank order."""

    model_config = ConfigDict(extra="allow")

    chunk_id: str = Field(description="Id of the chunk.")
    text: str = Field(description="The passage text.")
    score: float = Field(description="Retrieval score (higher is better).")


class EvalRow(BaseModel):
    """One answered question: the ``legatus ask --json`` object plus the question ``id``.

    Example:
        >>> EvalRow(id="Q1", question="Wie?", answer="Jan [1].", refused=False,
        ...         citations=[], retrieved=[], latency_ms=12.0).refused
        False
    """

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="Question id from the question set.")
    question: str = Field(description="The question as asked.")
    answer: str = Field(description="The answer text, with [n] citation markers.")
    refused: bool = Field(description="True when the assistant declined to answer.")
    citations: list[CitationOut] = Field(default_factory=list, description="Cited passages.")
    retrieved: list[RetrievedPassage] = Field(
        default_factory=list, description="Retrieved passages, best first."
    )
    latency_ms: float = Field(ge=0, description="Wall-clock time to answer, in milliseconds.")


Score = float | None
"""A metric value; None where no question qualifies (e.g. refusal accuracy without
unanswerable questions)."""


class QuestionResult(BaseModel):
    """Per-question scores and what is needed to read a failure."""

    id: str
    question: str
    lang: str
    type: str
    answerable: bool
    refused: bool
    answer: str
    scores: dict[str, float] = Field(description="Metric name → this question's score.")
    quality: float = Field(description="One number to sort by; see eval.report.quality.")
    evidence: list[str] = Field(default_factory=list)
    top_passages: list[str] = Field(
        default_factory=list, description="First characters of the top retrieved passages."
    )


class EvalReport(BaseModel):
    """The scores of one system on one question set.

    Example:
        >>> EvalReport(system="s", primary_metric="answer_support", n_questions=0,
        ...            n_answerable=0, metrics={}).system
        's'
    """

    system: str = Field(description="Name of the evaluated system (e.g. 'hybrid+rerank').")
    primary_metric: str = Field(description="The metric to judge a run by.")
    n_questions: int
    n_answerable: int
    metrics: dict[str, Score] = Field(description="Metric name → overall score.")
    per_lang: dict[str, dict[str, Score]] = Field(default_factory=dict)
    per_type: dict[str, dict[str, Score]] = Field(default_factory=dict)
    per_set: dict[str, dict[str, Score]] = Field(default_factory=dict)
    questions: list[QuestionResult] = Field(default_factory=list)
    params: dict[str, float] = Field(
        default_factory=dict, description="Matching parameters the scores depend on."
    )
