"""Tests of the ingest readers; every input file is generated in tmp_path."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import docx
import pytest
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from fpdf import FPDF
from pdfminer.layout import LTTextBoxHorizontal
from PIL import Image
from pypdf import PdfReader, PdfWriter

from ingest.language import guess_language
from ingest.readers import SUPPORTED_SUFFIXES, is_readable, read_raw
from ingest.readers.markdown import inline_text
from ingest.readers.meta import doc_id_for, title_from_stem
from ingest.readers.pdf import reading_order
from ingest.settings import ReadLimits
from ingest.types import Block, IngestError

REPORTS = Path(__file__).resolve().parents[1] / "data" / "reports"

DUTCH = (
    "De regering heeft het voorstel van de minister niet aangenomen, maar dat is nog niet alles."
)
LEFT_1 = [f"Links alinea een, regel {i}" for i in range(1, 5)]
LEFT_2 = [f"Links alinea twee, regel {i}" for i in range(1, 4)]
RIGHT_1 = [f"Rechts alinea een, regel {i}" for i in range(1, 5)]
RIGHT_2 = [f"Rechts alinea twee, regel {i}" for i in range(1, 4)]


# --- builders ------------------------------------------------------------------------------------


def _png(tmp_path: Path) -> Path:
    image = tmp_path / "figuur.png"
    Image.new("RGB", (40, 40), (200, 30, 30)).save(image)
    return image


def make_pdf(path: Path, *, title: str | None = "Europese Veiligheid in Beeld") -> Path:
    """Four pages: cover (label i), chapter 1 (label 1), two columns (2), an image-only page (3)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    if title:
        pdf.set_title(title)

    pdf.add_page()
    pdf.set_page_label("r")
    pdf.set_font("Helvetica", size=24)
    pdf.cell(0, 12, "Europese Veiligheid in Beeld")
    pdf.ln(20)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, "Een rapport van het instituut voor de minister.")

    pdf.add_page()
    pdf.set_page_label("D", label_start=1)
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "1. Inleiding")
    pdf.ln(14)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(
        0,
        5,
        "Benjamin Franklin vermaande zijn mede-\nondertekenaars op beroemde wijze.\n"
        "Dat is een les die voor de lidstaten van de Unie nog steeds geldt.",
    )
    pdf.ln(8)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, "1.1 Achtergrond")
    pdf.ln(10)
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, DUTCH)

    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 10, "2. Twee kolommen")
    pdf.ln(14)
    pdf.set_font("Helvetica", size=11)
    top = pdf.get_y()
    # Paragraph gaps at the same height in both columns: a plain top-to-bottom sort interleaves.
    for x, first, second in ((10, LEFT_1, LEFT_2), (110, RIGHT_1, RIGHT_2)):
        pdf.set_xy(x, top)
        pdf.multi_cell(85, 5, "\n".join(first))
        pdf.set_xy(x, top + 30)
        pdf.multi_cell(85, 5, "\n".join(second))
    pdf.set_xy(10, 250)
    pdf.multi_cell(
        0, 5, "Slotalinea over de volle breedte, na beide kolommen. " + DUTCH + " " + DUTCH
    )

    pdf.add_page()
    pdf.image(str(_png(path.parent)), x=20, y=20, w=50)
    pdf.output(str(path))
    return path


def make_image_pdf(path: Path) -> Path:
    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.image(str(_png(path.parent)), x=20, y=20, w=120)
    pdf.output(str(path))
    return path


def encrypt(source: Path, target: Path, *, user_password: str) -> Path:
    writer = PdfWriter(clone_from=source)
    writer.encrypt(user_password, "eigenaar", algorithm="AES-128")
    with target.open("wb") as handle:
        writer.write(handle)
    return target


FOOTNOTES_XML = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b'<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    b'<w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">Zie het jaarverslag 2024.</w:t>'
    b"</w:r></w:p></w:footnote></w:footnotes>"
)


def make_docx(path: Path) -> Path:
    document = docx.Document()
    document.core_properties.title = "Beleidsnotitie Digitale Weerbaarheid"
    document.add_paragraph("Beleidsnotitie", style="Title")
    document.add_heading("Inleiding", level=1)
    paragraph = document.add_paragraph("Nederland moet zijn digitale infrastructuur beschermen.")
    reference = OxmlElement("w:footnoteReference")
    reference.set(qn("w:id"), "1")
    paragraph.add_run()._r.append(reference)
    document.add_paragraph("eerste punt", style="List Bullet")
    document.add_paragraph("tweede punt", style="List Bullet")
    document.add_paragraph("aanbeveling een", style="List Number")
    document.add_paragraph("aanbeveling twee", style="List Number")
    document.add_heading("Cijfers", level=2)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [["Land", "2024", "2025"], ["NL", "1,2", "1,4"], ["Bron: CBS", "", ""]]
    ):
        for c, value in enumerate(row):
            if value:
                table.cell(r, c).text = value
    table.cell(2, 0).merge(table.cell(2, 2))
    document.add_paragraph("Tekst na de tabel.")
    document.add_heading("Conclusie", level=1)
    footnotes = Part(
        PackURI("/word/footnotes.xml"),
        CONTENT_TYPE.WML_FOOTNOTES,
        FOOTNOTES_XML,
        document.part.package,
    )
    document.part.relate_to(footnotes, RELATIONSHIP_TYPE.FOOTNOTES)
    document.save(str(path))
    return path


HTML_PAGE = """<!DOCTYPE html>
<html lang="nl"><head><meta charset="utf-8"><title>Digitale weerbaarheid | Instituut</title>
<style>.x { color: red }</style><script>var tracking = "SCRIPTTEKST";</script></head>
<body>
<header class="site"><a href="/">INSTITUUTLOGO</a></header>
<nav><ul><li>Home</li><li>NAVIGATIETEKST</li></ul></nav>
<div id="cookie-banner">Wij gebruiken COOKIETEKST. <button>Akkoord</button></div>
<main>
  <article>
    <header><h1>Digitale   weerbaarheid</h1><p>Door A. Jansen</p></header>
    <p>Nederland&nbsp;moet zijn
       digitale <b>infra</b>structuur beschermen.</p>
    <p style="display: none">VERBORGENTEKST</p>
    <h2>Aanbevelingen</h2>
    <ul><li>Benoem kritieke <a href="#">diensten</a><ul><li>ook cloud</li></ul></li>
        <li><p>Bescherm</p><p>ze</p></li></ul>
    <ol start="3"><li>Bouw</li><li>Beheer</li></ol>
    <table><caption>Tabel 1. Uitgaven</caption>
      <tr><th>Land</th><th>2024</th></tr><tr><td>NL</td><td>1,2</td></tr></table>
    <blockquote><p>Digitale soevereiniteit is geen luxe.</p></blockquote>
    <div>Losse tekst in een div.<p>En een alinea.</p></div>
    <aside>ZIJBALKTEKST</aside>
    <form><input value="ZOEKTEKST"></form>
  </article>
</main>
<div role="contentinfo">CONTENTINFOTEKST</div>
<footer>FOOTERTEKST</footer>
<script>console.log("MEERSCRIPT")</script>
</body></html>
"""

MARKDOWN = """# Europese Strategische Autonomie

Een **eerste** alinea die over
twee regels loopt, met een [link](https://example.org) en *nadruk*.

## Aanbevelingen

- Benoem kritieke diensten
  die over twee regels lopen
- Bescherm ze
1. Bouw
2. Beheer

| Land | 2024 |
|------|-----:|
| NL   | 1,2  |

> Een citaat
> over twee regels.

```
code_blok = 1
```

Voetnoot hier[^1] en snake_case_naam blijft.

[^1]: De bron.
"""


# --- PDF -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pdf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pdf(tmp_path_factory.mktemp("pdf") / "rapport.pdf")


def test_pdf_one_raw_block_per_page_with_labels(pdf_path: Path) -> None:
    doc = read_raw(pdf_path)
    assert doc.page_count == 4
    assert all(block.kind == "raw" for block in doc.blocks)
    # The image-only page 4 has no text and no block; labels come from /PageLabels.
    assert [(b.page, b.page_label) for b in doc.blocks] == [(1, "i"), (2, "1"), (3, "2")]
    assert doc.meta.title == "Europese Veiligheid in Beeld"
    assert doc.meta.doc_id == "rapport"
    assert doc.meta.source_file == "rapport.pdf"
    assert doc.meta.language == "nl"


def test_pdf_keeps_line_breaks_hyphens_and_heading_order(pdf_path: Path) -> None:
    text = read_raw(pdf_path).blocks[1].text
    assert "mede-\nondertekenaars op beroemde wijze.\nDat is" in text
    positions = [text.index(s) for s in ("1. Inleiding", "Benjamin", "1.1 Achtergrond", "regering")]
    assert positions == sorted(positions)
    assert "1. Inleiding\n\nBenjamin" in text  # text boxes are separated by a blank line


def test_pdf_two_columns_read_column_by_column(pdf_path: Path) -> None:
    text = read_raw(pdf_path).blocks[2].text
    order = ["2. Twee kolommen", *LEFT_1, *LEFT_2, *RIGHT_1, *RIGHT_2, "Slotalinea"]
    positions = [text.index(line) for line in order]
    assert positions == sorted(positions)
    assert "\n".join(LEFT_1) in text  # the lines of a paragraph stay together


def test_pdf_without_title_metadata_gets_readable_stem(tmp_path: Path) -> None:
    doc = read_raw(make_pdf(tmp_path / "europese-veiligheid_2024.pdf", title=None))
    assert doc.meta.title == "Europese veiligheid 2024"


def test_pdf_labels_set_with_pypdf(tmp_path: Path, pdf_path: Path) -> None:
    writer = PdfWriter(clone_from=pdf_path)
    writer.set_page_label(0, 0, style="/A", start=1)  # cover: "A"
    writer.set_page_label(1, 3, style="/D", prefix="p. ", start=10)
    target = tmp_path / "labels.pdf"
    with target.open("wb") as handle:
        writer.write(handle)
    labels = [b.page_label for b in read_raw(target).blocks]
    assert labels == ["A", "p. 10", "p. 11"]


def test_pdf_without_page_labels_has_none(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, DUTCH)
    target = tmp_path / "kaal.pdf"
    pdf.output(str(target))
    assert [(b.page, b.page_label) for b in read_raw(target).blocks] == [(1, None)]


def test_pdf_encrypted_without_user_password_is_read(tmp_path: Path, pdf_path: Path) -> None:
    doc = read_raw(encrypt(pdf_path, tmp_path / "owner.pdf", user_password=""))
    assert [b.page for b in doc.blocks] == [1, 2, 3]


def test_pdf_encrypted_with_password_is_refused(tmp_path: Path, pdf_path: Path) -> None:
    target = encrypt(pdf_path, tmp_path / "geheim.pdf", user_password="geheim")
    with pytest.raises(IngestError, match=r"geheim\.pdf.*encrypted.*unprotected copy"):
        read_raw(target)


def test_pdf_scanned_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"scan\.pdf.*no extractable text.*OCR"):
        read_raw(make_image_pdf(tmp_path / "scan.pdf"))


def test_pdf_random_bytes_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "kapot.pdf"
    target.write_bytes(random.Random(7).randbytes(4000))
    with pytest.raises(IngestError, match=r"kapot\.pdf.*not a PDF"):
        read_raw(target)


def test_pdf_garbage_after_header_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "kapot.pdf"
    target.write_bytes(b"%PDF-1.7\n" + random.Random(8).randbytes(4000))
    with pytest.raises(IngestError, match=r"kapot\.pdf.*damaged or truncated"):
        read_raw(target)


def test_pdf_truncated_is_refused(tmp_path: Path, pdf_path: Path) -> None:
    data = pdf_path.read_bytes()
    target = tmp_path / "half.pdf"
    target.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(IngestError, match=r"half\.pdf.*damaged or truncated"):
        read_raw(target)


def _raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF written by hand, for structures fpdf2 does not make."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _stream(entries: bytes, body: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (entries, len(body), body)


def test_pdf_text_inside_a_form_xobject_is_read(tmp_path: Path) -> None:
    # Some exporters draw a whole page from a form XObject; pdfminer calls that a figure.
    target = tmp_path / "formulier.pdf"
    target.write_bytes(
        _raw_pdf(
            [
                b"<< /Type /Catalog /Pages 2 0 R >>",
                b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /XObject << /X1 4 0 R >> >> /Contents 5 0 R >>",
                _stream(
                    b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] "
                    b"/Resources << /Font << /F1 6 0 R >> >>",
                    b"BT /F1 12 Tf 72 700 Td (Tekst in een formulier-object.) Tj ET",
                ),
                _stream(b"", b"q /X1 Do Q"),
                b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            ]
        )
    )
    doc = read_raw(target)
    assert [(b.text, b.page) for b in doc.blocks] == [("Tekst in een formulier-object.", 1)]


def _box(x0: float, y0: float, x1: float, y1: float) -> LTTextBoxHorizontal:
    box = LTTextBoxHorizontal()
    box.set_bbox((x0, y0, x1, y1))
    return box


def test_reading_order_single_column_is_top_to_bottom() -> None:
    heading, body, short, number = (
        _box(50, 700, 150, 720),
        _box(50, 500, 550, 690),
        _box(50, 450, 200, 490),
        _box(530, 40, 550, 52),
    )
    assert reading_order([number, short, body, heading]) == [heading, body, short, number]


def test_reading_order_short_right_column_comes_after_whole_left_column() -> None:
    left = [_box(50, 600, 290, 740), _box(50, 400, 290, 590), _box(50, 100, 290, 390)]
    right = [_box(310, 600, 550, 740)]
    assert reading_order([right[0], *reversed(left)]) == [*left, *right]


def test_reading_order_two_columns_under_a_title() -> None:
    title = _box(50, 760, 550, 790)
    left = [_box(50, 600, 290, 740), _box(50, 400, 290, 590)]
    right = [_box(310, 600, 550, 740), _box(310, 400, 550, 590)]
    footer = _box(50, 100, 550, 150)
    shuffled = [right[1], footer, left[1], title, right[0], left[0]]
    assert reading_order(shuffled) == [title, *left, *right, footer]


# --- DOCX ----------------------------------------------------------------------------------------


def test_docx_blocks_in_body_order(tmp_path: Path) -> None:
    doc = read_raw(make_docx(tmp_path / "notitie.docx"))
    assert [(b.kind, b.text, b.level) for b in doc.blocks] == [
        ("heading", "Beleidsnotitie", 1),
        ("heading", "Inleiding", 1),
        ("paragraph", "Nederland moet zijn digitale infrastructuur beschermen.", 0),
        ("list_item", "- eerste punt", 0),
        ("list_item", "- tweede punt", 0),
        ("list_item", "1. aanbeveling een", 0),
        ("list_item", "2. aanbeveling twee", 0),
        ("heading", "Cijfers", 2),
        ("table_row", "Land | 2024 | 2025", 0),
        ("table_row", "NL | 1,2 | 1,4", 0),
        ("table_row", "Bron: CBS", 0),
        ("paragraph", "Tekst na de tabel.", 0),
        ("heading", "Conclusie", 1),
        ("footnote", "1 Zie het jaarverslag 2024.", 0),
    ]
    assert all(b.page is None for b in doc.blocks)
    assert doc.page_count == 0
    assert doc.meta.title == "Beleidsnotitie Digitale Weerbaarheid"


W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _level(ilvl: int, fmt: str, text: str) -> str:
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
    )


def _numbered(document: Any, text: str, style: str, num_id: int, ilvl: int = 0) -> None:
    paragraph = document.add_paragraph(text, style=style)
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = ilvl
    num_pr.get_or_add_numId().val = num_id


def test_docx_numbered_headings_and_lettered_lists(tmp_path: Path) -> None:
    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.insert(
        0,
        parse_xml(
            f'<w:abstractNum {W_NS} w:abstractNumId="90">'
            f"{_level(0, 'decimal', '%1')}{_level(1, 'decimal', '%1.%2')}</w:abstractNum>"
        ),
    )
    numbering.insert(
        1,
        parse_xml(
            f'<w:abstractNum {W_NS} w:abstractNumId="91">'
            f"{_level(0, 'lowerLetter', '%1)')}{_level(1, 'lowerRoman', '(%2)')}</w:abstractNum>"
        ),
    )
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    numbering.append(parse_xml(f'<w:num {W_NS} w:numId="91"><w:abstractNumId w:val="91"/></w:num>'))
    numbering.append(
        parse_xml(
            f'<w:num {W_NS} w:numId="92"><w:abstractNumId w:val="91"/>'
            '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>'
        )
    )
    _numbered(document, "Inleiding", "Heading 1", 90)
    _numbered(document, "Achtergrond", "Heading 2", 90, 1)
    _numbered(document, "Doel", "Heading 2", 90, 1)
    _numbered(document, "eerste", "Normal", 91)
    _numbered(document, "onderdeel", "Normal", 91, 1)
    _numbered(document, "tweede", "Normal", 91)
    _numbered(document, "Analyse", "Heading 1", 90)
    _numbered(document, "Data", "Heading 2", 90, 1)
    _numbered(document, "opnieuw", "Normal", 92)
    target = tmp_path / "genummerd.docx"
    document.save(str(target))
    assert [(b.kind, b.text, b.level) for b in read_raw(target).blocks] == [
        ("heading", "1 Inleiding", 1),
        ("heading", "1.1 Achtergrond", 2),
        ("heading", "1.2 Doel", 2),
        ("list_item", "a) eerste", 0),
        ("list_item", "(i) onderdeel", 0),
        ("list_item", "b) tweede", 0),
        ("heading", "2 Analyse", 1),
        ("heading", "2.1 Data", 2),
        ("list_item", "a) opnieuw", 0),
    ]


def test_docx_corrupt_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "kapot.docx"
    target.write_bytes(b"PK\x03\x04" + random.Random(3).randbytes(500))
    with pytest.raises(IngestError, match=r"kapot\.docx.*damaged DOCX"):
        read_raw(target)


def test_docx_old_word_format_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "oud.docx"
    target.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    with pytest.raises(IngestError, match=r"oud\.docx.*save it as \.docx"):
        read_raw(target)


# --- HTML ----------------------------------------------------------------------------------------


def test_html_main_text_only(tmp_path: Path) -> None:
    target = tmp_path / "pagina.html"
    target.write_text(HTML_PAGE, encoding="utf-8")
    doc = read_raw(target)
    assert [(b.kind, b.text, b.level) for b in doc.blocks] == [
        ("heading", "Digitale weerbaarheid", 1),
        ("paragraph", "Door A. Jansen", 0),
        ("paragraph", "Nederland moet zijn digitale infrastructuur beschermen.", 0),
        ("heading", "Aanbevelingen", 2),
        ("list_item", "- Benoem kritieke diensten", 0),
        ("list_item", "- ook cloud", 0),
        ("list_item", "- Bescherm ze", 0),
        ("list_item", "3. Bouw", 0),
        ("list_item", "4. Beheer", 0),
        ("paragraph", "Tabel 1. Uitgaven", 0),
        ("table_row", "Land | 2024", 0),
        ("table_row", "NL | 1,2", 0),
        ("quote", "Digitale soevereiniteit is geen luxe.", 0),
        ("paragraph", "Losse tekst in een div.", 0),
        ("paragraph", "En een alinea.", 0),
    ]
    everything = " ".join(b.text for b in doc.blocks)
    noise_words = ("SCRIPT", "NAVIGATIE", "COOKIE", "FOOTER", "CONTENTINFO", "ZIJBALK", "LOGO")
    for noise in (*noise_words, "VERBORGEN", "ZOEK"):
        assert noise not in everything
    assert doc.meta.title == "Digitale weerbaarheid | Instituut"
    assert doc.meta.language == "nl"


def test_html_without_main_uses_body_and_h1_title(tmp_path: Path) -> None:
    target = tmp_path / "kaal.htm"
    target.write_text(
        "<html><body><nav>menu</nav><h1>Rapport</h1><p>Tekst.</p><footer>voet</footer></body>"
        "</html>",
        encoding="utf-8",
    )
    doc = read_raw(target)
    assert [b.text for b in doc.blocks] == ["Rapport", "Tekst."]
    assert doc.meta.title == "Rapport"


def test_html_with_only_navigation_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "menu.html"
    target.write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    with pytest.raises(IngestError, match=r"menu\.html.*no readable text"):
        read_raw(target)


# --- Markdown ------------------------------------------------------------------------------------


def test_markdown_blocks(tmp_path: Path) -> None:
    target = tmp_path / "notitie.md"
    target.write_text(MARKDOWN, encoding="utf-8")
    doc = read_raw(target)
    assert [(b.kind, b.text, b.level) for b in doc.blocks] == [
        ("heading", "Europese Strategische Autonomie", 1),
        (
            "paragraph",
            "Een eerste alinea die over twee regels loopt, met een link en nadruk.",
            0,
        ),
        ("heading", "Aanbevelingen", 2),
        ("list_item", "- Benoem kritieke diensten die over twee regels lopen", 0),
        ("list_item", "- Bescherm ze", 0),
        ("list_item", "1. Bouw", 0),
        ("list_item", "2. Beheer", 0),
        ("table_row", "Land | 2024", 0),
        ("table_row", "NL | 1,2", 0),
        ("quote", "Een citaat over twee regels.", 0),
        ("paragraph", "code_blok = 1", 0),
        ("paragraph", "Voetnoot hier[1] en snake_case_naam blijft.", 0),
        ("footnote", "1 De bron.", 0),
    ]
    assert doc.meta.title == "Europese Strategische Autonomie"


def test_markdown_front_matter_setext_and_wrapped_numbers(tmp_path: Path) -> None:
    target = tmp_path / "fm.markdown"
    target.write_text(
        '---\ntitle: "Titel uit front matter"\n---\nKop\n===\n\nIn het jaar\n2022. Daarna.\n',
        encoding="utf-8",
    )
    doc = read_raw(target)
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("heading", "Kop"),
        ("paragraph", "In het jaar 2022. Daarna."),
    ]
    assert doc.meta.title == "Titel uit front matter"


def test_markdown_inline_markup() -> None:
    assert inline_text("**Vet** _schuin_ `code` ![logo](x.png) <https://a.nl> \\*ster") == (
        "Vet schuin code https://a.nl *ster"
    )


# --- plain text ----------------------------------------------------------------------------------


def test_text_cp1252(tmp_path: Path) -> None:
    target = tmp_path / "oud.txt"
    target.write_bytes(f"Één café – “citaat”\r\n{DUTCH}\x07\r\n".encode("cp1252"))
    doc = read_raw(target)
    assert doc.blocks == (Block("raw", f"Één café – “citaat”\n{DUTCH}\n"),)


def test_text_utf8_bom_and_form_feed_pages(tmp_path: Path) -> None:
    target = tmp_path / "pdftotext.txt"
    target.write_bytes("\ufeffPagina één\fPagina twee\f".encode())
    doc = read_raw(target)
    assert [(b.text, b.page) for b in doc.blocks] == [("Pagina één", 1), ("Pagina twee", 2)]
    assert doc.page_count == 2


def test_text_binary_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "binair.txt"
    target.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestError, match=r"binair\.txt.*neither UTF-8 nor Windows-1252"):
        read_raw(target)


def test_text_whitespace_only_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "leeg.txt"
    target.write_text("  \n\n\t \n")
    with pytest.raises(IngestError, match=r"leeg\.txt.*contains no text"):
        read_raw(target)


# --- metadata ------------------------------------------------------------------------------------


def test_bundled_reports_have_sidecar_metadata() -> None:
    clingendael = read_raw(REPORTS / "clingendael-state-of-the-union-2026.txt").meta
    assert clingendael.title == "State of the Union 2026 – Expert Views"
    assert clingendael.authors == ("René Cuperus", "Frederiek Bax", "Joke Hahn")
    assert (clingendael.publisher, clingendael.date, clingendael.language) == (
        "Instituut Clingendael",
        "2026-03",
        "nl",
    )
    hcss = read_raw(REPORTS / "hcss-strategische-monitor-2022.txt").meta
    assert "Strategische Monitor 2022" in hcss.title
    assert (hcss.publisher, hcss.date, hcss.language, hcss.doc_id) == (
        "HCSS en Instituut Clingendael",
        "2022-01",
        "nl",
        "hcss-strategische-monitor-2022",
    )


@pytest.mark.parametrize("sidecar_name", ["rapport.md.meta.toml", "rapport.meta.toml"])
def test_sidecar_overrides_file_metadata(tmp_path: Path, sidecar_name: str) -> None:
    target = tmp_path / "rapport.md"
    target.write_text("# Titel uit het bestand\n\nThe text is in English, as it happens.\n")
    (tmp_path / sidecar_name).write_text(
        'title = "Titel uit sidecar"\npublisher = "HCSS"\ndate = 2022-01-15\nlanguage = "nl"\n'
        'url = "https://hcss.nl/r"\nauthors = ["A. Jansen", "B.  de Vries"]\n'
        'source_file = "rapport.pdf"\n',
        encoding="utf-8",
    )
    meta = read_raw(target).meta
    assert meta.title == "Titel uit sidecar"
    assert meta.date == "2022-01-15"
    assert meta.language == "nl"
    assert meta.authors == ("A. Jansen", "B. de Vries")
    assert (meta.publisher, meta.url, meta.source_file) == (
        "HCSS",
        "https://hcss.nl/r",
        "rapport.pdf",
    )


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ('date = "maart 2026"', r"key 'date' must be an ISO date"),
        ('date = "2026-13"', r"key 'date' must be an ISO date"),
        ('authors = "A. Jansen"', r"key 'authors' must be a list"),
        ('titel = "X"', r"unknown key 'titel'"),
        ("title = 12", r"key 'title' must be a quoted string"),
        ('language = "Nederlands"', r"key 'language' must be a language code"),
        ('url = "hcss.nl"', r"key 'url' must start with http"),
        ("date = 2026-03", r"is not valid TOML"),
    ],
)
def test_invalid_sidecar_is_refused(tmp_path: Path, content: str, pattern: str) -> None:
    target = tmp_path / "rapport.txt"
    target.write_text(DUTCH)
    (tmp_path / "rapport.txt.meta.toml").write_text(content + "\n")
    with pytest.raises(
        IngestError, match=r"rapport\.txt\.meta\.toml \(metadata for rapport\.txt\)"
    ):
        read_raw(target)
    with pytest.raises(IngestError, match=pattern):
        read_raw(target)


def test_language_guess() -> None:
    english = "The government has not adopted the proposal of the minister."
    for text, language in ((DUTCH, "nl"), (english, "en"), ("2024 1,2 NL", "")):
        assert guess_language(text, min_words=5, margin=1.5) == language


def test_doc_id_and_title_from_stem() -> None:
    assert (
        doc_id_for(Path("hcss-strategische-monitor-2022.txt")) == "hcss-strategische-monitor-2022"
    )
    assert doc_id_for(Path("a_b.v2.pdf")) == "a_b.v2"
    assert doc_id_for(Path("Rapport Europese Veiligheid (2024).pdf")) == (
        "rapport-europese-veiligheid-2024"
    )
    assert doc_id_for(Path("Één rapport.md")) == "een-rapport"
    assert title_from_stem("state-of-the-union_2026") == "State of the union 2026"


# --- refusals common to every format -------------------------------------------------------------


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_empty_file_is_refused(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"leeg{suffix}"
    target.write_bytes(b"")
    with pytest.raises(IngestError, match=rf"leeg\{suffix}: is empty"):
        read_raw(target)


def test_unsupported_suffix_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "rapport.odt"
    target.write_bytes(b"inhoud")
    with pytest.raises(IngestError, match=r"rapport\.odt: unsupported file type '\.odt'.*\.pdf"):
        read_raw(target)


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "groot.txt"
    target.write_text(DUTCH * (2**20 // len(DUTCH) + 1))
    refusal = r"groot\.txt: is [\d,]+ bytes \(1\.0 MiB\), over the limit of 1 MiB for \.txt"
    with pytest.raises(IngestError, match=refusal):
        read_raw(target, limits=ReadLimits(max_text_mib=1))
    assert read_raw(target, limits=ReadLimits(max_text_mib=2)).blocks


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match=r"weg\.pdf: no such file"):
        read_raw(tmp_path / "weg.pdf")


def test_is_readable() -> None:
    assert is_readable(Path("a.PDF"))
    assert not is_readable(Path("a.meta.toml"))
    assert not is_readable(Path("a.odt"))


def test_pdf_bytes_roundtrip_sanity(pdf_path: Path) -> None:
    # The fixture itself is a valid PDF with four pages (guards the builders above).
    assert len(PdfReader(io.BytesIO(pdf_path.read_bytes())).pages) == 4
