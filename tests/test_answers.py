"""The answer composer: question analysis, typed details, lists from the report's structure,
honest refusals, and what an answer may never be (a heading alone, a biography, the colophon)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.detail import anchors, asked_kind, gives_detail
from assistant.evidence import is_biography, is_heading, is_matter, labelled_item, refers_back
from assistant.lists import noun_stem
from assistant.question import analyse
from assistant.refusal import unknown_names
from assistant.sentences import candidates
from assistant.topic import topic_phrase, uncovered_topic
from eval.question_sets import QUESTIONS_DIR, check_against_reports, load_questions
from index.types import SearchFilters

ROOT = Path(__file__).resolve().parents[1]
SETS = sorted(QUESTIONS_DIR.glob("*.jsonl"))
SCENARIOS = "Welke drie scenario's schetst Clingendael voor de trans-Atlantische relatie?"


# --- pure logic ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expects", "count"),
    [
        (SCENARIOS, "list", 3),
        ("What are the four worlds of the Futures of Europe annex?", "list", 4),
        ("Wie is Danny Pronk?", "description", None),
        ("Who presented the scenarios at the conference?", "person", None),
        ("Welk bedrijf heeft Solvinity overgenomen?", "organisation", None),
        ("Hoeveel zou Nederland moeten investeren?", "number", None),
        ("In welk jaar werd de JIATFS opgericht?", "year", None),
        ("Why do the authors argue for eurobonds?", "reason", None),
        ("What does HCSS recommend on intelligence cooperation?", "recommendation", None),
        ("Wat is de hoofdstad van Australië?", "place", None),
        ("Welke gevoelige technologieën noemt het rapport?", "list", None),
    ],
)
def test_questions_are_analysed_in_both_languages(question, expects, count) -> None:
    q = analyse(question)
    assert (q.expects, q.count) == (expects, count)


def test_a_list_of_sections_headed_by_the_asked_noun_is_not_its_items() -> None:
    from assistant.lists import _names_category

    assert analyse("Welke gevoelige technologieën worden genoemd?").list_noun == "technologieën"
    assert _names_category("2.1. Gevoelige technologieën", "technologieën")
    assert not _names_category("Scenario 1: De zure appel", "scenario's")


def test_judgements_and_questions_about_people_are_recognised() -> None:
    assert analyse("En welk scenario is het meest waarschijnlijk?").judgement
    assert analyse("Which option is most likely?").judgement == "most likely"
    assert not analyse("Waarom is dit waarschijnlijk?").judgement
    assert analyse("Aan welke universiteit is Danny Pronk verbonden?").about_people
    assert not analyse("Wat is strategische autonomie?").about_people


def test_a_detail_needs_its_kind_and_its_subject() -> None:
    company = analyse("Welk bedrijf heeft Solvinity overgenomen?")
    terms = anchors(company.text, {"solvinity": 6.0, "overgenom": 2.0})
    assert asked_kind(company) == "organisation" and terms == [("solvinity",)]
    assert not gives_detail(company, "De overname van Solvinity bleek een probleem.", terms)
    assert not gives_detail(company, "Kyndryl kocht een ander bedrijf.", terms)
    assert gives_detail(company, "Solvinity werd overgenomen door Kyndryl.", terms)
    money = analyse("Hoe groot is het budget van het Europees Defensiefonds?")
    assert asked_kind(money) == "money"
    assert gives_detail(
        money, "Het budget van het Defensiefonds is 8 miljard euro.", [("defensiefond",)]
    )
    assert not gives_detail(money, "Het Defensiefonds telt 27 leden.", [("defensiefond",)])
    # a figure answers "het budget" only when it is said to be the budget
    assert not gives_detail(money, "Het Defensiefonds steunt 8 miljard euro aan projecten.",
                            [("defensiefond",)])  # fmt: skip
    when = analyse("Op welke datum hield Macron zijn toespraak in maart 2026?")
    assert asked_kind(when) == "date"
    assert not gives_detail(when, "Macron sprak in maart 2026 over afschrikking.", [])
    assert gives_detail(when, "Macron sprak op 2 maart 2026 over afschrikking.", [])
    # a figure about the Europeans does not answer a question about the Dutch
    share = analyse("What percentage of Dutch people see Trump as an enemy?")
    assert not gives_detail(share, "51% van de Europeanen ziet Trump als vijand.", [("trump",)])
    assert gives_detail(share, "22% van de Nederlanders ziet Trump als vijand.", [("trump",)])
    # an organisation asked for by its kind is given by a name of that kind
    uni = analyse("Aan welke universiteit is Danny Pronk verbonden?")
    pronk = [("danny", "pronk")]
    assert not gives_detail(uni, "Danny Pronk werkt bij het Instituut Clingendael.", pronk)
    assert gives_detail(uni, "Danny Pronk is gastonderzoeker aan de Universiteit Leiden.", pronk)
    # "welke landen" asks for countries by name: a sentence about the clusters names none
    lands = analyse("Welke landen vallen in cluster 7 van de studie?")
    assert asked_kind(lands) == "place"
    clusters = [("cluster",)]
    assert not gives_detail(lands, "De zeven clusters omvatten de landen met de hoogste score.",
                            clusters)  # fmt: skip
    assert gives_detail(lands, "Cluster 7 omvat Mali, Niger en Tsjaad.", clusters)
    assert asked_kind(analyse("Welke bedrijven noemt het rapport?")) == "organisation"
    # a reference to a figure is not a count
    jets = analyse("Hoeveel toestellen koopt Nederland?")
    assert asked_kind(jets) == "count"
    assert gives_detail(jets, "Nederland koopt 52 toestellen.", [("toestel",)])
    assert not gives_detail(jets, "Nederland koopt toestellen (figuur 8).", [("toestel",)])
    # a footnote's source line names bodies and dates of its own: it answers nothing
    assert not gives_detail(company, "9 Tweede Kamer, 'De verkoop van Solvinity', 2026.", terms)


def test_headings_front_matter_and_biographies_are_told_apart() -> None:
    path = ("Thema 6", "Drie scenario's voor de toekomst van de trans-Atlantische relatie")
    assert is_heading("Drie scenario's voor de toekomst van de trans-Atlantische relatie", path)
    assert is_heading("Thema 6 | De trans-Atlantische relatie", ())
    assert is_heading("Inleiding en verantwoording\t4", ())
    assert not is_heading("De trans-Atlantische relatie heeft de voorspelbaarheid verloren.", path)
    assert is_matter(("Colofon",)) and is_matter(("Over de auteurs",))
    assert not is_matter(("7. Conclusie",))
    assert is_biography("Danny Pronk is Senior Research Fellow bij Clingendael.")
    assert is_biography("Expert View door **Ben Knapen** (voormalig minister)")
    assert not is_biography("Nederland is een handelsland met grote belangen.")
    assert refers_back("In dit scenario blijft de VS het veiligheidsanker.")
    assert not refers_back("Europa behoudt de VS als veiligheidsanker.")


def test_headings_are_never_candidates_for_quoting() -> None:
    text = "Drie opties voor Europa\n\nEuropa kan kiezen tussen drie opties die elk iets kosten."
    pool = candidates([text], [("Thema 1", "Drie opties voor Europa")])
    assert [c.text for c in pool] == ["Europa kan kiezen tussen drie opties die elk iets kosten."]


def test_labelled_items_and_list_nouns() -> None:
    assert labelled_item("Het gewenste scenario Scenario 1: De zure appel Europa wil.") == (
        "Scenario", "1", "De zure appel Europa wil."
    )  # fmt: skip
    assert labelled_item("Een zin zonder label.") is None
    assert noun_stem("scenario's") == noun_stem("scenarios") == "scenario"
    assert noun_stem("worlds") == "wereld"


def test_names_no_report_mentions_are_found() -> None:
    vocabulary = "de canadese premier carney sprak in davos. australian strategic policy"
    assert unknown_names("Wat is de hoofdstad van Zweden?", vocabulary) == ["Zweden"]
    assert unknown_names("Wat zei de Canadese premier?", vocabulary) == []
    assert unknown_names("Volgens een Australische denktank?", vocabulary) == []


def test_the_topic_a_question_names_must_stand_in_its_evidence() -> None:
    assert topic_phrase("Wat zeggen de rapporten over stikstof en boeren?") == "stikstof en boeren"
    assert topic_phrase("What does HCSS recommend regarding cyber security?") == "cyber security"
    assert topic_phrase("Hoe kijkt Clingendael aan tegen de uitbreiding?") == "de uitbreiding"
    assert topic_phrase("What is Clingendael's view on the EU migration pact?") == (
        "the EU migration pact"
    )
    # "over" inside a longer question opens a clause, not the question's topic
    assert topic_phrase("Welke minister citeren Knapen en Van Wijk over onderbesteding?") == ""
    assert topic_phrase("Moet de toetreding volgens de thematafel over uitbreiding wachten?") == ""
    idf = {"havens": 8.0, "investering": 4.0, "chines": 3.0, "nederland": 0.5, "draagvlak": 5.0}
    ports = "Wat zegt het rapport over Chinese investeringen in Nederlandse havens?"
    chinese = ["Chinese investeringen in Europese bedrijven nemen toe."]
    cover = uncovered_topic(ports, "nl", chinese, idf, {"nl"})
    # the head of the topic is there, what narrows it down is not: answered, with a notice
    assert cover.missing == ("havens",) and not cover.absent
    assert cover.head == ("chinese", "investeringen")  # "Nederlandse": too common to count
    assert uncovered_topic(ports, "nl", ["Chinese bedrijven"], idf, {"nl"}).absent
    assert not uncovered_topic(ports, "nl", ["Havenbedrijf en investeringen van Chinese"], idf,
                               {"nl"}).missing  # fmt: skip
    # a compound is covered by its parts, a word by a compound holding it
    risk = "Wat zegt HCSS over klimaat als veiligheidsrisico?"
    assert not uncovered_topic(risk, "nl", ["Klimaat en veiligheid: risico's"], {}, {"nl"}).missing
    assert uncovered_topic(risk, "nl", ["Klimaat en veiligheid."], {}, {"nl"}).missing == (
        "veiligheidsrisico",
    )
    assert not uncovered_topic(
        "Wat zegt het rapport over havens?", "nl", ["zeehavens"], {}, {"nl"}
    ).missing
    assert uncovered_topic(
        "Wat zegt het rapport over havens?", "nl", ["handhaven"], {}, {"nl"}
    ).absent
    # a name has no other wording: missing, it takes the topic away; an adjective does not
    brazil = "Wat zegt HCSS over inlichtingensamenwerking met Brazilië?"
    cover = uncovered_topic(brazil, "nl", ["Inlichtingensamenwerking in de EU"], {}, {"nl"})
    assert cover.names == ("brazilie",) and cover.absent
    africa = "Wat zegt het rapport over migratie uit Afrikaanse landen?"
    cover = uncovered_topic(africa, "nl", ["Migratie uit herkomstlanden"], {}, {"nl"})
    assert cover.missing == ("afrikaanse",) and not cover.absent
    # an English question over Dutch reports is checked by its names only
    english = "What does the report say about ports in Rotterdam?"
    assert uncovered_topic(english, "en", ["De haven van Rotterdam"], {}, {"nl"}).checked == (
        "rotterdam",
    )
    assert uncovered_topic(english, "en", ["Antwerpen"], {}, {"nl"}).absent


# --- the question sets ------------------------------------------------------------------------


def test_question_sets_quote_the_reports_verbatim() -> None:
    reports = {
        p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "data" / "reports").glob("*.txt")
    }
    cases = [case for path in SETS for case in load_questions(path)]
    assert len(cases) >= 100 and len({c.id for c in cases}) == len(cases)
    assert check_against_reports(cases, reports) == []
    wide = load_questions(QUESTIONS_DIR / "wide.jsonl")
    assert len(wide) >= 60
    assert sum(c.lang == "en" for c in wide) >= 20
    assert sum(not c.answerable for c in wide) >= 12


# --- answers over the bundled reports ----------------------------------------------------------


@pytest.fixture(scope="module")
def all_answers(all_dev_answers):  # type: ignore[no-untyped-def]
    return all_dev_answers


def test_no_answer_is_a_heading_alone_or_quotes_front_matter(all_answers) -> None:
    for case, answer in all_answers:
        if answer.refused:
            continue
        quotes = [s for s in answer.sentences if s.heading or not s.text.endswith(":")]
        assert quotes, f"{case.id}: no sentence"
        for citation in answer.citations:
            path = citation.passage.section_path
            assert not any(is_heading(s.text, path) for s in answer.sentences), case.id
            if not analyse(case.question).about_people:
                assert not is_matter(path), f"{case.id} cites {citation.passage.section}"
                assert not any(is_biography(q) for q in citation.quotes), case.id


def test_every_citation_of_every_answer_resolves(all_answers) -> None:
    for case, answer in all_answers:
        shown = {p.chunk_id for p in answer.retrieved}
        numbers = {c.n for c in answer.citations}
        assert all(c.passage.chunk_id in shown for c in answer.citations), case.id
        assert all(set(s.citations) <= numbers for s in answer.sentences), case.id


def test_a_list_question_names_the_items_of_its_section(assistant) -> None:
    answer = assistant.ask(SCENARIOS)
    assert not answer.refused and answer.listed
    lead = answer.sentences[0].text
    for name in ("De zure appel", "Koorddans", "De linkerwang"):
        assert name in lead
    assert not answer.answer.startswith("Drie scenario's voor de toekomst")


@pytest.fixture
def cli_ask(bundled_index_path, monkeypatch):  # type: ignore[no-untyped-def]
    """`legatus ask QUESTION --json` over the bundled reports, as a new user runs it."""
    from ui.cli import app

    monkeypatch.setenv("LEGATUS_INDEX__PATH", str(bundled_index_path))
    runner = CliRunner()

    def ask(question: str) -> dict:
        result = runner.invoke(app, ["ask", question, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return ask


def test_cli_answers_and_refuses_as_a_new_user_would_see(cli_ask) -> None:
    ask = cli_ask
    capital = ask("Wat is de hoofdstad van Australië?")
    assert capital["refused"] and capital["language"] == "nl"
    assert "Hefei" not in capital["answer"]
    scenarios = ask(SCENARIOS)
    assert not scenarios["refused"] and "Koorddans" in scenarios["answer"]
    recommend = ask("What does HCSS recommend on intelligence cooperation in the EU?")
    assert not recommend["refused"]
    assert all(c["section"] != "Colofon" for c in recommend["citations"])
    company = ask("Welk bedrijf heeft Solvinity, de IT-dienstverlener achter DigiD, overgenomen?")
    assert company["refused"] and company["refusal"] == "detail"
    assert "naam van de organisatie" in company["answer"]


def test_a_topic_the_reports_do_not_discuss_is_refused_by_name(cli_ask) -> None:
    ask = cli_ask
    housing = ask("Wat zegt HCSS over de woningnood?")
    assert housing["refused"] and housing["refusal"] == "topic"
    assert "niet over “woningnood”" in housing["answer"]
    # a topic the reports treat is answered, from the passages about it
    migration = ask("Wat schrijft Clingendael over het EU-migratiepact?")
    assert not migration["refused"] and not migration["notice"]
    assert any("Migratiepact" in c["section"] for c in migration["citations"])
    # part of a topic missing from every retrieved passage: refused, or said in a notice
    ports = ask("Wat zegt het rapport over Chinese investeringen in Nederlandse havens?")
    assert ports["refused"] or "“havens”" in ports["notice"]


def test_chat_page_refuses_an_unranked_judgement_and_names_a_hiding_filter(
    assistant, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from ui.feedback import FeedbackStore
    from ui.settings import UISettings
    from ui.web import ChatPage

    page = ChatPage(assistant, UISettings(), None, FeedbackStore(tmp_path / "f.sqlite3"))
    first = list(page.respond(SCENARIOS, [], None, None, None, None))[-1]
    turns = first[1]
    assert "Koorddans" in turns[0].answer.answer
    follow = list(page.respond("En welk scenario is het meest waarschijnlijk?", turns,
                               None, None, None, None))[-1]  # fmt: skip
    answer = follow[1][-1].answer
    assert answer.refused and answer.refusal == "judgement"
    assert "afweging" in follow[0][-1]["content"]
    hcss = list(page.respond(SCENARIOS, [], None, ["HCSS"], None, None))[-1]
    hidden = hcss[1][-1].answer
    assert hidden.refused and hidden.refusal == "filter"
    assert "clingendael-state-of-the-union-2026" in hidden.hidden_reports
    assert "State of the Union 2026" in hcss[0][-1]["content"]


def test_filter_refusal_does_not_fire_when_the_filtered_reports_answer(assistant) -> None:
    filters = SearchFilters(publishers=("HCSS",))
    answer = assistant.ask("Welke onderzoeksmethoden gebruikt de Strategische Monitor?",
                           filters=filters)  # fmt: skip
    assert not answer.refused
    assert all("hcss" in c.passage.doc_id for c in answer.citations)


def test_quotes_stand_under_their_section_heading() -> None:
    from assistant.types import Answer, AnswerSentence
    from assistant.verify import cited_text
    from ui import render as page

    sentences = (
        AnswerSentence("Drie scenario's: A; B; C.", (1,), 1.0, True),
        AnswerSentence("Europa kiest A.", (1,), 1.0, True, heading="Drie <scenario's>"),
        AnswerSentence("Of B.", (1,), 1.0, True, heading="Drie <scenario's>"),
        AnswerSentence("Elders C.", (2,), 1.0, True, heading="Conclusie"),
    )
    text = cited_text(sentences)
    assert text == (
        "Drie scenario's: A; B; C. [1] — Drie <scenario's>: Europa kiest A. [1] Of B. [1] "
        "— Conclusie: Elders C. [2]"
    )
    html = page.answer_html(
        Answer(question="?", answer=text, refused=False, sentences=sentences), 0
    )
    assert html.count('class="lg-heading"') == 2 and "Drie &lt;scenario" in html
    assert "<scenario" not in html


def test_table_cells_are_placed_in_their_row_and_column() -> None:
    from assistant.tables import Table

    text = (
        "Inleiding over de opties.\n\n"
        "Het gewenste scenario\tScenario 1: De zure appel Europa breekt.\tScenario 2: Koorddans "
        "Europa balanceert.\n\n"
        "De consequenties\tEscalatie-risico\tHoog. Tarieven worden waarschijnlijk.\tMatig.\n\n"
        "Effect op afschrikking\tOp korte termijn zwakker.\tBlijft hoog."
    )
    table = Table.read(text)
    assert table is not None and table.name(1) == "Scenario 1"
    assert table.columns_named("Hoe hoog is het risico van 'De zure appel'?") == {1}
    assert table.columns_named("What is the risk in scenario 2?") == {0}
    assert table.columns_named("Welke opties zijn er?") == set()
    assert table.place("Tarieven worden waarschijnlijk.") == (
        ("De consequenties", "Escalatie-risico"),
        1,
    )
    assert table.place("Effect op afschrikking Op korte termijn zwakker.") == (
        ("Effect op afschrikking",),
        1,
    )
    assert table.place("Scenario 2: Koorddans Europa balanceert.") == ((), 0)  # the heads
    assert table.place("Inleiding over de opties.") is None


def test_a_question_naming_a_scenario_is_answered_from_its_column(assistant) -> None:
    answer = assistant.ask(
        "In the scenario of a rapid break with US dependence ('De zure appel'), why would "
        "deterrence weaken in the short term?"
    )
    assert not answer.refused
    text = answer.answer
    assert "Op korte termijn verzwakt afschrikking" in text and "Scenario 1" in text
    # the other scenarios' cells of the same row are not its answer
    assert "Afschrikking blijft op korte termijn hoog" not in text


def test_announcements_and_enumerations_bring_their_items() -> None:
    from assistant.expand import with_continuation, with_enumeration
    from assistant.sentences import Candidate

    def pool(*texts: str, paragraphs: tuple[int, ...] = ()) -> list[Candidate]:
        return [Candidate(0, i, t, paragraphs[i] if paragraphs else 0) for i, t in enumerate(texts)]

    counted = pool("Twee factoren spelen een rol.", "Ten eerste A.", "Dat is zo.", "Ten tweede B.")
    assert with_enumeration(counted, [0]) == [0, 1, 3]  # the ordinals, not the elaboration
    # an enumeration ends where another begins
    two = pool("Ten eerste A.", "Ten tweede B.", "Iets anders.", "Ten eerste C.", "Ten tweede D.")
    assert with_enumeration(two, [0]) == [0, 1]
    # an unnumbered announcement in a short sentence brings a few sentences
    several = pool("Het rapport beveelt verschillende doelstellingen aan.", "A.", "B.", "C.", "D.",
                   "E.")  # fmt: skip
    assert with_enumeration(several, [0]) == [0, 1, 2, 3, 4]
    # a paragraph's last sentence brings the bullets under it, not the numbered heading after
    bullets = pool("De EU moet kiezen.", "- Optie een.", "- Optie twee.", "3. Volgende kop",
                   paragraphs=(0, 1, 2, 3))  # fmt: skip
    assert with_enumeration(bullets, [0]) == [0, 1, 2]
    # a sentence cut by a page break counts as one: the explanation after it still comes
    cut = pool("Duitsland bleef gespaard van de", "schok van 2001.", "Destijds exporteerde China.",
               paragraphs=(0, 1, 1))  # fmt: skip
    assert with_continuation(cut, [0], 0) == [0, 1, 2]
