"""The assistant: question (and chat so far) → retrieval → answer → verified citations."""

from __future__ import annotations

import math
import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from assistant.extractive import ExtractiveAnswerer
from assistant.followup import rewrite_followup
from assistant.language import detect_language, phrase
from assistant.refusal import lacks_quantity, missing_terms
from assistant.retriever import IndexRetriever, document_to_passage, hit_to_document
from assistant.settings import AssistantSettings
from assistant.types import Answer, Draft, LLMError, Passage, QuestionError
from assistant.verify import Verifier, render
from index.embedding import Embedder, get_embedder
from index.lexical import tokenize
from index.settings import EmbeddingSettings, IndexSettings
from index.types import Hit, SearchFilters
from ingest.types import Chunk

History = Sequence[tuple[str, str]]


class DraftingLLM(Protocol):
    """What the assistant needs of an LLM answerer (see ``assistant.llm.LLMAnswerer``)."""

    name: str

    def draft(self, question: str, passages: Sequence[Passage], language: str) -> Draft: ...

    def rewrite_followup(self, history: History, question: str) -> str: ...


class Searchable(Protocol):
    def search(self, query: str, k: int = 5, filters: SearchFilters | None = None) -> list[Hit]: ...

    @property
    def chunks(self) -> Sequence[Chunk]: ...


def clean_question(question: object, limit: int) -> str:
    """The question as text, or a QuestionError saying what is wrong with it."""
    if not isinstance(question, str):
        raise QuestionError("the question must be text")
    text = "".join(c for c in question if c in "\n\t" or unicodedata.category(c)[0] != "C")
    text = " ".join(text.split())
    if not text:
        raise QuestionError("the question is empty: ask something about the reports")
    if len(text) > limit:
        raise QuestionError(
            f"the question is {len(text)} characters long; the limit is {limit}. Shorten it."
        )
    return text


def inverse_document_frequency(texts: Iterable[str]) -> dict[str, float]:
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        counts.update(set(tokenize(text)))
        n += 1
    return {term: math.log(1 + n / df) for term, df in counts.items()}


class Assistant:
    """Answers questions over the index with verified, numbered citations.

    Example:
        >>> assistant = Assistant(index, embedder, AssistantSettings())  # doctest: +SKIP
        >>> answer = assistant.ask("Wat zegt de Strategische Monitor over inlichtingen?")
        ... # doctest: +SKIP
        >>> answer.citations[0].passage.section  # doctest: +SKIP
        '3. De lasten delen, de geheimen delen › 3.1. Inlichtingensamen werking'
    """

    def __init__(
        self,
        index: Searchable,
        embedder: Embedder,
        settings: AssistantSettings,
        llm: DraftingLLM | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.llm = llm
        idf = inverse_document_frequency(c.embedding_text() for c in index.chunks)
        self.extractive = ExtractiveAnswerer(
            embedder,
            idf,
            settings.max_sentences,
            getattr(index, "unit_vectors", None),
            self._footnote if hasattr(index, "footnote") else None,
        )
        self.verifier = Verifier(embedder, settings.support_threshold)

    def _footnote(self, chunk_id: str, number: str) -> tuple[Passage, list[str]] | None:
        """Footnote ``number`` of stored passage ``chunk_id``, from the index (see
        ``SearchIndex.footnote``), as a passage to show and the footnote's units."""
        found = self.index.footnote(chunk_id, number)  # type: ignore[attr-defined]
        if found is None:
            return None
        hit, units = found
        return document_to_passage(hit_to_document(hit)), units

    def retrieve(self, query: str, filters: SearchFilters | None = None) -> list[Passage]:
        retriever = IndexRetriever(index=self.index, k=self.settings.k, filters=filters)
        return [document_to_passage(d) for d in retriever.invoke(query)]

    def ask(
        self,
        question: object,
        history: History = (),
        filters: SearchFilters | None = None,
        answerer: str | None = None,
    ) -> Answer:
        """Answer ``question``; raises QuestionError for an empty or overlong question."""
        started = time.perf_counter()
        text = clean_question(question, self.settings.max_question_chars)
        language = detect_language(text)
        use_llm = (answerer or self.settings.answerer) == "llm" and self.llm is not None
        standalone = self._standalone(history, text, use_llm)
        passages = self.retrieve(standalone, filters)
        answer = self._answer(text, standalone, language, passages, use_llm)
        return replace(answer, latency_ms=(time.perf_counter() - started) * 1000)

    def _standalone(self, history: History, question: str, use_llm: bool) -> str:
        if history and use_llm and self.llm is not None:
            try:
                return self.llm.rewrite_followup(history, question) or question
            except LLMError:
                pass
        return rewrite_followup(history, question)

    def _answer(
        self,
        question: str,
        standalone: str,
        language: str,
        passages: list[Passage],
        use_llm: bool,
    ) -> Answer:
        base = Answer(
            question=question,
            answer="",
            refused=True,
            language=language,
            standalone_question=standalone,
            retrieved=tuple(passages),
            answerer=self.llm.name if use_llm and self.llm else "extractive",
        )
        if not passages:
            return self._refuse(base)
        selection = self.extractive.select(standalone, passages)
        years = {p.date[:4] for p in passages if p.date}
        chosen = [s.text for s in selection.draft.sentences]
        if (
            selection.best_similarity < self.settings.refusal_threshold
            or missing_terms(question, [f"{p.title} {p.section} {p.text}" for p in passages], years)
            or lacks_quantity(question, chosen)
        ):
            return self._refuse(base)
        if selection.extra:  # a quoted sentence's footnote, found past the search results
            passages = [*passages, *selection.extra]
            base = replace(base, retrieved=tuple(passages))
        draft, notice = selection.draft, ""
        if use_llm and self.llm is not None:
            try:
                draft = self.llm.draft(
                    question, passages[: self.settings.llm.max_passages], language
                )
            except LLMError as exc:
                notice = f"{exc} The answer below was composed from the passages instead."
                base = replace(base, answerer="extractive")
        if draft.refused:
            return self._refuse(replace(base, notice=notice))
        sentences, citations, record = self.verifier.check(draft, passages)
        if not sentences and draft is not selection.draft:
            # The model's sentences could not be tied to the passages: quote the passages.
            notice = (
                "The language model's answer could not be verified against the passages, so "
                "this answer quotes the passages instead."
            )
            base = replace(base, answerer="extractive")
            rejected = record
            sentences, citations, record = self.verifier.check(selection.draft, passages)
            record = replace(  # keep what was rejected of the model's answer visible
                record,
                dropped_sentences=rejected.dropped_sentences + record.dropped_sentences,
                removed_citations=rejected.removed_citations + record.removed_citations,
                unverified_quotes=rejected.unverified_quotes + record.unverified_quotes,
            )
        if not sentences:
            return self._refuse(replace(base, verification=record, notice=notice))
        lead = phrase(language, "quoted") if base.answerer == "extractive" else ""
        return replace(
            base,
            answer=f"{lead} {render(sentences)}".strip(),
            refused=False,
            sentences=tuple(sentences),
            citations=tuple(citations),
            verification=record,
            notice=notice,
        )

    def _refuse(self, base: Answer) -> Answer:
        text = phrase(base.language, "refusal")
        if base.retrieved:
            text = f"{text} {phrase(base.language, 'closest')}"
        return replace(base, answer=text, refused=True, sentences=(), citations=())


def open_assistant(
    index_path: Path,
    embedding: EmbeddingSettings,
    index_settings: IndexSettings,
    settings: AssistantSettings,
) -> Assistant:
    """Load the index and the model once and return a ready assistant.

    Raises:
        index.types.SearchIndexError: no index, or an index built with another model or schema.
    """
    from index.hybrid import SearchIndex  # the loader pulls in FAISS; import where it is needed

    embedder = get_embedder(embedding)
    search_index = SearchIndex.load(index_path, embedding, index_settings, embedder=embedder)
    llm: DraftingLLM | None = None
    if settings.answerer == "llm":
        from assistant.llm import LLMAnswerer

        llm = LLMAnswerer(settings.llm)
    return Assistant(search_index, embedder, settings, llm)
