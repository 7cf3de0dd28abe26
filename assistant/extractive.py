"""The default answerer: no LLM, offline, well under a second.

It picks the sentences of the retrieved passages that best answer the question, by embedding
similarity to the question (the same multilingual model as search, so an English question finds
Dutch sentences) plus the weight of question terms they contain, and returns them in reading
order, each citing its passage. A sentence's similarity blends its own vector with its context
vector (the sentence read after the one before it, see index.sentences), so a sentence that
answers only in context ("Momenteel heeft de luchtmacht de Cougar …") is not passed over.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from assistant.detail import anchors, asked_kind, gives_detail
from assistant.expand import with_antecedents, with_continuation, with_enumeration, with_unfinished
from assistant.lists import find_list, makes_judgement, without_matter
from assistant.question import QuestionAnalysis
from assistant.sentences import (
    Candidate,
    candidates,
    prose_share,
    question_parts,
    term_overlap,
    without_people,
    without_reports,
)
from assistant.settings import SelectionSettings
from assistant.tables import Table
from assistant.types import Draft, DraftSentence, Passage
from index.embedding import FEW_PASSAGES, Embedder
from index.terms import tokenize
from ingest.units import footnote_marks, footnote_starts, rest_of_paragraph


@dataclass(frozen=True)
class Selection:
    """What the extractive answerer chose, with the evidence strength behind the choice."""

    draft: Draft
    best_similarity: float  # cosine of the question and the best sentence
    extra: tuple[Passage, ...] = ()  # passages the draft cites that search did not return
    gaps: tuple[str, ...] = ()  # what the passages lack: "detail", "judgement"
    subject: DraftSentence | None = None  # the best sentence on the question's subject
    listed: bool = False  # the items of a list question were found


FootnoteLookup = Callable[[str, str], tuple[Passage, list[str]] | None]
"""(stored passage id, footnote number) → the passage holding that footnote and its units."""
TableLookup = Callable[[str, tuple[str, ...]], Table | None]
"""(report id, section path) → the table of that section, if it has one."""


_BOTH = re.compile(
    r"(?i)\b(beide|both|the two|de twee|allebei) (rapporten|reports|publicaties|publications|"
    r"studies)\b|\b(in|of) (each|elk)\b|\bthe two reports\b"
)


@dataclass(frozen=True)
class _Place:
    """Where a table cell's sentence stands: its row label cells and its column's name."""

    label: tuple[str, ...]
    column: str

    @property
    def heading(self) -> str:
        """What the quote is shown under: "Effect op afschrikking — Scenario 1"."""
        return " — ".join((*self.label, self.column))

    def quote(self, text: str) -> str:
        """The sentence without the row label it runs on from ("Effect op afschrikking Op
        korte termijn …"), the label being its heading: still a verbatim part of the passage."""
        prefix = " ".join(self.label)
        rest = text[len(prefix) :].lstrip() if prefix and text.startswith(prefix + " ") else text
        return rest if len(rest) >= 3 else text


def heading(passage: Passage) -> str:
    """The heading a quote from ``passage`` is shown under: its own section's."""
    return passage.section_path[-1] if passage.section_path else passage.section


class ExtractiveAnswerer:
    """Composes an answer from the passages' own sentences.

    Example:
        >>> answerer = ExtractiveAnswerer(embedder, idf={}, max_sentences=4)  # doctest: +SKIP
        >>> answerer.select("Wie is Danny Pronk?", passages)  # doctest: +SKIP
        Selection(draft=Draft(sentences=(DraftSentence('Danny Pronk is ...', ...),), ...)
    """

    def __init__(
        self,
        embedder: Embedder,
        idf: Mapping[str, float],
        max_sentences: int = 4,
        stored: Callable[[Sequence[str]], Mapping[str, np.ndarray]] | None = None,
        footnotes: FootnoteLookup | None = None,
        names: Sequence[str] = (),
        *,
        tables: TableLookup | None = None,
        tuning: SelectionSettings | None = None,
    ) -> None:
        """``stored(chunk_ids)`` gives the index's own vectors of those passages' sentences,
        each a ``(2, dimension)`` array of its vector and context vector
        (``SearchIndex.unit_vectors``); sentences it lacks are embedded here, without context.
        ``footnotes`` finds a footnote that no retrieved passage holds (``Assistant._footnote``,
        over ``Retriever.following``). ``tables`` gives the table of a report's section, so
        that a sentence from a table row is quoted under its row and column. ``tuning``: the
        weights of the choice (``AssistantSettings.selection``)."""
        self.embedder = embedder
        self.tuning = tuning or SelectionSettings()
        self.tables = tables
        self.idf = idf
        self.max_sentences = max_sentences
        self.stored = stored
        self.footnotes = footnotes
        self.names = tuple(names)  # what questions call the indexed reports (report_names)
        self._unseen_weight = max(idf.values(), default=1.0)  # a term the reports never use
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _vectors(self, texts: Sequence[str], passages: Sequence[Passage] = ()) -> np.ndarray:
        """Sentence and context vectors, ``(len(texts), 2, dimension)``: the index's own where it
        has them, else embedded here (the context vector then repeats the sentence's own);
        cached, since passages recur across questions in a session."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing and self.stored is not None and passages:
            known = self.stored([part for p in passages for part in p.part_ids])
            for text in missing:
                if text in known:
                    self._cache[text] = known[text]
            missing = [t for t in missing if t not in self._cache]
        # A few at a time: a process that only answers keeps to the light numpy encoder even for
        # passages the index holds no sentence vectors of yet (written with defer_sentences).
        for start in range(0, len(missing), FEW_PASSAGES):
            part = missing[start : start + FEW_PASSAGES]
            for text, vector in zip(part, self.embedder.encode_passages(part), strict=True):
                self._cache[text] = np.stack([vector, vector])
        if missing:
            while len(self._cache) > 20_000:
                self._cache.popitem(last=False)
        return np.stack([self._cache[t] for t in texts])

    def select(
        self, question: QuestionAnalysis, standalone: str, passages: Sequence[Passage]
    ) -> Selection:
        """Choose the sentences that answer ``question`` (searched as ``standalone``)."""
        pool = candidates([p.text for p in passages], [p.section_path for p in passages])
        if not question.about_people:
            pool = without_matter(pool, passages)
        pool, places, in_named = self._in_columns(standalone, pool, passages)
        if not pool:
            return Selection(Draft(()), 0.0)
        focus = without_reports(without_people(standalone), self.names)
        parts = question_parts(focus)
        queries = self.embedder.encode_queries([focus, *parts])
        both = self._vectors([c.text for c in pool], passages)
        vectors, context = both[:, 0], both[:, 1]
        prior = np.array([1.0 / math.sqrt(passages[c.passage].rank) for c in pool])
        # Name lists, bylines and table headers resemble a question about the people or
        # things they name without answering it.
        listy = np.array([prose_share(c.text) < self.tuning.prose_floor for c in pool], dtype=float)
        # A question the report asks itself resembles the user's question but answers nothing.
        asks = np.array([c.text.rstrip("*” ").endswith("?") for c in pool], dtype=float)
        # A question naming a table's column ("het scenario 'De zure appel'") asks what the
        # table says of it, not what the text around the table says of scenarios in general.
        named = np.array([i in in_named for i in range(len(pool))], dtype=float)
        bias = (
            self.tuning.rank_weight * prior
            - self.tuning.list_penalty * listy
            - self.tuning.question_penalty * asks
            + self.tuning.column_bonus * named
        )

        def scores(text: str, query: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
            weights = {t: self.idf.get(t, self._unseen_weight) for t in set(tokenize(text))}
            overlap = np.array([term_overlap(set(weights), c.text, weights) for c in pool])
            own = vectors @ query
            mix = self.tuning.context_weight
            similarity = (1 - mix) * own + mix * (context @ query)
            return similarity + self.tuning.lexical_weight * overlap + bias, own, weights

        score, similarity, weights = scores(focus, queries[0])
        best = int(np.argmax(score))
        chosen = with_continuation(pool, self._choose(pool, score, vectors), best)
        chosen = with_enumeration(pool, chosen)
        # A question about two reports gets the best sentence of each report as well.
        if _BOTH.search(standalone):
            for doc in dict.fromkeys(passages[c.passage].doc_id for c in pool):
                rows = [i for i, c in enumerate(pool) if passages[c.passage].doc_id == doc]
                doc_best = max(rows, key=lambda i: score[i])
                near = score[best] - 2 * self.tuning.margin
                if doc_best not in chosen and score[doc_best] >= near:
                    chosen = [*chosen, doc_best]
        # A question that asks two things gets the best sentence for each part as well.
        for part, query in zip(parts, queries[1:], strict=True):
            part_best = int(np.argmax(scores(part, query)[0]))
            if part_best not in chosen:
                chosen = with_enumeration(pool, [*chosen, part_best])
        gaps: list[str] = []
        with_notes, found = self._with_footnotes(pool, chosen, passages)
        note_units = [pool[j].text for j in with_notes if j not in chosen]
        note_units += [u for notes in found.values() for _, units in notes for u in units]
        cited = " ".join(pool[i].text for i in chosen)
        detail = self._detail(question, standalone, pool, score, passages, note_units, cited)
        if detail is None:
            gaps.append("detail")
        elif detail and detail[0] not in chosen:
            chosen = [*detail, *(i for i in chosen if i not in detail)][: self.max_sentences]
        if question.judgement and not makes_judgement(question, [c.text for c in pool]):
            gaps.append("judgement")
        listed = find_list(question, pool, score, passages) if question.wants_list else None
        if listed is not None:
            chosen = [*listed.units, *(i for i in chosen if i not in listed.units)]
        chosen = with_unfinished(pool, with_antecedents(pool, chosen))
        chosen, notes = self._with_footnotes(pool, chosen, passages)
        sentences: list[DraftSentence] = []
        if listed is not None:
            sentences.append(listed.lead(question, passages))
        extra: dict[str, Passage] = {}
        for i in sorted(chosen, key=lambda i: (pool[i].passage, pool[i].position)):
            passage = passages[pool[i].passage]
            place = places.get(i)
            sentences.append(
                DraftSentence(pool[i].text, (passage.chunk_id,), heading(passage))
                if place is None
                else DraftSentence(place.quote(pool[i].text), (passage.chunk_id,), place.heading)
            )
            for note, units in notes.get(i, ()):
                if note not in passages:  # found beyond the retrieved passages
                    note = extra.setdefault(
                        note.chunk_id, replace(note, rank=len(passages) + len(extra) + 1)
                    )
                sentences.extend(DraftSentence(u, (note.chunk_id,), heading(note)) for u in units)
        top = passages[pool[best].passage]
        shown = places[best].heading if best in places else heading(top)
        subject = DraftSentence(pool[best].text, (top.chunk_id,), shown)
        return Selection(
            Draft(tuple(sentences)),
            float(similarity[best]),
            tuple(extra.values()),
            tuple(gaps),
            subject,
            listed is not None,
        )

    def _in_columns(
        self, standalone: str, pool: list[Candidate], passages: Sequence[Passage]
    ) -> tuple[list[Candidate], dict[int, _Place], set[int]]:
        """The pool without the table cells of columns other than those the question names
        (the other scenarios' cells of a row do not answer for the named one), the row and
        column each remaining cell stands in, and the cells of the named columns."""
        keep: list[Candidate] = []
        places: dict[int, _Place] = {}
        in_named: set[int] = set()
        if self.tables is None:
            return pool, places, in_named
        named: dict[int, set[int]] = {}  # id(table) → the columns the question names
        for c in pool:
            passage = passages[c.passage]
            tabbed = "\t" in passage.text
            table = self.tables(passage.doc_id, passage.section_path) if tabbed else None
            place = table.place(c.text) if table is not None else None
            if table is None or place is None:
                keep.append(c)
                continue
            label, column = place
            if id(table) not in named:
                named[id(table)] = table.columns_named(standalone)
            asked = named[id(table)]
            if asked and (column not in asked or not label):
                continue  # another column, or the head the question already names
            if asked:
                in_named.add(len(keep))
            places[len(keep)] = _Place(label, table.name(column))
            keep.append(c)
        return keep, places, in_named

    def _detail(
        self,
        question: QuestionAnalysis,
        standalone: str,
        pool: list[Candidate],
        score: np.ndarray,
        passages: Sequence[Passage],
        notes: Sequence[str],
        cited: str,
    ) -> list[int] | None:
        """The best sentence (with the one after it when the detail stands there) that gives
        the detail the question asks for; [] when it asks for no typed detail, or when the
        footnote of a chosen sentence gives it ("…, 10 juni 2011."); None when no sentence
        among the best ``tuning.detail_reach`` gives it. The subject may stand anywhere in the
        sentence's paragraph."""
        if not asked_kind(question):
            return []
        cross = question.language == "en" and all(p.language == "nl" for p in passages)
        # the people a question cites its claim to ("volgens Heleen Mees") are its source, not
        # its subject: the sentence giving the detail need not name them
        terms = anchors(without_people(standalone), self.idf, cross_lingual=cross)
        if any(gives_detail(question, u, terms, cited, note=True) for u in notes):
            return []
        for i in np.argsort(-score)[: self.tuning.detail_reach]:
            i = int(i)
            same = [
                j for j in range(max(0, i - 3), min(len(pool), i + 4))
                if pool[j].passage == pool[i].passage and pool[j].paragraph == pool[i].paragraph
            ]  # fmt: skip
            around = " ".join(pool[j].text for j in same if j != i)
            if gives_detail(question, pool[i].text, terms, around):
                return [i]
            nxt = i + 1
            if nxt in same and gives_detail(question, pool[nxt].text, terms, around):
                return [i, nxt]
        return None

    def _with_footnotes(
        self, pool: list[Candidate], chosen: list[int], passages: Sequence[Passage]
    ) -> tuple[list[int], dict[int, list[tuple[Passage, list[str]]]]]:
        """A chosen sentence with a footnote marker ("… worth the cost.”⁵") brings the footnote:
        often the source and date a reader asks for ("…, 10 juni 2011.").

        A footnote in a retrieved passage of the same report is added to ``chosen`` (the nearest
        after the sentence wins). Otherwise it is looked up in the passages that follow the
        sentence's passage in the report (footnotes follow their paragraph); those are returned
        as ``{sentence: [(passage, footnote units)]}``, the passage being a retrieved one when
        it covers the footnote's stored passage, else a new one ranked after them."""
        out = list(chosen)
        found: dict[int, list[tuple[Passage, list[str]]]] = {}
        quoted: set[tuple[str, str]] = set()
        covering = {part: p for p in passages for part in p.part_ids}
        keyed = [((c.passage, c.paragraph), c.text) for c in pool]  # paragraph, unit
        for i in chosen:
            passage = passages[pool[i].passage]
            for number in footnote_marks(pool[i].text):
                notes = [
                    j
                    for j in footnote_starts(keyed, number)
                    if passages[pool[j].passage].doc_id == passage.doc_id
                ]
                if notes:
                    note = min(notes, key=lambda j: (j < i, abs(j - i)))
                    rest = rest_of_paragraph(keyed, note)[: self.tuning.footnote_units]
                    out.extend(j for j in rest if j not in out)
                    continue
                looked = self.footnotes(passage.part_ids[-1], number) if self.footnotes else None
                if looked is None or (passage.doc_id, number) in quoted:
                    continue
                quoted.add((passage.doc_id, number))
                note_passage, units = looked
                note_passage = covering.get(note_passage.chunk_id, note_passage)
                found.setdefault(i, []).append((note_passage, units[: self.tuning.footnote_units]))
        return out, found

    def _choose(self, pool: list[Candidate], score: np.ndarray, vectors: np.ndarray) -> list[int]:
        order = np.argsort(-score)
        best = float(score[order[0]])
        chosen: list[int] = []
        for i in order:
            if len(chosen) >= self.max_sentences or score[i] < best - self.tuning.margin:
                break
            if any(float(vectors[i] @ vectors[j]) > self.tuning.duplicate_cosine for j in chosen):
                continue
            chosen.append(int(i))
        return chosen
