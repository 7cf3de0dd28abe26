"""Example questions for the empty chat: drawn from the reports' content sections, in the
interface language, spread over the reports, and each one answered by the real assistant."""

from __future__ import annotations

import doctest
import time

import pytest

from ingest.types import Chunk, DocumentMeta
from ui import examples
from ui.examples import (
    Topic,
    candidate_questions,
    example_questions,
    interleave,
    is_back_matter,
    strip_numbering,
    topics,
)

FILLER = "Deze passage gaat uitgebreid in op het onderwerp van de sectie en op wat het betekent. "


def chunk(doc_id: str, section: tuple[str, ...], ordinal: int, text: str = FILLER * 6) -> Chunk:
    return Chunk.create(doc_id, text, 0, len(text), section, title="T", ordinal=ordinal)


META = {
    "hcss": DocumentMeta("hcss", "Samenhangen – Strategische Monitor 2022", "h.txt",
                         publisher="HCSS en Instituut Clingendael", language="nl"),
    "cling": DocumentMeta("cling", "State of the Union 2026 – Expert Views", "c.txt",
                          publisher="Instituut Clingendael", language="nl"),
}  # fmt: skip


def test_the_module_examples_hold() -> None:
    failed, _ = doctest.testmod(examples)
    assert failed == 0


def test_only_content_headings_become_topics() -> None:
    sections = [
        ("hcss", ("Inhoudsopgave",)), ("hcss", ("Samenvatting",)), ("hcss", ("1. Inleiding",)),
        ("hcss", ("2. Techno-nationalisme temmen", "2.1. Gevoelige technologieën")),
        ("hcss", ("2. Techno-nationalisme temmen", "2.2. Gevolgen voor Nederland en Europa")),
        ("hcss", ("3. Inlichtingen", "3.2. Gevolgen voor Nederland en Europa")),
        ("hcss", ("Colofon",)), ("hcss", ("Literatuurlijst",)), ("hcss", ("Noten",)),
        ("cling", ("Over de auteurs",)), ("cling", ("STATE OF THE UNION 2026",)),
        ("cling", ("Clingendael State of the Union 2026",)), ("cling", ("Thema 3",)),
        ("cling", ("Thema 3", "Europese afschrikking")), ("cling", ("Dankwoord",)),
        ("cling", ("Bijlage", "Wereld A (multipolair – coöperatie): Multipolaire Mambo")),
        ("cling", ("Thema 1", "Kopgroepvorming")), ("cling", ("Thema 1", "EU")),
        ("cling", ("Thema 9", "Een kop die veel te lang is om als vraag te dienen, zeker weten")),
    ]  # fmt: skip
    chunks = [chunk(d, s, i) for i, (d, s) in enumerate(sections)]
    chunks.append(chunk("cling", ("Thema 4", "Kort"), 99, text="Te kort."))
    found = [(t.doc_id, t.heading) for t in topics(chunks, META)]
    assert found == [
        ("hcss", "Techno-nationalisme temmen"),
        ("hcss", "Gevoelige technologieën"),
        ("hcss", "Inlichtingen"),
        ("cling", "Europese afschrikking"),
        ("cling", "Kopgroepvorming"),
    ]  # the repeated "Gevolgen voor Nederland en Europa" says nothing on its own


def test_topics_alternate_between_reports_and_a_seed_rotates_them() -> None:
    items = [Topic("a", f"a{i}") for i in range(4)] + [Topic("b", f"b{i}") for i in range(2)]
    assert [t.heading for t in interleave(items)] == ["a2", "b1", "a1", "b0", "a3", "a0"]
    rotated = [t.heading for t in interleave(items, seed=1)]
    assert rotated[0].startswith("b") and sorted(rotated) == sorted(t.heading for t in items)
    assert list(interleave([])) == []


def test_questions_are_in_the_interface_language() -> None:
    chunks = [
        chunk("hcss", ("2.", "2.1. Gevoelige technologieën"), 0),
        chunk("cling", ("Thema 1", "Kopgroepvorming"), 1),
        chunk("cling", ("Thema 10", "Gaat het EU-Migratiepact slagen?"), 2),
    ]
    dutch = {q for _, q in candidate_questions(chunks, META, "nl")}
    assert dutch == {
        "Wat zegt het Clingendael-rapport over kopgroepvorming?",
        "Wat zegt het HCSS-rapport over gevoelige technologieën?",
        "Gaat het EU-Migratiepact slagen?",
    }
    english = {q for _, q in candidate_questions(chunks, META, "en")}
    assert english == {
        "What does the Clingendael report say about “Kopgroepvorming”?",
        "What does the HCSS report say about “Gevoelige technologieën”?",
        "What does the Clingendael report say about “Gaat het EU-Migratiepact slagen”?",
    }
    english_report = {"hcss": DocumentMeta("hcss", "Monitor", "h.txt", publisher="HCSS",
                                           language="en")}  # fmt: skip
    (_, question), *_ = candidate_questions(
        [chunk("hcss", ("2. Sensitive technologies",), 0)], english_report, "en"
    )
    assert question == "What does the HCSS report say about sensitive technologies?"


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_example_questions_from_the_bundled_reports_are_answered(assistant, lang: str) -> None:  # type: ignore[no-untyped-def]
    chunks, documents = assistant.index.chunks, assistant.index.documents
    assistant.ask("Wat zegt het HCSS-rapport over gevoelige technologieën?")  # warm up
    started = time.perf_counter()
    questions = example_questions(assistant, lang)
    took = time.perf_counter() - started
    print(f"{lang}: {len(questions)} example questions in {took * 1000:.0f} ms: {questions}")
    assert len(questions) == 4 and len(set(questions)) == 4
    assert all(q.startswith("What does") == (lang == "en") for q in questions)
    topic_of = {q: t for t, q in candidate_questions(chunks, documents, lang)}
    assert set(questions) <= set(topic_of)  # drawn from the reports' headings
    assert {topic_of[q].doc_id for q in questions} == set(documents)  # spread over both
    for question in questions:
        topic = topic_of[question]
        sections = {c.section for c in chunks if c.doc_id == topic.doc_id}
        paths = {s[:depth] for s in sections for depth in range(1, len(s) + 1)}
        path = next(p for p in paths if strip_numbering(p[-1]) == topic.heading)
        assert not is_back_matter(path), path  # not a contents, colophon, appendix, ... section
        answer = assistant.ask(question)
        assert not answer.refused and answer.citations, question
        assert topic.doc_id in {c.passage.doc_id for c in answer.citations}
    # the same index gives the same questions; another seed others, as well answered
    assert example_questions(assistant, lang) == questions
    other = example_questions(assistant, lang, n=2, seed=1)
    assert len(other) == 2 and other != questions[:2]
