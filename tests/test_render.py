"""Source cards and the reading view as HTML (pure): the report's emphasis and footnotes shown,
everything else escaped, quotes marked across markup, the page of the quoted sentence, the link
to the report, both interface languages; and where pages start inside a passage (ingest, index)."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from assistant.retriever import passage_from_chunk
from assistant.types import Citation, Passage
from index.ranking import join_passages
from index.store import _read_chunks
from index.types import DocumentEntry
from ingest.chunking import chunk
from ingest.settings import ChunkSettings
from ingest.structure import build_document
from ingest.types import Block, Chunk, DocumentMeta
from ui import cards, reader, render
from ui.i18n import missing_keys
from ui.richtext import find, to_html

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> [a](javascript:alert(3))'


def passage(text: str, **kw: object) -> Passage:
    fields: dict[str, object] = {
        "chunk_id": "c1", "doc_id": "hcss-2022", "text": text, "title": "Monitor",
        "section": "1. Inleiding", "score": 1.0, "rank": 1, "publisher": "HCSS",
        "date": "2022-01",
    }  # fmt: skip
    fields.update(kw)
    return Passage(**fields)  # type: ignore[arg-type]


def card(text: str, *quotes: str, turn: int = 0, lang: str = "en", **kw: Any) -> str:
    return render.source_card(Citation(1, passage(text, **kw), quotes), turn, lang=lang)


class _Balance(HTMLParser):
    """Fails on a closing tag that does not close the innermost open element."""

    VOID = {"meta", "link", "br", "img"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack}"
        self.stack.pop()


def well_formed(html_: str) -> bool:
    parser = _Balance()
    parser.feed(html_)
    parser.close()
    return not parser.stack


# --- emphasis, escaping, footnotes ----------------------------------------------------------------


def test_cards_show_the_reports_emphasis_and_escape_all_other_markup() -> None:
    text = (
        "Door **Ben Knapen**, over *America First* en <i>cloud lock-in</i> en <B>vet</B>. "
        f"{HOSTILE} <b onmouseover=x>y</b> <i>open 2 * 3 * 4"
    )
    html_ = card(text)
    assert "<strong>Ben Knapen</strong>" in html_ and "<em>America First</em>" in html_
    assert "<em>cloud lock-in</em>" in html_ and "<strong>vet</strong>" in html_
    assert "<script" not in html_ and "<img" not in html_ and 'href="javascript' not in html_
    assert "&lt;b onmouseover=x&gt;y&lt;/b&gt;" in html_  # a tag with attributes stays text
    assert "&lt;i&gt;open 2 * 3 * 4" in html_  # unmatched, and arithmetic, stay as written
    long_quote = card("Gates: *“" + "if current trends continue, " * 12 + "worth the cost.”*⁵ Zo.")
    assert "<em>“if current" in long_quote and "cost.”</em><sup" in long_quote
    assert well_formed(html_)


def test_hostile_text_is_escaped_in_cards_of_every_kind() -> None:
    html_ = render.passage_card(passage(HOSTILE, title=HOSTILE, section=HOSTILE, doc_id=HOSTILE))
    html_ += card(HOSTILE, HOSTILE, title=HOSTILE, source_file="x.pdf", page=2)
    assert "<script" not in html_ and "<img" not in html_ and 'onerror="' not in html_
    assert "&lt;script&gt;" in html_ and well_formed(html_)


def test_footnote_numbers_do_not_look_like_citation_markers() -> None:
    text = (
        "Het beleid verandert.[2] De kosten stijgen.⁵ Zo te versterken.2\n\n"
        "[2] Frank Bekkers et al., ‘Substantiating’ (HCSS, 2019).\n\n"
        "5 Atlantic Council, [‘Speech by Robert Gates’](#), 10 juni 2011.\n\n"
        "27 lidstaten doen mee, in 10⁶ gevallen, op 12 km² grond."
    )
    html_ = card(text, lang="nl")
    assert "[2]" not in html_ and "](#)" not in html_
    assert html_.count('<sup class="lg-fn" title="voetnoot 2">2</sup>') == 3
    assert html_.count('title="voetnoot 5">5</sup>') == 2
    lines = re.findall(r'<span class="lg-fn-line">(.*?)</span>', html_)
    assert len(lines) == 2 and "Frank Bekkers" in lines[0] and "Robert Gates" in lines[1]
    assert "27 lidstaten" in html_ and "10⁶" in html_ and "km²" in html_  # not footnotes


def test_quotes_are_marked_across_emphasis_footnotes_and_line_breaks() -> None:
    text = "Eerst dit. Volgens **Ben\nKnapen** is *dat* zo.[3] En verder."
    for quote in ("Volgens **Ben Knapen** is *dat* zo.[3]", "Volgens Ben Knapen is dat zo."):
        html_ = card(text, quote, turn=2)
        assert html_.count('<mark id="lg-hit-2-1">') == 1 and well_formed(html_)
        marked = "".join(re.findall(r"<mark[^>]*>(.*?)</mark>", html_, re.S))
        words = re.sub(r"<[^>]+>", "", marked).split()
        assert words == ["Volgens", "Ben", "Knapen", "is", "dat", "zo."]
        assert "<strong>Ben\nKnapen</strong>" in re.sub(r"</?mark[^>]*>", "", html_)


def test_a_quote_that_crosses_emphasis_keeps_the_markup_nested() -> None:
    text = "Zie *de grote lijn. Een* slot."
    spans = find(text, ["Een slot."])
    assert to_html(text, spans, mark_id="m") == (
        'Zie <em>de grote lijn. </em><mark id="m"><em>Een</em> slot.</mark>'
    )


def test_only_the_first_mark_of_a_card_carries_the_hit_id() -> None:
    html_ = card("Een zin hier. Nog iets. Een zin hier.", "Een zin hier.", turn=4)
    assert html_.count("<mark") == 2 and html_.count('id="lg-hit-4-1"') == 1
    assert render.hit_anchor(4, 1) == "lg-hit-4-1"
    assert 'id="lg-hit' not in card("Geen citaat.", "Iets anders.")


# --- pages and links ----------------------------------------------------------------------------


def test_a_card_gives_the_page_of_the_quoted_sentence() -> None:
    text = "Op pagina veertien. Op pagina vijftien staat het citaat."
    paged: dict[str, Any] = {
        "page": 14,
        "page_end": 15,
        "page_starts": ((20, 15, None),),
        "source_file": "r.pdf",
    }
    html_ = card(text, "Op pagina vijftien staat het citaat.", **paged)
    assert "1. Inleiding — p. 15</div>" in html_
    assert 'href="reports/hcss-2022/file#page=15"' in html_
    both = card(text, "Op pagina veertien.", "Op pagina vijftien staat het citaat.", **paged)
    assert "— pp. 14–15</div>" in both and "#page=14" in both
    labelled = {**paged, "page_label": "12", "page_starts": ((20, 15, "13"),)}
    assert "— p. 13</div>" in card(text, "Op pagina vijftien staat het citaat.", **labelled)
    # a passage from an index written before page starts were recorded: its own pages
    old = card(text, "Op pagina vijftien staat het citaat.", page=14, page_end=15)
    assert "— pp. 14–15</div>" in old
    assert "sectie vanaf p. 16" in card(text, "Op pagina veertien.", section_page="16", lang="nl")


def test_cards_link_to_the_report_at_the_cited_place() -> None:
    merged = passage("Tekst.", chunk_id="m", parts=("a1", "a2"), source_file="r.docx")
    html_ = render.passage_card(merged)
    assert 'href="reports/hcss-2022/read?mark=a1,a2#a1"' in html_
    assert 'target="_blank" rel="noopener"' in html_ and "Open the report at this place" in html_
    odd = card("Tekst.", "Tekst.", doc_id='a"b/c?d', lang="nl")
    assert 'href="reports/a%22b%2Fc%3Fd/read?mark=c1#c1"' in odd
    assert "Open het rapport op deze plek" in odd


# --- the interface's words ------------------------------------------------------------------------


@pytest.mark.parametrize("module", [render, cards, reader])
def test_every_text_exists_in_both_languages(module: object) -> None:
    assert missing_keys(module._TEXT) == {}  # type: ignore[attr-defined]


def test_the_panel_speaks_dutch_when_asked_and_english_by_default() -> None:
    from assistant.types import Answer, AnswerSentence

    p = passage("Eerste zin.")
    other = passage("Iets anders.", chunk_id="c2")
    a = Answer(
        question="Wat?", answer="Eerste zin. [1]", refused=False,
        sentences=(AnswerSentence("Eerste zin.", (1,), 1.0, True),),
        citations=(Citation(1, p, ("Eerste zin.",)),), retrieved=(p, other),
    )  # fmt: skip
    en, nl = render.sources_html(a, 1, "x"), render.sources_html(a, 1, "x", lang="nl")
    assert "Sources for answer 2" in en and "Other passages consulted (1), not cited" in en
    assert "Bronnen bij antwoord 2" in nl and "Andere geraadpleegde passages (1)" in nl
    assert "Doorzocht: x" in nl and 'title="Toon bron 1"' in render.answer_html(a, 0, lang="nl")
    assert render.scope_text(None, {}, lang="nl") == "alle geïndexeerde rapporten"
    assert "1 report indexed" in render.header_html(_manifest(1))
    assert "2 rapporten geïndexeerd" in render.header_html(_manifest(2), lang="nl")
    assert "De rapporten worden doorzocht" in render.pending_html(lang="nl")
    assert "&lt;b&gt;" in render.draft_html("<b>concept [1]", lang="nl")


def _manifest(n: int):  # type: ignore[no-untyped-def]
    from index.types import IndexManifest

    docs = {f"d{i}": _entry(f"d{i}", []).model_dump() for i in range(n)}
    return IndexManifest.model_validate(
        {
            "schema_version": 3, "created_at": "2026-01-01T00:00:00+00:00",
            "updated_at": "2026-01-01T00:00:00+00:00",
            "embedding": {"model": "m", "model_id": "m", "dimension": 2, "query_prompt": "q",
                          "passage_prompt": "p"},
            "dense": {"kind": "flat"},
            "lexical": {"tokenizer": "t", "k1": 1.2, "b": 0.75, "section_context": 0},
            "chunking": {}, "counts": {}, "documents": docs,
        }
    )  # fmt: skip


def _entry(doc_id: str, chunks: list[Chunk], **kw: str) -> DocumentEntry:
    fields = {"title": "Rapport", "source_file": "r.md", "content_hash": "0", "language": "nl"}
    fields.update(kw)
    return DocumentEntry(doc_id=doc_id, chunk_ids=[c.id for c in chunks], **fields)  # type: ignore[arg-type]


# --- pages inside passages (ingest, index, the one mapping) ---------------------------------------


def _paged_document():  # type: ignore[no-untyped-def]
    meta = DocumentMeta(doc_id="d", title="D", source_file="d.pdf")
    filler = " Daarna volgt nog een zin die de alinea langer maakt dan honderd tekens."
    blocks = [
        Block("heading", "1. Inleiding", 1, page=1, page_label="i"),
        Block("paragraph", "Een eerste zin staat op de eerste pagina." + filler, 0, 1, "i"),
        Block("paragraph", "Een tweede zin staat op de tweede pagina." + filler, 0, 2, "ii"),
        Block("paragraph", "Een derde zin staat op de derde pagina." + filler, 0, 3, "iii"),
    ]
    return build_document(meta, blocks, page_count=3)


def test_chunks_record_where_later_pages_start_and_passages_carry_it() -> None:
    doc = _paged_document()
    (piece,) = chunk(doc, ChunkSettings(size=1000, overlap=50, min_size=10))
    second, third = doc.text.index("Een tweede"), doc.text.index("Een derde")
    assert (piece.page, piece.page_end) == (1, 3)
    assert piece.page_starts == ((second, 2, "ii"), (third, 3, "iii"))
    meta = DocumentMeta(doc_id="d", title="D", source_file="d.pdf")
    p = passage_from_chunk(piece, meta)
    assert p.source_file == "d.pdf"
    assert p.page_starts == ((second - piece.start, 2, "ii"), (third - piece.start, 3, "iii"))
    assert cards.location(p, find(p.text, ["Een derde zin staat op de derde pagina."])) == "p. iii"


def test_joined_passages_keep_the_page_starts_of_their_parts() -> None:
    doc = _paged_document()
    pieces = chunk(doc, ChunkSettings(size=200, overlap=0, min_size=10))
    assert len(pieces) >= 2
    joined = join_passages(pieces)
    pages = [(page, label) for _, page, label in joined.page_starts]
    assert pages == [(2, "ii"), (3, "iii")]
    assert all(doc.text[at:].startswith("Een") for at, _, _ in joined.page_starts)


def test_a_chunk_store_written_before_page_starts_still_loads(tmp_path: Path) -> None:
    old = Chunk.create("d", "Tekst.", 0, 6, ("S",), title="T", ordinal=0, page=1)
    row = {k: v for k, v in old.__dict__.items() if k != "page_starts"}
    store = tmp_path / "chunks.jsonl"
    store.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (loaded,) = _read_chunks(store)
    assert loaded == old and loaded.page_starts == ()


# --- the reading view --------------------------------------------------------------------------


def test_the_reading_view_has_an_anchor_per_passage_and_marks_the_cited_ones() -> None:
    meta = DocumentMeta(doc_id="d", title=HOSTILE, source_file="d.md", language="nl")
    blocks = [
        Block("heading", "Inleiding", 1),
        Block("paragraph", f"Een zin met **nadruk** en {HOSTILE} erin. " * 3),
        Block("heading", "Deel twee", 2),
        Block("paragraph", "Het beleid verandert.[2] Nog een zin die hier staat. " * 3),
        Block("paragraph", "[2] Frank Bekkers et al., ‘Substantiating’ (HCSS, 2019)."),
    ]
    doc = build_document(meta, blocks)
    pieces = chunk(doc, ChunkSettings(size=200, overlap=60, min_size=20))
    entry = _entry("d", pieces, title=HOSTILE)
    page = reader.reading_view(entry, pieces, {pieces[-1].id}, lang="nl")
    assert well_formed(page) and page.startswith('<!DOCTYPE html><html lang="nl">')
    assert "<script" not in page and "<img" not in page and "&lt;script&gt;" in page
    assert all(page.count(f'id="{c.id}"') == 1 for c in pieces)
    assert '<article lang="nl">' in page and "<h2>Inleiding</h2>" in page
    assert "<h3>Deel twee</h3>" in page and "<strong>nadruk</strong>" in page
    assert page.count("<mark>") >= 1 and f'href="#{pieces[-1].id}"' in page
    assert '<span class="lg-fn-line">' in page and "voetnoot 2" in page
    text = re.sub(r"<[^>]+>", "", page.split("<main>")[1])
    assert text.count("Nog een zin die hier staat.") == 3  # overlaps shown once
