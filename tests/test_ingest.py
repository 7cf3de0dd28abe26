"""Cleaning, structure and chunking, measured on the bundled reports and on made-up text."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from eval.question_sets import DEV_QUESTIONS
from ingest import Document, chunk
from ingest.chunking import split_sentences
from ingest.clean import clean
from ingest.hyphenation import Vocabulary, join_broken_line
from ingest.settings import ChunkSettings
from ingest.structure import build_document
from ingest.types import Block, DocumentMeta
from tests.conftest import REPORTS

HCSS = "hcss-strategische-monitor-2022"
CLINGENDAEL = "clingendael-state-of-the-union-2026"


def normalise(text: str) -> str:
    """Whitespace-normalised and hyphen-insensitive, as the issue measures evidence."""
    text = text.replace("\u00a0", " ").replace("\u00ad", "")
    text = re.sub(r"(\w)-\s*(\w)", r"\1\2", text)
    return re.sub(r"\s+", " ", text).strip().lower()


@pytest.fixture(scope="session")
def bundled_chunks(bundled_documents):  # type: ignore[no-untyped-def]
    return {doc_id: chunk(doc) for doc_id, doc in bundled_documents.items()}


def _evidence() -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for line in DEV_QUESTIONS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        rows.extend((q["id"], q["doc"], e) for e in q["evidence"])
    return rows


def test_evidence_lies_inside_one_chunk_or_two_adjacent(bundled_documents, bundled_chunks):
    single = pair = 0
    missing = []
    for qid, doc_id, evidence in _evidence():
        wanted = normalise(evidence)
        doc_ids = list(bundled_chunks) if doc_id == "both" else [doc_id]
        if any(wanted in normalise(c.text) for d in doc_ids for c in bundled_chunks[d]):
            single += 1
            continue
        spans = (
            bundled_documents[d].text[a.start : b.end]
            for d in doc_ids
            for a, b in zip(bundled_chunks[d], bundled_chunks[d][1:], strict=False)
        )
        if any(wanted in normalise(s) for s in spans):
            pair += 1
        else:
            missing.append(qid)
    total = single + pair + len(missing)
    assert total >= 55
    assert not missing, f"evidence of {missing} is not inside one or two adjacent chunks"
    assert single / total >= 0.95


def test_no_line_break_hyphenation_survives_in_hcss(bundled_documents, bundled_chunks):
    doc = bundled_documents[HCSS]
    whole_words = set(re.findall(r"\w+", doc.text.lower()))
    source = (REPORTS / f"{HCSS}.txt").read_text(encoding="utf-8")
    hyphenated_in_source = set(re.findall(r"\w+-\w+", source.lower()))  # mid-line only
    for piece in bundled_chunks[HCSS]:
        assert not re.search(r"\w-\n", piece.text)
        # "inte- grale": a hyphen and a space before a lower-case word, unless a conjunction
        # follows ("onderzoeks- en ontwikkelingsbeleid" is Dutch, not damage).
        for head, tail in re.findall(r"(\w+)- ([a-zà-ÿ]\w*)", piece.text):
            assert tail in {"en", "of", "tot"}, f"{head}- {tail} in {piece.id}"
        # "medeon-dertekenaars": a hyphen inside a word that the report writes whole elsewhere
        for head, tail in re.findall(r"\b([a-zà-ÿ]+)-([a-zà-ÿ]+)\b", piece.text):
            if f"{head}-{tail}" not in hyphenated_in_source:
                assert (head + tail) not in whole_words, f"{head}-{tail} in {piece.id}"
    for repaired in ("medeondertekenaars", "integrale", "Momenteel", "gemakkelijker"):
        assert repaired in doc.text


def test_real_compound_hyphens_survive(bundled_documents):
    text = bundled_documents[HCSS].text
    for compound in (
        "EU-lidstaten",
        "trans-Atlantische",
        "Huawei-technologieën",
        "niet-statelijke",
        "Midden-Oosten",
        "techno-nationalisme",
        "onderzoeks- en",
    ):
        assert compound in text, compound


def test_section_paths_of_hcss(bundled_documents):
    paths = [s.label for s in bundled_documents[HCSS].sections]
    chapters = [
        "Samenvatting",
        "1. Inleiding",
        "1. Inleiding › Methodologie",
        "2. Techno-nationalisme temmen › 2.1. Gevoelige technologieën",
        "2. Techno-nationalisme temmen › 2.2. Gevolgen voor Nederland en Europa",
        "2. Techno-nationalisme temmen › 2.3. Beleid en bondgenoten voor Nederland en Europa",
        "3. De lasten delen, de geheimen delen › 3.1. Inlichtingensamen werking",
        "3. De lasten delen, de geheimen delen › 3.2. Gevolgen voor Nederland en Europa",
        "3. De lasten delen, de geheimen delen › 3.3. Beleid en bondgenoten voor Nederland en "
        "Europa",
        "4. Schuivend zand van strategische stabiliteit › 4.1. Wapenbeheersing",
        "4. Schuivend zand van strategische stabiliteit › 4.2. Gevolgen voor Nederland en Europa",
        "4. Schuivend zand van strategische stabiliteit › 4.3. Beleid en bondgenoten voor "
        "Nederland en Europa",
        "5. Identiteit, industrie en interoperabiliteit › 5.1. Defensiematerieelsamenwerking",
        "5. Identiteit, industrie en interoperabiliteit › 5.2. Gevolgen voor Nederland en Europa",
        "5. Identiteit, industrie en interoperabiliteit › 5.3. Beleid en bondgenoten voor "
        "Nederland en Europa",
        "6. Klimaatveiligheid in mondiale hotspots › 6.1. Klimaatverandering",
        "6. Klimaatveiligheid in mondiale hotspots › 6.2. Gevolgen voor Nederland en Europa",
        "6. Klimaatveiligheid in mondiale hotspots › 6.3. Beleid en bondgenoten voor Nederland "
        "en Europa",
        "7. Conclusie",
        "Colofon",
    ]
    assert paths == chapters


def test_section_paths_of_clingendael(bundled_documents):
    sections = bundled_documents[CLINGENDAEL].sections
    top = {s.path[:3] for s in sections if s.path and s.path[0].startswith("Thema")}
    expected_articles = {
        ("Thema 1", "Geopolitiek & governance", "Wat de EU geopolitiek daadkrachtiger kan maken"),
        ("Thema 2", "Europese weerbaarheid", "Afschrikking is niet langer voldoende"),
        ("Thema 2", "Europese weerbaarheid", "Onorthodoxe tijden vergen onorthodoxe maatregelen"),
        ("Thema 3", "Europese afschrikking", "Zes strategische vragen"),
        (
            "Thema 4",
            "Dilemma's van EU-uitbreiding",
            "Uitbreiding ter versterking van de Unie in een volatiele wereld",
        ),
        ("Thema 5", "EU-China relatie na Trumps Amerika", "China eet ons levend op"),
        (
            "Thema 5",
            "EU-China relatie na Trumps Amerika",
            "Na de Amerikaanse zondeval: welke rol speelt Europa in China's toekomst?",
        ),
        (
            "Thema 6",
            "De trans-Atlantische relatie",
            "Drie scenario's voor de toekomst van de trans-Atlantische relatie",
        ),
        (
            "Thema 7",
            "Europese digitale afhankelijkheid",
            "Nederland en de EU: benoem, bescherm, bouw en beheer strategische digitale "
            "infrastructuur",
        ),
        (
            "Thema 8",
            "Europese economische concurrentiekracht",
            "Hoe loopt Europa de achterstand in economische concurrentiekracht in?",
        ),
        (
            "Thema 9",
            "Europees draagvlak",
            "De toekomst van Europees draagvlak: MAGA en de defensie-uitgaven",
        ),
        ("Thema 10", "EU-migratiebeleid", "Gaat het EU-Migratiepact slagen?"),
    }
    assert expected_articles <= top
    themes = [s.path[:2] for s in sections if s.path and s.path[0].startswith("Thema")]
    assert sorted(set(themes), key=lambda p: int(p[0].split()[1])) == [
        ("Thema 1", "Geopolitiek & governance"),
        ("Thema 2", "Europese weerbaarheid"),
        ("Thema 3", "Europese afschrikking"),
        ("Thema 4", "Dilemma's van EU-uitbreiding"),
        ("Thema 5", "EU-China relatie na Trumps Amerika"),
        ("Thema 6", "De trans-Atlantische relatie"),
        ("Thema 7", "Europese digitale afhankelijkheid"),
        ("Thema 8", "Europese economische concurrentiekracht"),
        ("Thema 9", "Europees draagvlak"),
        ("Thema 10", "EU-migratiebeleid"),
    ]
    labels = [s.label for s in sections]
    assert "Inleiding › Op zoek naar de Europa-agenda van Nederland" in labels
    assert any(label.startswith("Bijlage › FUTURES OF EUROPE") for label in labels)
    # The printed start page from the table of contents travels with each theme.
    pages = {s.path[:2]: s.page_label for s in sections if len(s.path) == 2}
    assert pages[("Thema 3", "Europese afschrikking")] == "16"


def test_chunks_keep_their_section_and_rebuild_the_text(bundled_documents, bundled_chunks):
    for doc_id, doc in bundled_documents.items():
        assert_round_trip(doc, bundled_chunks[doc_id])


def assert_round_trip(doc: Document, chunks: list) -> None:  # type: ignore[type-arg]
    rebuilt, cursor = [], 0
    for piece in chunks:
        assert doc.text[piece.start : piece.end] == piece.text
        section = next(s for s in doc.sections if s.start <= piece.start < s.end)
        assert piece.end <= section.end, "a chunk crosses a section boundary"
        assert piece.section == section.path
        if piece.start >= cursor:
            assert not doc.text[cursor : piece.start].strip(), "text lost between chunks"
            rebuilt.append(doc.text[cursor : piece.start] + piece.text)
        else:
            rebuilt.append(piece.text[cursor - piece.start :])
        cursor = max(cursor, piece.end)
    rebuilt.append(doc.text[cursor:])
    assert "".join(rebuilt) == doc.text


def test_cleaning_drops_pull_quotes_and_running_footers_keeps_footnotes_and_tables(
    bundled_documents,
):
    text = bundled_documents[HCSS].text
    # The pull quote abridges a sentence of the running text; only the sentence stays.
    assert normalise(text).count(normalise("De noodzaak om strategische autonomie te")) == 0
    assert normalise(text).count(normalise("De noodzaak om, in deze geest, strategische")) == 1
    assert text.count("is het uitgangspunt voor de Strategische Monitor van dit jaar") == 1
    assert "Samenhangen  |" not in text and "Samenhangen |" not in text
    assert "[1] ‘Strategic Monitor Archives,’ HCSS" in text
    assert "Hypersonic weapons Low Low Medium High" in text
    clingendael = bundled_documents[CLINGENDAEL].text
    assert not re.search(r"^Thema 3 Europese afschrikking\t16$", clingendael, re.M)  # contents
    assert "[1] Aartsma et al." in clingendael or "\n[1] Aartsma" in clingendael


def test_chunk_ids_are_stable_and_depend_on_text(bundled_documents):
    doc = bundled_documents[CLINGENDAEL]
    first, again = chunk(doc), chunk(doc)
    assert [c.id for c in first] == [c.id for c in again]
    assert len({c.id for c in first}) == len(first)
    smaller = chunk(doc, ChunkSettings(size=600, overlap=100))
    assert {c.id for c in smaller} != {c.id for c in first}


def test_chunk_sizes_follow_settings(bundled_chunks):
    cfg = ChunkSettings()
    lengths = [len(c.text) for pieces in bundled_chunks.values() for c in pieces]
    assert max(lengths) <= cfg.size * 1.5
    assert sum(lengths) / len(lengths) >= cfg.size * 0.5
    for piece in bundled_chunks[HCSS]:
        assert piece.header.startswith(piece.title)
        assert piece.embedding_text().endswith(piece.text)


def test_contextual_header_is_not_part_of_the_passage(bundled_chunks):
    piece = next(c for c in bundled_chunks[CLINGENDAEL] if c.section and len(c.section) > 2)
    assert piece.section_label in piece.header
    assert piece.section_label not in piece.text or piece.text.startswith(piece.section[-1])


@pytest.mark.parametrize(
    ("size", "overlap", "match"),
    [(1000, 600, "overlap"), (100, 0, "greater than or equal to 200"), (1000, -1, "greater")],
)
def test_chunk_settings_are_validated(size: int, overlap: int, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        ChunkSettings(size=size, overlap=overlap)


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        ("zijn mede-", "ondertekenaars van", "zijn medeondertekenaars van"),
        ("andere EU-", "lidstaten", "andere EU-lidstaten"),
        ("de trans-", "Atlantische band", "de trans-Atlantische band"),
        ("de onderzoeks-", "en ontwikkelingskosten", "de onderzoeks- en ontwikkelingskosten"),
        ("alle niet-", "statelijke actoren", "alle niet-statelijke actoren"),
        ("zonder streepje", "verder", "zonder streepje verder"),
        ("de zee-", "egel", "de zee-egel"),
    ],
)
def test_line_break_hyphens(left: str, right: str, joined: str) -> None:
    vocab = Vocabulary.from_lines(["de medeondertekenaars", "een zee en een egel"])
    assert join_broken_line(left, right, vocab) == joined


def test_sentences_split_without_breaking_abbreviations() -> None:
    text = "De EU, o.a. Frankrijk, twijfelt. Bijv. dit blijft. Zo gaat het.² Klaar?"
    pieces = [text[a:b] for a, b in split_sentences(text)]
    assert pieces == [
        "De EU, o.a. Frankrijk, twijfelt.",
        "Bijv. dit blijft.",
        "Zo gaat het.²",
        "Klaar?",
    ]


def test_pdf_pages_lose_running_headers_and_keep_page_numbers() -> None:
    pages = []
    for n in range(1, 5):
        body = (
            "Strategische Monitor 2022\n\n"
            f"Dit is de tekst van pagina {'ABCD'[n - 1]}, die over een regel-\n"
            "afbreking loopt en eindigt.\n\n"
            f"Een tweede alinea met {'andere ' * n}woorden.\n\n"
            f"{n + 10}\n"
        )
        pages.append(Block("raw", body, page=n, page_label=str(n + 10)))
    pages.append(Block("raw", "2.1. Een kopje\n\nMet tekst die doorloopt en ein-\ndigt.", page=5))
    blocks = clean(pages)
    texts = [b.text for b in blocks]
    assert "Strategische Monitor 2022" not in texts
    assert not any(re.fullmatch(r"\d+", t) for t in texts)
    assert "Dit is de tekst van pagina C, die over een regelafbreking loopt en eindigt." in texts
    heading = next(b for b in blocks if b.kind == "heading")
    assert heading.text == "2.1. Een kopje" and heading.page == 5
    doc = build_document(DocumentMeta(doc_id="p", title="P", source_file="p.pdf"), blocks)
    pieces = chunk(doc, ChunkSettings(size=200, overlap=0, min_size=0))
    assert pieces[0].page == 1 and pieces[0].page_label == "11"
    assert any(p.section == ("2.1. Een kopje",) and p.page == 5 for p in pieces)
