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


class AssistantSettings(BaseModel):
    """How questions are answered.

    Example:
        >>> AssistantSettings(answerer="llm").llm.base_url
        'http://127.0.0.1:8081/v1'
    """

    answerer: Literal["extractive", "llm"] = Field(
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
        0.0,
        description="Least relevance of the best passage for the assistant to answer at all; "
        "below it the answer says the reports do not cover the question.",
    )
    llm: LLMSettings = Field(default_factory=LLMSettings, description="The LLM endpoint.")
