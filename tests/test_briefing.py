"""The briefing note: Markdown and Word from the same blocks, framed in the question's language,
one quote per block, and report text that can never become a link, an image or HTML."""

from __future__ import annotations

import doctest
import io
import re

import docx
import pytest

from assistant.types import Answer, AnswerSentence, Citation
from assistant.verify import cited_text
from tests.factories import passage
from ui import briefing
from ui.briefing import briefing_docx, briefing_markdown

HOSTILE = (
    '<script>alert("x")</script><img src=x onerror="alert(1)"> ![q](http://evil/x.png) '
    "[klik](http://evil/) <b>vet</b> <a href=x>a</a>"
)


def make_answer(
    quotes: list[tuple[str, str]],
    citations: tuple[Citation, ...],
    *,
    question: str = "Welke methoden gebruikt de Monitor?",
    language: str = "nl",
    lead: str = "Volgens de rapporten:",
    notice: str = "",
) -> Answer:
    """An answer whose sentences cite [1] and whose text is rendered as the assistant does."""
    sentences = tuple(
        AnswerSentence(text=t, citations=(1,), support=1.0, verified=True, heading=h)
        for t, h in quotes
    )
    return Answer(
        question=question,
        answer=f"{lead} {cited_text(sentences)}",
        refused=False,
        language=language,
        sentences=sentences,
        citations=citations,
        retrieved=tuple(c.passage for c in citations),
        notice=notice,
    )


@pytest.fixture
def methods() -> Answer:
    p = passage(text="Methoden: • Casestudies • Deskresearch. De **Monitor** is *breed*.")
    p2 = passage(2, title="State of the Union", publisher="Clingendael", page=None,
                 section_page="16", section="Thema 3")  # fmt: skip
    return make_answer(
        [("Methoden:", "Methodologie"), ("• Casestudies", ""), ("• Deskresearch.", ""),
         ("De **Monitor** is *breed*.", "")],
        (Citation(1, p, ("Methoden: • Casestudies", "De **Monitor** is *breed*.[3]")),
         Citation(2, p2, ())),
        notice="Het taalmodel antwoordde niet op tijd.",
    )  # fmt: skip


def test_the_module_examples_hold() -> None:
    failed, _ = doctest.testmod(briefing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failed == 0


def test_markdown_note_has_title_answer_list_notice_and_one_blockquote_per_quote(
    methods: Answer,
) -> None:
    note = briefing_markdown(methods, "alle geïndexeerde rapporten", "2026-01-01 10:00", lang="en")
    assert note.startswith("# Briefingnotitie: Welke methoden gebruikt de Monitor?\n\n")
    assert "*Opgesteld 2026-01-01 10:00 met Legatus uit alle geïndexeerde rapporten." in note
    assert "## Antwoord\n\nVolgens de rapporten:\n\n*Methodologie*\n\nMethoden: [1]\n\n" in note
    assert "- Casestudies [1]\n- Deskresearch. [1]\n\nDe **Monitor** is *breed*. [1]" in note
    assert "**Let op:** Het taalmodel antwoordde niet op tijd." in note
    assert (
        "## Bronnen\n\n[1] **Monitor** — HCSS, 2022-01, 1. Inleiding › Methodologie, p. 12" in note
    )
    # one quote, one blockquote: each "> " line stands alone between blank lines
    blockquotes = re.findall(r"(?m)^> .*$", note)
    assert blockquotes == [  # a citation without quotes shows its passage
        "> Methoden: • Casestudies",
        "> De **Monitor** is *breed*.",
        "> Eerste zin. Tweede zin over methoden.",
    ]
    assert "\n\n> Methoden: • Casestudies\n\n> De **Monitor**" in note
    # a section without a page says where it starts
    assert "[2] **State of the Union** — Clingendael, 2022-01, Thema 3, sectie vanaf p. 16" in note
    assert "English" not in note and "Sources" not in note and "Answer" not in note


def test_an_english_question_gets_an_english_note_whatever_the_interface(methods: Answer) -> None:
    from dataclasses import replace

    english = replace(methods, question="Which methods?", language="en")
    note = briefing_markdown(english, "all indexed reports", "2026-01-01", lang="nl")
    assert note.startswith("# Briefing note: Which methods?")
    assert "*Prepared 2026-01-01 with Legatus from all indexed reports. Each sentence" in note
    assert "## Answer" in note and "## Sources" in note and "**Note:**" in note
    assert "Thema 3, section from p. 16" in note
    assert "Antwoord" not in note and "Bronnen" not in note
    # no language on the answer: the interface's
    unknown = replace(methods, language="")
    assert "## Sources" in briefing_markdown(unknown, "all", "2026", lang="en")
    assert "## Bronnen" in briefing_markdown(unknown, "alle", "2026", lang="nl")
    assert "## Sources" in briefing_markdown(unknown, "all", "2026", lang="de")


def test_hostile_report_text_never_becomes_markup_in_markdown() -> None:
    p = passage(text=f"Voor {HOSTILE} na.", title=HOSTILE, section=HOSTILE, publisher=HOSTILE)
    a = make_answer(
        [(f"Voor {HOSTILE} na.", HOSTILE), ("- 1998. Begin", "A"), ("1998. Het jaar.", "B")],
        (Citation(1, p, (f"Voor {HOSTILE} na.", "=== kop")),),
        question=f"{HOSTILE}?",
        notice=HOSTILE,
    )
    note = briefing_markdown(a, HOSTILE, "2026-01-01", lang="nl")
    assert re.search(r"(?<!\\)[<\[]", note.replace("[1]", "")) is None  # every < and [ escaped
    assert "\\<script\\>" in note and "!\\[q\\](http://evil/x.png)" in note
    assert "\\[klik\\](http://evil/)" in note and "\\<a href=x\\>a\\</a\\>" in note
    assert "**vet**" in note  # a bare <b> pair from an HTML source is the report's emphasis
    # nothing the report says starts a list, an ordered list or a heading underline
    assert "\n\\- 1998. Begin [1]" in note and "\n1998\\. Het jaar. [1]" in note
    assert "\n> \\=== kop" in note


def test_word_note_has_headings_quote_paragraphs_and_citations(methods: Answer) -> None:
    data = briefing_docx(methods, "alle geïndexeerde rapporten", "2026-01-01 10:00", lang="en")
    document = docx.Document(io.BytesIO(data))
    paragraphs = [(p.style.name if p.style else "", p.text) for p in document.paragraphs]
    assert paragraphs[0] == ("Title", "Briefingnotitie: Welke methoden gebruikt de Monitor?")
    assert paragraphs[1][1].startswith("Opgesteld 2026-01-01 10:00 met Legatus uit alle")
    assert all(r.italic for r in document.paragraphs[1].runs)
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == ["Antwoord", "Bronnen"]
    assert ("List Bullet", "Casestudies [1]") in paragraphs
    assert ("List Bullet", "Deskresearch. [1]") in paragraphs
    assert ("Normal", "Let op: Het taalmodel antwoordde niet op tijd.") in paragraphs
    quotes = [text for style, text in paragraphs if style == "Quote"]
    assert quotes == [
        "Methoden: • Casestudies",
        "De Monitor is breed.",
        "Eerste zin. Tweede zin over methoden.",
    ]
    sources = [text for _, text in paragraphs if text.startswith("[")]
    assert sources == [
        "[1] Monitor — HCSS, 2022-01, 1. Inleiding › Methodologie, p. 12",
        "[2] State of the Union — Clingendael, 2022-01, Thema 3, sectie vanaf p. 16",
    ]
    # the report's own emphasis survives as bold and italic runs
    quote = next(p for p in document.paragraphs if p.text == "De Monitor is breed.")
    assert [(r.text, bool(r.bold), bool(r.italic)) for r in quote.runs] == [
        ("De ", False, False), ("Monitor", True, False), (" is ", False, False),
        ("breed", False, True), (".", False, False),
    ]  # fmt: skip
    assert document.core_properties.title == methods.question
    assert document.core_properties.language == "nl"


def test_word_note_holds_hostile_text_as_plain_text() -> None:
    nasty = HOSTILE + " \x00\x07\x1b\ufffe end"
    p = passage(text=nasty, title=nasty)
    a = make_answer([(nasty, "")], (Citation(1, p, (nasty,)),), question=nasty, language="en")
    document = docx.Document(io.BytesIO(briefing_docx(a, nasty, "2026-01-01", lang="en")))
    texts = [p.text for p in document.paragraphs]
    clean = " ".join(HOSTILE.split()) + " end"
    assert texts[0] == f"Briefing note: {clean}"
    assert f"[1] {clean} — HCSS, 2022-01, 1. Inleiding › Methodologie, p. 12" in texts
    # quoted, a Markdown link shows as its text (as in the chat), <b>vet</b> as a bold run, and
    # the rest as it was
    quoted = clean.replace("![q](http://evil/x.png) [klik](http://evil/)", "!q klik")
    assert quoted.replace("<b>vet</b>", "vet") + " [1]" in texts
    sentence = next(p for p in document.paragraphs if p.text.endswith("end [1]"))
    assert [r.text for r in sentence.runs if r.bold] == ["vet"]
    body = document.element.body.xml
    assert "<script>" not in body and "&lt;script&gt;" in body  # text, not markup
    kinds = {r.reltype.rsplit("/", 1)[-1] for r in document.part.rels.values()}
    assert not kinds & {"hyperlink", "image"} and not document.inline_shapes


def test_a_refusal_is_a_note_without_sources() -> None:
    refusal = Answer(
        question="Hoeveel kost een F-35?",
        answer="De rapporten in de index beantwoorden deze vraag niet.",
        refused=True,
        language="nl",
    )
    note = briefing_markdown(refusal, "alle rapporten", "2026-01-01", lang="en")
    assert note.endswith("## Antwoord\n\nDe rapporten in de index beantwoorden deze vraag niet.\n")
    document = docx.Document(io.BytesIO(briefing_docx(refusal, "alle", "2026", lang="en")))
    assert [p.text for p in document.paragraphs][-1] == refusal.answer
    assert not [p for p in document.paragraphs if p.style and p.style.name == "Quote"]
