"""Settings of the assistant: retrieval depth, answer shape, refusal, and the optional LLM."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class LLMSettings(BaseModel):
    """An OpenAI-compatible chat endpoint (vLLM, Ollama, llama.cpp server, LM Studio, a gateway)."""

    base_url: str = Field(
        "http://127.0.0.1:8081/v1",
        description="Base URL of the OpenAI-compatible API, ending in /v1.",
    )
    model: str = Field("local", description="Model name the endpoint serves.")
    api_key: SecretStr = Field(
        SecretStr("not-needed"), description="API key; local servers accept any value."
    )
    timeout_s: float = Field(60.0, gt=0, le=600, description="Seconds allowed per answer.")
    max_tokens: int = Field(400, ge=16, le=4096, description="Most tokens an answer may have.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature.")
    max_passages: int = Field(
        6, ge=1, le=20, description="Passages put into the prompt (small models need few)."
    )


class SelectionSettings(BaseModel):
    """How the offline answerer weighs the retrieved sentences when it picks the ones to quote.

    Tuned on the development question sets (eval/questions/); every figure of the evaluation
    rests on them, so change one only with a run of ``make eval-gate`` beside it.
    """

    lexical_weight: float = Field(
        0.12, ge=0, description="What containing the question's rarer terms adds to similarity."
    )
    context_weight: float = Field(
        0.2, ge=0, le=1, description="Share of a sentence's similarity taken from its context."
    )
    margin: float = Field(
        0.05, ge=0, description="Sentences within this of the best one are quoted with it."
    )
    duplicate_cosine: float = Field(
        0.93, ge=0, le=1, description="Two sentences this similar say the same: one is kept."
    )
    rank_weight: float = Field(
        0.05, ge=0, description="Preference for passages the search ranked higher."
    )
    prose_floor: float = Field(
        0.45,
        ge=0,
        le=1,
        description="Below this share of lower-case words a sentence reads as a list of names.",
    )
    list_penalty: float = Field(0.03, ge=0, description="Taken off such a list of names.")
    question_penalty: float = Field(0.05, ge=0, description="Taken off a sentence that asks.")
    column_bonus: float = Field(
        0.05, ge=0, description="Added to a table cell of the column a question names."
    )
    footnote_units: int = Field(
        3, ge=0, le=20, description="Most sentences of a footnote quoted with its citing one."
    )
    detail_reach: int = Field(
        10, ge=1, le=100, description="How many of the best sentences may give the asked detail."
    )


AnswererName = Literal["extractive", "llm"]
"""The offline answerer, or the configured LLM endpoint."""


class AssistantSettings(BaseModel):
    """How questions are answered.

    Example:
        >>> AssistantSettings(answerer="llm").llm.base_url
        'http://127.0.0.1:8081/v1'
    """

    answerer: AnswererName = Field(
        "extractive",
        description="'extractive' answers offline from the passages' own sentences; 'llm' asks "
        "the configured OpenAI-compatible endpoint.",
    )
    k: int = Field(8, ge=1, le=50, description="Passages retrieved per question.")
    max_sentences: int = Field(5, ge=1, le=12, description="Most sentences in an answer.")
    list_passages: int = Field(
        6,
        ge=0,
        le=30,
        description="Most passages of a section (and its sub-sections) read besides the search "
        "results for a list question whose section heading names what it asks for.",
    )
    max_question_chars: int = Field(
        2000, ge=50, le=20000, description="Longer questions are refused with a message."
    )
    support_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Least support (0..1) a sentence needs from the passages it cites to stay.",
    )
    refusal_threshold: float = Field(
        0.77,
        ge=0,
        le=1,
        description="Least cosine similarity between the question and the best sentence found "
        "for the assistant to answer at all; below it the answer says the reports do not "
        "cover the question. The default suits the packaged multilingual-e5-small, whose "
        "similarities are compressed into about 0.75-0.90: it lies just under every question "
        "of the development sets (the weakest: 0.771, a football question; answerable ones "
        "from 0.781 up), so it refuses only what is far from every report; the other refusal "
        "checks do the finer work. Another model needs "
        "its own value (0 turns the check off).",
    )
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The LLM endpoint.")
    selection: SelectionSettings = Field(
        default_factory=SelectionSettings, description="The offline answerer's sentence choice."
    )
