"""The assistant: question (and chat so far) → retrieval → answer → verified citations."""

from __future__ import annotations

import math
import time
import unicodedata
from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from assistant.detail import anchored, anchors, asked_kind
from assistant.extractive import ExtractiveAnswerer, Selection
from assistant.followup import rewrite_followup
from assistant.language import detail_name, phrase
from assistant.question import QuestionAnalysis, analyse
from assistant.refusal import foreign_to_reports, mentioned, missing_terms, unknown_names
from assistant.retriever import Retriever, passage_from_chunk, passage_from_hit
from assistant.sections import SectionTree
from assistant.sentences import report_names, without_people
from assistant.settings import AssistantSettings
from assistant.stream import DraftText, FinalAnswer, StreamEvent, final_answer, returned
from assistant.tables import Table, section_text
from assistant.topic import Topic, TopicCover, read_topic
from assistant.types import (
    Answer,
    AnswerSentence,
    Citation,
    Draft,
    DraftSentence,
    LLMError,
    Passage,
    QuestionError,
)
from assistant.verify import Verifier, cited_text
from index.embedding import Embedder, get_embedder
from index.settings import EmbeddingSettings, IndexSettings
from index.terms import fold, tokenize
from index.types import SearchFilters
from ingest.access import Groups
from ingest.units import footnote_opening

History = Sequence[tuple[str, str]]


class DraftingLLM(Protocol):
    """What the assistant needs of an LLM answerer (see ``assistant.llm.LLMAnswerer``)."""

    name: str

    def draft(self, question: str, passages: Sequence[Passage], language: str) -> Draft: ...

    def draft_stream(
        self, question: str, passages: Sequence[Passage], language: str
    ) -> Generator[DraftText, None, Draft]: ...

    def rewrite_followup(self, history: History, question: str) -> str: ...


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
    if not any(unicodedata.category(c)[0] in "LN" for c in text):
        raise QuestionError(
            "the question has no words, only symbols or emoji: rephrase it in words"
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
        index: Retriever,
        embedder: Embedder,
        settings: AssistantSettings,
        llm: DraftingLLM | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.llm = llm
        idf = inverse_document_frequency(c.embedding_text() for c in index.chunks)
        names = report_names(
            [x for meta in index.documents.values() for x in (meta.title, meta.publisher)]
        )
        self.sections = SectionTree(index.chunks)
        self._tables: dict[tuple[str, tuple[str, ...]], Table | None] = {}
        self.extractive = ExtractiveAnswerer(
            embedder, idf, settings.max_sentences, index.unit_vectors, self._footnote, names,
            tables=self._table, tuning=settings.selection,
        )  # fmt: skip
        self.verifier = Verifier(embedder, settings.support_threshold)
        self.vocabulary = fold(" ".join(f"{c.title} {c.section_label} {c.text}"
                                        for c in index.chunks))  # fmt: skip
        self.languages = frozenset(m.language for m in index.documents.values() if m.language)

    footnote_reach = 4  # passages after the citing one searched for its footnote
    filter_margin = 0.02  # how much better the reports a filter hides must answer to say so

    def _table(self, doc_id: str, path: tuple[str, ...]) -> Table | None:
        """The table of a section (its column heads), read once from the section's text."""
        key = (doc_id, path)
        if key not in self._tables:
            self._tables[key] = Table.read(section_text(list(self.sections.within(doc_id, path))))
        return self._tables[key]

    def _footnote(self, chunk_id: str, number: str) -> tuple[Passage, list[str]] | None:
        """Footnote ``number`` as cited in stored passage ``chunk_id``: the first passage of the
        same report, from that one up to ``footnote_reach`` passages on (footnotes follow their
        paragraph), with a paragraph opening with the number ("5 Atlantic Council, …"), as a
        passage to show, and the footnote's units. None if there is none."""
        for piece in self.index.following(chunk_id, self.footnote_reach):
            units = footnote_opening(piece.text, number)
            if units:
                meta = self.index.documents[piece.doc_id]
                return passage_from_chunk(piece, meta, parts=(piece.id,)), units
        return None

    def retrieve(self, query: str, filters: SearchFilters | None = None) -> list[Passage]:
        return [passage_from_hit(h) for h in self.index.search(query, self.settings.k, filters)]

    def ask(
        self,
        question: object,
        history: History = (),
        filters: SearchFilters | None = None,
        answerer: str | None = None,
    ) -> Answer:
        """Answer ``question``; raises QuestionError for an empty or overlong question."""
        text = clean_question(question, self.settings.max_question_chars)
        return final_answer(self._events(text, history, filters, answerer, stream=False))

    def ask_stream(
        self,
        question: object,
        history: History = (),
        filters: SearchFilters | None = None,
        answerer: str | None = None,
    ) -> Iterator[StreamEvent]:
        """``ask`` as it happens: ``DraftText`` events with the LLM's unverified reply so far,
        then one ``FinalAnswer`` with the answer ``ask`` returns (only that for the extractive
        answerer). Raises QuestionError at once, as ``ask`` does; see ``assistant.stream``."""
        text = clean_question(question, self.settings.max_question_chars)
        return self._events(text, history, filters, answerer, stream=True)

    def _events(self, text: str, history: History, filters: SearchFilters | None,
                answerer: str | None, stream: bool) -> Iterator[StreamEvent]:  # fmt: skip
        started = time.perf_counter()
        analysis = analyse(text)
        use_llm = (answerer or self.settings.answerer) == "llm" and self.llm is not None
        standalone = self._standalone(history, text, use_llm)
        answer = yield from self._answer(analysis, standalone, filters, use_llm, stream)
        if filters is not None and filters.active:
            answer = self._hidden_by_filter(analysis, standalone, filters, answer)
        yield FinalAnswer(replace(answer, latency_ms=(time.perf_counter() - started) * 1000))

    def _standalone(self, history: History, question: str, use_llm: bool) -> str:
        if history and use_llm and self.llm is not None:
            try:
                return self.llm.rewrite_followup(history, question) or question
            except LLMError:
                pass
        return rewrite_followup(history, question)

    def _answer(
        self,
        q: QuestionAnalysis,
        standalone: str,
        filters: SearchFilters | None,
        use_llm: bool,
        stream: bool = False,
    ) -> Generator[DraftText, None, Answer]:
        passages = self.retrieve(standalone, filters)
        if q.wants_list:
            passages = self._with_sections(q, standalone, passages, filters)
        base = Answer(
            question=q.text,
            answer="",
            refused=True,
            language=q.language,
            standalone_question=standalone,
            retrieved=tuple(passages),
            answerer=self.llm.name if use_llm and self.llm else "extractive",
        )
        if not passages:
            return self._refuse(base, "none")
        selection = self.extractive.select(q, standalone, passages)
        selection, cover = self._on_topic(q, standalone, passages, selection)
        base = replace(base, strength=selection.best_similarity, listed=selection.listed)
        reason = self._refusal_reason(q, standalone, passages, selection)
        if reason:
            return self._refuse(base, reason, selection.subject, passages)
        if cover.absent:
            first = next((s for s in selection.draft.sentences if s.sources), None)
            return self._refuse(base, "topic", first, passages, cover)
        if selection.extra:  # a quoted sentence's footnote, found past the search results
            passages = [*passages, *selection.extra]
            base = replace(base, retrieved=tuple(passages))
        draft, base, notice = yield from self._draft(q, passages, selection, base, use_llm, stream)
        if draft.refused:
            return self._refuse(replace(base, notice=notice), "llm")
        answer = self._verified(base, draft, selection, passages, notice)
        # an extractive answer says which part of the topic its quoted passages leave out
        if cover.missing and not answer.refused and answer.answerer == "extractive":
            gap = phrase(q.language, "topic_gap", what=cover.missing_as_written(q.text))
            answer = replace(answer, notice=f"{answer.notice} {gap}".strip())
        return answer

    def _refusal_reason(
        self, q: QuestionAnalysis, standalone: str, passages: Sequence[Passage],
        selection: Selection,
    ) -> str:  # fmt: skip
        """Why the passages do not answer the question ("" when they do): a name or number
        the reports never mention, a detail of the asked-for kind they do not give, or a
        judgement they do not make."""
        if selection.best_similarity < self.settings.refusal_threshold:
            return "weak"
        if foreign_to_reports(q.text, q.language, self.extractive.idf, self.languages):
            return "unknown"
        years = {p.date[:4] for p in passages if p.date}
        texts = [f"{p.title} {p.section} {p.text}" for p in passages]
        missing = missing_terms(q.text, texts, years)
        if any(not mentioned(t, self.vocabulary) for t in missing):
            return "unknown"
        if unknown_names(q.text, self.vocabulary):
            return "unknown"
        if "judgement" in selection.gaps:
            return "judgement"
        if "detail" in selection.gaps:
            return "detail:" + (asked_kind(q) or "count")
        return ""

    def _on_topic(
        self, q: QuestionAnalysis, standalone: str, passages: list[Passage], selection: Selection
    ) -> tuple[Selection, TopicCover]:
        """The selection and how its quoted passages cover the topic the question names. When
        they leave part of it out but some retrieved passages speak of more of it, the
        sentences are chosen again from those passages alone: they are the ones about it."""
        topic = read_topic(q.text, q.language, self.languages, self.extractive.idf)
        cover = _quoted_cover(topic, passages, selection)
        if not cover.missing:
            return selection, cover
        covers = [(p, topic.cover([_evidence(p)])) for p in passages]
        on_topic = [p for p, c in covers if not c.missing] or [
            p for p, c in covers if _gap(c) < _gap(cover) and not c.absent
        ]
        if not on_topic:
            return selection, cover
        again = self.extractive.select(q, standalone, on_topic)
        cover_again = _quoted_cover(topic, on_topic, again)
        return (again, cover_again) if _gap(cover_again) < _gap(cover) else (selection, cover)

    def _draft(
        self, q: QuestionAnalysis, passages: list[Passage], selection: Selection,
        base: Answer, use_llm: bool, stream: bool,
    ) -> Generator[DraftText, None, tuple[Draft, Answer, str]]:  # fmt: skip
        """The draft to verify: the LLM's when one is configured and answers (streamed as it
        is written when ``stream``), else the extractive selection (with a notice saying why)."""
        if not (use_llm and self.llm is not None):
            return selection.draft, base, ""
        shown = passages[: self.settings.llm.max_passages]
        try:
            if not stream:
                draft = self.llm.draft(q.text, shown, q.language)
            else:  # the draft's text events go out as the model writes them
                draft = yield from self.llm.draft_stream(q.text, shown, q.language)
        except LLMError as exc:
            notice = f"{exc} The answer below was composed from the passages instead."
            return selection.draft, replace(base, answerer="extractive"), notice
        return draft, base, ""

    def _verified(
        self, base: Answer, draft: Draft, selection: Selection, passages: list[Passage],
        notice: str,
    ) -> Answer:  # fmt: skip
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
            return self._refuse(replace(base, verification=record, notice=notice), "none")
        lead = phrase(base.language, "quoted") if base.answerer == "extractive" else ""
        return replace(
            base,
            answer=f"{lead} {cited_text(sentences)}".strip(),
            refused=False,
            sentences=tuple(sentences),
            citations=tuple(citations),
            verification=record,
            notice=notice,
        )

    def _with_sections(
        self, q: QuestionAnalysis, standalone: str, passages: list[Passage],
        filters: SearchFilters | None,
    ) -> list[Passage]:  # fmt: skip
        """A list question whose retrieved section's heading names what it asks for ("Drie
        scenario's voor …") also reads that section's other passages and its sub-sections,
        where the items stand."""
        known = {part for p in passages for part in p.part_ids}
        extra: list[Passage] = []
        for p in passages[:3]:
            for chunk in self.sections.list_passages(p.doc_id, p.section_path, q, standalone):
                if chunk.id in known or len(extra) >= self.settings.list_passages:
                    continue
                meta = self.index.documents[chunk.doc_id]
                if filters is not None and not filters.accepts(meta):
                    continue
                known.add(chunk.id)
                extra.append(passage_from_chunk(chunk, meta, 0.0, len(passages) + len(extra) + 1))
        return [*passages, *extra]

    def _hidden_by_filter(
        self, q: QuestionAnalysis, standalone: str, filters: SearchFilters, refused: Answer
    ) -> Answer:
        """An answer under a filter that the reports the filter leaves out answer better (or
        at all): say so and name them, instead of quoting what the filtered reports say."""
        everywhere = returned(self._answer(q, standalone, None, use_llm=False))
        if everywhere.refused or not everywhere.citations:
            return refused
        hidden = {
            c.passage.doc_id: c.passage.title
            for c in everywhere.citations
            if not filters.accepts(self.index.documents[c.passage.doc_id])
        }
        if len(hidden) < len({c.passage.doc_id for c in everywhere.citations}):
            return refused  # the reports within the filter take part in the answer
        found_more = everywhere.listed and not refused.listed
        if (
            not refused.refused
            and not found_more
            and (everywhere.strength < refused.strength + self.filter_margin)
        ):
            return refused
        titles = "; ".join(f"“{t}”" for t in hidden.values())
        text = phrase(q.language, "filtered", titles=titles)
        return replace(
            refused, answer=text, refused=True, sentences=(), citations=(), refusal="filter",
            hidden_reports=tuple(hidden),
        )  # fmt: skip

    def _topic_gap(self, question: str, language: str, cover: TopicCover) -> str:
        """The words of the topic the passages leave out, as the question writes them: "Ze
        spreken niet over “woningnood”.", told apart from a word the reports use elsewhere."""
        unheard = not any(mentioned(w, self.vocabulary) for w in cover.missing)
        key = "no_topic_part" if cover.partly else "no_topic" if unheard else "no_topic_here"
        return phrase(language, key, what=cover.missing_as_written(question))

    def _refuse(
        self, base: Answer, reason: str, subject: DraftSentence | None = None,
        passages: Sequence[Passage] = (), cover: TopicCover | None = None,
    ) -> Answer:  # fmt: skip
        """A refusal that says why and, where the reports do speak of the subject (for a
        ``topic`` refusal: of the part of the ``cover`` they do speak of), what they say about
        it in one cited line."""
        kind = reason.partition(":")[2]
        text = phrase(base.language, "refusal")
        if reason == "judgement":
            text = f"{text} {phrase(base.language, 'no_judgement')}"
        elif cover is not None:
            text = f"{text} {self._topic_gap(base.question, base.language, cover)}"
        elif kind:
            what = detail_name(base.language, kind)
            text = f"{text} {phrase(base.language, 'no_detail', what=what)}"
        if cover is not None:  # the line speaks of the part of the topic that is there
            on_subject = cover.partly
        else:
            on_subject = (
                reason not in ("unknown", "weak")
                and subject is not None
                and anchored(
                    subject.text, anchors(without_people(base.question), self.extractive.idf)
                )
            )
        sentences: list[AnswerSentence] = []
        citations: list[Citation] = []
        if subject is not None and on_subject:
            sentences, citations, _ = self.verifier.check(Draft((subject,)), passages)
        if sentences:
            said = "they_say_part" if cover is not None else "they_say"
            text = f"{text} {phrase(base.language, said)} {cited_text(sentences)}"
        elif base.retrieved:
            text = f"{text} {phrase(base.language, 'closest')}"
        return replace(
            base, answer=text, refused=True, sentences=tuple(sentences),
            citations=tuple(citations), refusal=reason.partition(":")[0],
        )  # fmt: skip


def _evidence(passage: Passage) -> str:
    """A passage as evidence of a topic: its title and headings count with its text."""
    return f"{passage.title} {passage.section} {passage.text}"


def _quoted_cover(topic: Topic, passages: Sequence[Passage], selection: Selection) -> TopicCover:
    """How the passages that ``selection`` quotes (footnotes found past them included) cover
    ``topic``."""
    quoted = {source for s in selection.draft.sentences for source in s.sources}
    return topic.cover(
        [_evidence(p) for p in (*passages, *selection.extra) if p.chunk_id in quoted]
    )


def _gap(cover: TopicCover) -> tuple[bool, int]:
    """How far evidence is from the question's topic: off it, then by the words it lacks."""
    return cover.absent, len(cover.missing)


def open_assistant(
    index_path: Path,
    embedding: EmbeddingSettings,
    index_settings: IndexSettings,
    settings: AssistantSettings,
    groups: Groups = None,
) -> Assistant:
    """Load the index and the model once and return a ready assistant, over the reports a
    reader of ``groups`` may read (None: all of them).

    Raises:
        index.types.SearchIndexError: no index, or an index built with another model or schema.
    """
    from index.search import open_index  # the loader pulls in FAISS; import where it is needed

    embedder = get_embedder(embedding)
    chosen = index_settings.model_copy(update={"path": index_path})
    search_index = open_index(chosen, embedding, embedder=embedder).readable_by(groups)
    return Assistant(search_index, embedder, settings, drafting_llm(settings))


def drafting_llm(settings: AssistantSettings) -> DraftingLLM | None:
    """The LLM answerer the settings choose (``answerer="llm"``), else None: the one place
    where the answerer is chosen; ``Assistant.ask(answerer=...)`` can only fall back from it."""
    if settings.answerer != "llm":
        return None
    from assistant.llm import LLMAnswerer  # pulls in langchain-openai: only when configured

    return LLMAnswerer(settings.llm)
