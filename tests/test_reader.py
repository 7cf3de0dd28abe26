"""The reports behind the source cards, served by the page's own server (ui.reader): a real
index of a small PDF and a hostile text report, a real Gradio page (ui.web.build_app + serve) on a
free port, and real HTTP requests — with and without a login."""

from __future__ import annotations

import hashlib
import html
import http.cookiejar
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from assistant.pipeline import Assistant
from assistant.settings import AssistantSettings
from index.indexer import update_index
from index.search import SearchIndex
from ingest import discover, prepare, read_batch
from ingest.settings import ChunkSettings
from tests.web_helpers import free_port
from ui import render
from ui.reader import PDF_POLICY
from ui.security import CONTENT_SECURITY_POLICY
from ui.settings import UISettings
from ui.web import build_app, serve

HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)">'
QUOTE = "De kernparaplu van Frankrijk beschermt volgens het rapport ook Nederland."
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _pdf(path: Path) -> None:
    """Two pages of text; the quoted sentence stands on the second."""
    pdf = FPDF(format="A4")
    pdf.add_font("D", "", str(FONT))
    pdf.set_font("D", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, "Afschrikking in Europa\n\n" + "De eerste pagina gaat over NAVO. " * 12)
    pdf.add_page()
    pdf.multi_cell(0, 6, QUOTE + " Dat staat op de tweede pagina. " * 3)
    pdf.output(str(path))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory, embedder, embedding_settings) -> Any:  # type: ignore[no-untyped-def]
    """An assistant over a real index of ``kernparaplu.pdf`` and ``vijandig.txt``."""
    folder = tmp_path_factory.mktemp("reports")
    _pdf(folder / "kernparaplu.pdf")
    (folder / "vijandig.txt").write_text(
        f"Vijandig rapport\n\nDeze tekst bevat **nadruk** en {HOSTILE} als gewone tekst.\n",
        encoding="utf-8",
    )
    files = discover([folder])
    batch = read_batch(files)
    assert not batch.failures
    index_path = folder.parent / "index"
    update_index(index_path, prepare(batch), ChunkSettings(), embedder)
    index = SearchIndex.load(index_path, embedding_settings, embedder=embedder)
    from ui.live import Loaded

    return Loaded(Assistant(index, embedder, AssistantSettings()), index.manifest)


@pytest.fixture(scope="module")
def page(loaded: Any) -> Iterator[str]:
    """The chat page (no login) on a free loopback port; yields its base URL."""
    settings = UISettings(port=free_port())
    app = build_app(loaded.assistant, settings, loaded.manifest)
    serve(app, settings, prevent_thread_lock=True)
    try:
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        app.close()


def _get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, Any, bytes]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=60) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _doc_id(loaded: Any, suffix: str) -> str:
    return next(d for d, e in loaded.manifest.documents.items() if e.path.endswith(suffix))


def test_a_cards_link_opens_the_indexed_pdf_at_the_page_of_the_quote(
    page: str, loaded: Any
) -> None:
    answer = loaded.assistant.ask("Beschermt de kernparaplu van Frankrijk ook Nederland?")
    cited = next(c for c in answer.citations if c.passage.source_file.endswith(".pdf"))
    assert (cited.passage.page, cited.passage.page_end) == (1, 2)  # the passage starts on p. 1
    card = render.source_card(cited, 0)
    href = html.unescape(re.search(r'class="lg-open" href="([^"]+)"', card).group(1))  # type: ignore[union-attr]
    doc = _doc_id(loaded, "kernparaplu.pdf")
    assert href == f"reports/{doc}/file#page=2"  # the quote stands on the second page
    assert re.search(r"(—|>) ?p\. 2</div>", card) and "pp. 1–2" not in card, card
    status, headers, body = _get(f"{page}/{href.split('#')[0]}")
    original = Path(loaded.manifest.documents[doc].path).read_bytes()
    assert status == 200 and body == original
    assert headers["content-type"] == "application/pdf"
    assert headers["content-security-policy"] == PDF_POLICY  # Chromium's viewer needs an embed
    assert headers["x-content-type-options"] == "nosniff"


def test_the_reading_view_escapes_the_report_and_has_its_anchors(page: str, loaded: Any) -> None:
    doc = _doc_id(loaded, "vijandig.txt")
    chunk_id = loaded.manifest.documents[doc].chunk_ids[0]
    status, headers, body = _get(f"{page}/reports/{doc}/read?mark={chunk_id},bogus")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY  # the page's own
    assert f'id="{chunk_id}"' in text and f'href="#{chunk_id}"' in text and "<mark>" in text
    assert "<script" not in text and "<img" not in text and "&lt;script&gt;" in text
    assert "<strong>nadruk</strong>" in text and "bogus" not in text
    status, headers, css = _get(f"{page}/reports/reader.css")
    assert status == 200 and headers["content-type"].startswith("text/css") and b"mark" in css


def test_unknown_reports_and_changed_files_get_a_readable_404(
    page: str, loaded: Any, tmp_path: Path
) -> None:
    for target in ("reports/nope/read", "reports/nope/file", "reports/..%2F..%2Fetc/file"):
        status, headers, body = _get(f"{page}/{target}")
        assert status == 404, target
    assert "There is no report “nope” in the index" in _get(f"{page}/reports/nope/read")[2].decode()
    doc = _doc_id(loaded, "vijandig.txt")
    status, _, body = _get(f"{page}/reports/{doc}/file")  # not a PDF: the text is served instead
    assert status == 404 and b'href="read"' in body
    pdf = Path(loaded.manifest.documents[_doc_id(loaded, "kernparaplu.pdf")].path)
    keep = tmp_path / "original.pdf"
    shutil.copy(pdf, keep)
    try:
        pdf.write_bytes(pdf.read_bytes() + b"\n% changed")
        status, _, body = _get(f"{page}/reports/{_doc_id(loaded, 'kernparaplu.pdf')}/file")
        assert status == 404 and "has changed since" in body.decode()
    finally:
        shutil.copy(keep, pdf)
    assert (
        hashlib.sha256(pdf.read_bytes()).hexdigest()
        == loaded.manifest.documents[_doc_id(loaded, "kernparaplu.pdf")].content_hash
    )


def test_with_a_login_the_reports_need_a_signed_in_session(loaded: Any) -> None:
    settings = UISettings(auth=["alice:secret"], port=free_port())  # type: ignore[list-item]
    app = build_app(loaded.assistant, settings, loaded.manifest)
    serve(app, settings, prevent_thread_lock=True)
    base = f"http://127.0.0.1:{settings.port}"
    pdf, txt = _doc_id(loaded, "kernparaplu.pdf"), _doc_id(loaded, "vijandig.txt")
    urls = [f"{base}/reports/{pdf}/file", f"{base}/reports/{txt}/read"]
    try:
        for url in urls:
            status, _, body = _get(url)
            assert status == 401 and b"Sign in on the Legatus page first" in body
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = urllib.parse.urlencode({"username": "alice", "password": "wrong"}).encode()
        with pytest.raises(urllib.error.HTTPError):
            opener.open(f"{base}/login", data=form, timeout=30)
        assert _get(urls[1], opener)[0] == 401
        form = urllib.parse.urlencode({"username": "alice", "password": "secret"}).encode()
        assert opener.open(f"{base}/login", data=form, timeout=30).status == 200
        for url in urls:
            assert _get(url, opener)[0] == 200
        forged = urllib.request.build_opener()
        forged.addheaders = [("Cookie", "access-token-unsecure-x=y; access-token-x=y")]
        assert _get(urls[0], forged)[0] == 401
    finally:
        app.close()
