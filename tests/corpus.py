"""A small generated test corpus: three short reports in three formats and two languages.

The suite's tests that are not about the bundled reports (incremental ingest, the CLI's first
contact, a page that needs some index) use this corpus instead of the two bundled reports: its
index is built once per session in a few seconds (``small_index_path`` in conftest.py).

- ``noordzee-infrastructuur-2024.pdf`` (Dutch): four pages — a cover with a roman page label,
  numbered sections and a subsection, running headers and page numbers, superscript footnote
  markers with their footnotes at the page foot, and a table.
- ``arctic-shipping-2025.md`` (English): numbered sections, a Markdown table and footnotes.
- ``kustwacht-caribisch-gebied-2023.html`` (Dutch): a web page with navigation around the text.

Each has a ``.meta.toml`` sidecar as ``data/reports`` does. Everything is written from the
constants below, so two sessions index the same text.

Example::

    folder = write_corpus(tmp_path / "reports")
    sorted(p.name for p in folder.iterdir())[:2]
    # ['arctic-shipping-2025.md', 'arctic-shipping-2025.meta.toml']
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fpdf import FPDF

from index.indexer import IndexStats, update_index
from ingest import discover, prepare, read_batch
from ingest.settings import ChunkSettings

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

NOORDZEE = "noordzee-infrastructuur-2024"
ARCTIC = "arctic-shipping-2025"
KUSTWACHT = "kustwacht-caribisch-gebied-2023"
DOC_IDS = (ARCTIC, KUSTWACHT, NOORDZEE)
"""The corpus's doc ids, in the order ``discover`` finds the files."""

QUESTIONS: tuple[tuple[str, str], ...] = (
    ("Hoeveel kilometer kabels en leidingen ligt er op de Nederlandse zeebodem?", NOORDZEE),
    ("Welke sabotage van pijpleidingen in de Oostzee noemt de notitie?", NOORDZEE),
    ("Wat beveelt de notitie aan voor de bewaking van de Noordzee?", NOORDZEE),
    ("Why has traffic on the Northern Sea Route grown?", ARCTIC),
    ("How many transits did the Northern Sea Route see in 2024?", ARCTIC),
    ("What should European ports invest in instead of the Arctic route?", ARCTIC),
    ("Welke taken heeft de Kustwacht in het Caribisch gebied?", KUSTWACHT),
    ("Hoeveel drugs onderschepte de Kustwacht in 2022?", KUSTWACHT),
    ("Which NATO members patrol the North Sea together?", NOORDZEE),
    ("Waarom wil de Kustwacht nieuwe patrouilleschepen?", KUSTWACHT),
)
"""(question, the report that answers it): each answered by one report of the corpus."""

ANSWERED = "Hoeveel kilometer kabels en leidingen ligt er op de Nederlandse zeebodem?"
"""A question the corpus answers with a citation (used by the CLI and page tests)."""

CHANGE = ("icebreakers", "ice-breaking ships")
"""A word that stands once in the Markdown report, and what a test changes it into."""

# --- the PDF ---------------------------------------------------------------------------------

PDF_TITLE = "Kwetsbare infrastructuur op de Noordzee"
PDF_HEADER = "Kwetsbare infrastructuur  |  Noordzee"

PDF_PAGES: tuple[tuple[tuple[str, str], ...], ...] = (
    (
        ("h1", "1. Inleiding"),
        (
            "p",
            "Onder de Noordzee ligt een dicht netwerk van kabels en leidingen. Op de "
            "Nederlandse zeebodem liggen ruim 4.500 kilometer pijpleidingen en ruim 6.000 "
            "kilometer elektriciteits- en datakabels.¹ Via dit netwerk stroomt een groot deel "
            "van het aardgas, de windstroom en het internetverkeer van Nederland.",
        ),
        (
            "p",
            "Deze notitie beschrijft hoe kwetsbaar die infrastructuur is en wat het kabinet "
            "kan doen om haar te beschermen. Zij bouwt voort op gesprekken met de Kustwacht, "
            "de Koninklijke Marine en de netbeheerders.",
        ),
        ("h2", "1.1 Aanleiding"),
        (
            "p",
            "In september 2022 werden de Nord Stream-pijpleidingen in de Oostzee door "
            "explosies beschadigd. Sindsdien geldt sabotage van onderzeese infrastructuur "
            "niet langer als een theoretisch risico.² Ook in de Noordzee zijn schepen "
            "waargenomen die langdurig boven kabels en windparken bleven liggen.",
        ),
        (
            "note",
            "1 Rijkswaterstaat, ‘Noordzeeprogramma 2022-2027’, maart 2022.\n"
            "2 Algemene Inlichtingen- en Veiligheidsdienst, ‘Jaarverslag 2022’, april 2023.",
        ),
    ),
    (
        ("h1", "2. Dreigingen"),
        (
            "p",
            "De dreiging komt uit drie richtingen: sabotage door statelijke actoren, "
            "spionage op datakabels en schade door ankers en visserij. Schade door ankers "
            "komt het vaakst voor; sabotage is zeldzaam maar treft de meest kritieke "
            "verbindingen.",
        ),
        ("table", "Tabel 1. Infrastructuur op de Nederlandse zeebodem"),
        (
            "p",
            "Rusland beschikt over onderzeeërs en onderzoeksschepen die kabels kunnen "
            "opsporen en beschadigen. Het schip Jantar werd in 2023 meermaals in de "
            "Noordzee gevolgd door de marine.³",
        ),
        ("note", "3 Ministerie van Defensie, ‘Kamerbrief over de Noordzee’, 12 juni 2023."),
    ),
    (
        ("h1", "3. Aanbevelingen"),
        (
            "p",
            "Het kabinet zou de bewaking van de Noordzee moeten versterken met sensoren op "
            "de zeebodem, onbemande vaartuigen en vaste patrouilles. Nederland, België, "
            "Duitsland en Noorwegen patrouilleren al samen in NAVO-verband; die samenwerking "
            "verdient een vaste staf en een gedeeld beeld van het scheepvaartverkeer.",
        ),
        (
            "p",
            "Daarnaast moeten netbeheerders reserveonderdelen en reparatieschepen "
            "achter de hand houden, zodat een beschadigde kabel binnen weken en niet binnen "
            "maanden hersteld is.",
        ),
    ),
)
"""The pages after the cover: (kind, text) blocks in reading order."""

PDF_TABLE = (
    ("Soort", "Lengte (km)", "Beheerder"),
    ("Pijpleidingen", "4.500", "Gasunie en anderen"),
    ("Elektriciteitskabels", "2.800", "TenneT"),
    ("Datakabels", "3.300", "Telecombedrijven"),
)


def _write_pdf(path: Path) -> None:
    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    pdf.set_title(PDF_TITLE)
    pdf.set_lang("nl")
    pdf.add_font("D", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("D", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_auto_page_break(False)

    pdf.add_page()
    pdf.set_page_label("r")
    pdf.set_font("D", "B", 22)
    pdf.set_y(60)
    pdf.multi_cell(0, 11, PDF_TITLE)
    pdf.ln(6)
    pdf.set_font("D", "", 12)
    pdf.multi_cell(0, 6, "Een beleidsnotitie van het Instituut voor Maritieme Veiligheid\nMei 2024")

    for number, blocks in enumerate(PDF_PAGES, start=1):
        pdf.add_page()
        if number == 1:
            pdf.set_page_label("D", label_start=1)
        pdf.set_font("D", "", 8)
        pdf.set_y(10)
        pdf.cell(0, 5, PDF_HEADER)
        pdf.set_y(25)
        for kind, text in blocks:
            _pdf_block(pdf, kind, text)
        pdf.set_font("D", "", 8)
        pdf.set_y(285)
        pdf.cell(0, 5, str(number), align="C")
    pdf.output(str(path))


def _pdf_block(pdf: FPDF, kind: str, text: str) -> None:
    if kind in ("h1", "h2"):
        pdf.set_font("D", "B", 15 if kind == "h1" else 12)
        pdf.multi_cell(0, 8, text)
        pdf.ln(3)
    elif kind == "p":
        pdf.set_font("D", "", 11)
        pdf.multi_cell(0, 5.5, text)
        pdf.ln(4)
    elif kind == "table":
        pdf.set_font("D", "B", 10)
        pdf.multi_cell(0, 6, text)
        pdf.set_font("D", "", 10)
        with pdf.table(col_widths=(60, 40, 60), text_align="LEFT") as table:
            for row in PDF_TABLE:
                table.row(row)
        pdf.ln(5)
    elif kind == "note":
        pdf.set_font("D", "", 8)
        pdf.set_y(262)
        pdf.multi_cell(0, 4, text)


# --- the Markdown report ---------------------------------------------------------------------

MARKDOWN = """\
# Shipping lanes in a warming Arctic

## 1. Summary

The Arctic is warming four times faster than the rest of the world. As the summer sea ice \
retreats, the Northern Sea Route along the Russian coast stays open for longer each year. \
Traffic on the route has grown because the ice season is shorter and because Russia sells \
its oil and gas to Asia instead of Europe.

This briefing looks at what that traffic means for European ports, for the environment and \
for NATO's northern flank.

## 2. The Northern Sea Route

The route cuts the voyage from Rotterdam to Shanghai by about a third compared with the Suez \
Canal. In 2024 the Northern Sea Route saw 92 transits, most of them tankers and bulk carriers \
under Russian or Chinese flags.[^1] Russia requires every ship to ask permission and to take a \
Russian pilot on board; it also charges for the escort of its nuclear icebreakers.

| Year | Transits | Cargo (million tonnes) |
|------|---------:|-----------------------:|
| 2021 | 85       | 2.0                    |
| 2023 | 75       | 2.1                    |
| 2024 | 92       | 3.0                    |

China calls itself a "near-Arctic state" and has sent research vessels into the region every \
summer since 2016.[^2] Western insurers remain wary: a ship that breaks down in the East \
Siberian Sea may wait weeks for help.

## 3. Environmental risks

Heavy fuel oil is banned in Arctic waters from July 2024, but ships under the flag of a coastal \
state may keep using it until 2029. An oil spill in ice cannot be cleaned up with the means \
that work in open water, and black carbon from exhausts speeds up the melting of the ice.

## 4. Recommendations

European ports should not count on the Arctic as a new main route: the season is short, \
the risks are high and the route depends on Russian consent. They should instead invest in \
cleaner fuels and in shore power for ships. European governments should support the \
International Maritime Organization in closing the exemptions to the ban on heavy fuel oil, \
and NATO allies should watch Russian and Chinese activity in the High North more closely.

[^1]: Centre for High North Logistics, 'NSR shipping traffic 2024', January 2025.
[^2]: Arctic Institute, 'China's Arctic research expeditions', 2023.
"""

MARKDOWN_META = """\
title = "Shipping lanes in a warming Arctic"
publisher = "Northern Policy Forum"
date = "2025-02"
language = "en"
authors = ["A. Lindqvist"]
"""

# --- the HTML page ---------------------------------------------------------------------------

HTML = """\
<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Kustwacht Caribisch gebied | Instituut</title>
</head><body>
<nav><ul><li>Home</li><li>Publicaties</li></ul></nav>
<main><article>
<h1>De Kustwacht in het Caribisch gebied</h1>
<p>De Kustwacht voor Aruba, Curaçao, Sint Maarten en Caribisch Nederland bewaakt een zeegebied \
dat twintig keer zo groot is als Nederland. Haar taken zijn drugsbestrijding, grenstoezicht, \
visserijcontrole en opsporing en redding op zee.</p>
<h2>Drugsbestrijding</h2>
<p>De eilanden liggen op een smokkelroute van Zuid-Amerika naar Europa en Noord-Amerika. In 2022 \
onderschepte de Kustwacht ruim 5.000 kilo cocaïne, vaak van snelle boten die 's nachts \
varen.</p>
<table><caption>Tabel 1. Onderscheppingen</caption>
<tr><th>Jaar</th><th>Cocaïne (kg)</th></tr>
<tr><td>2021</td><td>3.100</td></tr><tr><td>2022</td><td>5.200</td></tr></table>
<h2>Middelen</h2>
<p>De Kustwacht wil nieuwe patrouilleschepen omdat de huidige cutters meer dan twintig jaar \
oud zijn en te langzaam voor de snelle boten van smokkelaars. De Koninklijke Marine levert \
een stationsschip en een helikopter.</p>
</article></main>
<footer>Instituut voor Maritieme Veiligheid</footer>
</body></html>
"""

HTML_META = """\
title = "De Kustwacht in het Caribisch gebied"
publisher = "Instituut voor Maritieme Veiligheid"
date = "2023-11"
language = "nl"
"""

PDF_META = """\
title = "Kwetsbare infrastructuur op de Noordzee"
publisher = "Instituut voor Maritieme Veiligheid"
date = "2024-05"
language = "nl"
authors = ["J. de Vries", "M. Bakker"]
"""


def write_corpus(folder: Path) -> Path:
    """Write the three reports and their sidecars into ``folder`` (created); returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_pdf(folder / f"{NOORDZEE}.pdf")
    (folder / f"{NOORDZEE}.meta.toml").write_text(PDF_META, encoding="utf-8")
    (folder / f"{ARCTIC}.md").write_text(MARKDOWN, encoding="utf-8")
    (folder / f"{ARCTIC}.meta.toml").write_text(MARKDOWN_META, encoding="utf-8")
    (folder / f"{KUSTWACHT}.html").write_text(HTML, encoding="utf-8")
    (folder / f"{KUSTWACHT}.meta.toml").write_text(HTML_META, encoding="utf-8")
    return folder


def ingest_folder(
    path: Path, reports: Path, embedder: object, *, prune: bool = True, **kwargs: object
) -> IndexStats:
    """Index the reports under ``reports`` into ``path`` as ``legatus ingest reports`` does:
    the files' paths recorded, reports gone from the folder pruned (unless ``prune`` is False),
    files that fail to read kept at their indexed version. ``kwargs`` go to ``update_index``."""
    batch = read_batch(discover([reports]))
    return update_index(
        path,
        prepare(batch),
        ChunkSettings(),
        embedder,  # type: ignore[arg-type]
        prune_under=[reports] if prune else [],
        keep_paths=[f.path for f in batch.failures],
        **kwargs,  # type: ignore[arg-type]
    )
