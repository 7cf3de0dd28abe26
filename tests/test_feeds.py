"""`legatus feeds` against a real HTTP server on 127.0.0.1 that serves an Atom feed, an RSS feed,
publication pages and report files (generated PDF and HTML), and the ways a source fails."""

from __future__ import annotations

import contextlib
import http.server
import json
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from tests.corpus import FONT_DIR
from tests.web_helpers import legatus_command, legatus_env, serving

pytestmark = pytest.mark.slow

FACT = "De notitie raamt de gezamenlijke aanschaf van luchtverdediging op 14 miljard euro."
QUESTION = "Op hoeveel euro raamt de notitie de gezamenlijke aanschaf van luchtverdediging?"


HAVENS_PAGE = (
    b"<!DOCTYPE html><html lang='nl'><head><title>Havens en de Noordzee</title></head><body>"
    b"<main><h1>Havens en de Noordzee</h1><p>De notitie over havens.</p>"
    b"<p><a href='/files/havens.pdf'>Download de notitie (PDF)</a></p></main></body></html>"
)
"""A publication page: the report is the PDF it links to."""


def _pdf(lines: list[str]) -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_font("D", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_page()
    pdf.set_font("D", "", 12)
    for line in lines:
        pdf.multi_cell(0, 7, line)
        pdf.ln(3)
    return bytes(pdf.output())


class Site:
    """The think tank's web server: feeds, pages, files, and a log of what it was asked."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                site.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                if self.path == "/files/slow.pdf":
                    time.sleep(3)  # beyond the pull's timeout
                found = site.files.get(self.path)
                if found is None:
                    self.send_error(404)
                    return
                kind, body = found
                tag = f'"{abs(hash(body))}"'
                modified = "Wed, 02 Dec 2026 08:00:00 GMT"
                if self.headers.get("if-none-match") == tag or (
                    self.headers.get("if-modified-since") == modified and kind.endswith("xml")
                ):
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                if self.path == "/atom.xml":
                    self.send_header("etag", tag)
                if self.path == "/rss.xml":
                    self.send_header("last-modified", modified)
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up (the timeout case)
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def asked(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]


def _atom(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Instituut voor Defensiestudies</title>
  <id>{base}/atom.xml</id><updated>2026-11-20T09:00:00Z</updated>
  <entry>
    <title>Samen kopen: Europese luchtverdediging</title>
    <id>urn:ids:2026-luchtverdediging</id>
    <link rel="alternate" type="text/html" href="{base}/pages/luchtverdediging.html"/>
    <link rel="enclosure" type="application/pdf" href="{base}/files/luchtverdediging.pdf"/>
    <author><name>A. de Vries</name></author><author><name>B. Jansen</name></author>
    <published>2026-11-20T09:00:00Z</published><updated>2026-11-20T09:00:00Z</updated>
  </entry>
</feed>""".encode()


def _rss(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Havenmonitor</title><link>{base}/</link><description>Notities</description>
  <item>
    <title>Havens en de Noordzee</title>
    <link>{base}/pages/havens.html</link><guid>{base}/pages/havens.html</guid>
    <pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate>
  </item>
</channel></rss>""".encode()


def _bad(base: str) -> bytes:
    items = "".join(
        f"<item><title>{name}</title><link>{base}{path}</link><guid>{path}</guid></item>"
        for name, path in (
            ("Weg", "/files/missing.pdf"), ("Traag", "/files/slow.pdf"),
            ("Te groot", "/files/huge.pdf"), ("Plaatje", "/files/plaatje.png"),
        )
    )  # fmt: skip
    return f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Slecht</title>
<link>{base}/</link><description>x</description>{items}</channel></rss>""".encode()


@pytest.fixture
def site() -> Iterator[Site]:
    s = Site()
    base = s.url
    s.files = {
        "/atom.xml": ("application/atom+xml", _atom(base)),
        "/rss.xml": ("application/rss+xml", _rss(base)),
        "/bad.xml": ("application/rss+xml", _bad(base)),
        "/files/luchtverdediging.pdf": (
            "application/pdf",
            _pdf(
                [
                    "Samen kopen: Europese luchtverdediging",
                    "Samenvatting",
                    FACT,
                    "Zij beveelt aan de aanschaf via het Europees Defensiefonds te laten lopen.",
                ]
            ),
        ),  # fmt: skip
        "/pages/havens.html": ("text/html; charset=utf-8", HAVENS_PAGE),
        "/files/havens.pdf": (
            "application/pdf",
            _pdf(
                [
                    "Havens en de Noordzee",
                    "De haven van Rotterdam verwerkt een derde van het Europese lng op zee.",
                ]
            ),
        ),  # fmt: skip
        "/files/slow.pdf": ("application/pdf", _pdf(["Traag"])),
        "/files/huge.pdf": ("application/pdf", b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024)),
        "/files/plaatje.png": ("image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
    }
    yield s
    s.server.shutdown()


def _legatus(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*legatus_command(), *args], env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_feeds_download_each_new_report_once_with_its_metadata(site: Site, tmp_path: Path) -> None:
    downloads = tmp_path / "downloads"
    env = legatus_env(tmp_path / "index", tmp_path, LEGATUS_FEEDS__FOLDER=str(downloads),
                      LEGATUS_FEEDS__TIMEOUT_S="1", LEGATUS_FEEDS__MAX_MIB="1")  # fmt: skip
    assert _legatus(env, "feeds", "add", "ftp://x").returncode == 2
    for url, publisher in ((f"{site.url}/atom.xml", "Instituut voor Defensiestudies (IDS)"),
                           (f"{site.url}/rss.xml", ""), (f"{site.url}/bad.xml", ""),
                           (f"{site.url}/gone.xml", "")):  # fmt: skip
        added = _legatus(
            env, "feeds", "add", url, *(["--publisher", publisher] if publisher else [])
        )
        assert added.returncode == 0, added.stderr

    first = _legatus(env, "feeds", "pull")
    out = first.stdout
    assert first.returncode == 1, out  # some failed; the others were done
    assert out.count("downloaded ") == 2, out
    for reason in ("missing.pdf: the server answered 404", "slow.pdf: no answer within",
                   "huge.pdf: 2 MiB, over the limit of 1 MiB",
                   "plaatje.png: image/png is not a report type",
                   "gone.xml: failed, tried again at the next pull"):  # fmt: skip
        assert reason in out, out

    files = sorted(p.name for p in downloads.iterdir() if not p.name.endswith(".meta.toml"))
    assert len(files) == 2 and all(f.endswith(".pdf") for f in files), files
    air = next(downloads.glob("samen-kopen-europese-luchtverdediging-*.pdf"))
    meta = tomllib.loads(air.with_name(air.name + ".meta.toml").read_text(encoding="utf-8"))
    assert meta == {
        "title": "Samen kopen: Europese luchtverdediging",
        "publisher": "Instituut voor Defensiestudies (IDS)", "date": "2026-11-20",
        "url": f"{site.url}/pages/luchtverdediging.html",
        "authors": ["A. de Vries", "B. Jansen"],
    }  # fmt: skip
    harbours = next(downloads.glob("havens-en-de-noordzee-*.pdf"))  # the page's PDF, not the page
    meta = tomllib.loads(harbours.with_name(harbours.name + ".meta.toml").read_text("utf-8"))
    assert meta["publisher"] == "Havenmonitor" and meta["date"] == "2026-11-16"
    assert meta["url"] == f"{site.url}/pages/havens.html"

    listed = _legatus(env, "feeds", "list")
    assert "gone.xml" in listed.stdout and "failing (1×)" in listed.stdout
    assert "1 reports downloaded" in listed.stdout

    second = _legatus(env, "feeds", "pull")
    assert "downloaded " not in second.stdout, second.stdout
    assert len(site.asked("/files/luchtverdediging.pdf")) == 1  # downloaded once
    assert site.asked("/atom.xml")[-1].get("if-none-match")  # conditional GETs, answered 304
    assert site.asked("/rss.xml")[-1].get("if-modified-since")
    assert f"{site.url}/atom.xml: unchanged" in second.stdout
    assert f"{site.url}/rss.xml: unchanged" in second.stdout
    assert "missing.pdf" in second.stdout  # a failed report is tried again
    assert "gone.xml: failed before" in second.stdout  # a failed source backs off


def test_a_pulled_report_is_answered_by_a_running_page_with_its_publishers_link(
    site: Site, tmp_path: Path, small_index_path: Path
) -> None:
    import shutil

    from tests.test_web_edge import _ask

    index = tmp_path / "index"
    shutil.copytree(small_index_path, index)
    downloads = tmp_path / "downloads"
    env = legatus_env(index, tmp_path, LEGATUS_FEEDS__FOLDER=str(downloads))
    assert _legatus(env, "feeds", "add", f"{site.url}/atom.xml").returncode == 0
    with serving(index, tmp_path, LEGATUS_UI__INDEX_RELOAD_S="2") as url:
        assert "14 miljard" not in _ask(url, QUESTION)
        pulled = _legatus(env, "feeds", "pull")
        assert pulled.returncode == 0 and "downloaded" in pulled.stdout, pulled.stdout
        ingested = _legatus(env, "ingest", str(downloads), "--no-prune")
        assert ingested.returncode == 0, ingested.stderr
        finished = time.monotonic()
        while "14 miljard" not in (shown := _answer(url, QUESTION)):
            assert time.monotonic() - finished < 60, f"still answering from before: {shown}"
            time.sleep(2)
        assert f"{site.url}/pages/luchtverdediging.html" in shown  # the citation's link


def _answer(url: str, question: str) -> str:
    """The whole of the page's /ask outputs (chat and source cards) as text."""
    from gradio_client import Client

    out: Any = Client(url, verbose=False).predict(question, [], [], "", "", api_name="/ask")
    return json.dumps(out, ensure_ascii=False, default=str)


def test_watch_pulls_the_feeds_on_its_schedule_and_takes_in_what_they_bring(
    site: Site, tmp_path: Path
) -> None:
    """`legatus watch` with a feed: pulled at start (its report indexed in the catch-up), then
    again after LEGATUS_FEEDS__EVERY_MIN (1 minute, the shortest) with no other change: a new
    entry in the feed is downloaded and indexed by the watcher itself."""
    from tests.test_watch import Watcher

    downloads, folder, index = tmp_path / "downloads", tmp_path / "incoming", tmp_path / "index"
    folder.mkdir()
    feeds = {"LEGATUS_FEEDS__FOLDER": str(downloads), "LEGATUS_FEEDS__EVERY_MIN": "1"}
    env = legatus_env(index, tmp_path, **feeds)
    assert _legatus(env, "feeds", "add", f"{site.url}/atom.xml").returncode == 0
    w = Watcher(folder, index, tmp_path, **feeds)
    try:
        log = w.wait_for("waiting for changes")
        assert log.count("downloaded ") == 1 and "added samen-kopen" in log, log
        drones = _pdf(["Drones boven de Noordzee", "De kustwacht zet vanaf 2027 drones in."])
        site.files["/files/drones.pdf"] = ("application/pdf", drones)
        entry = (
            "<entry><title>Drones boven de Noordzee</title><id>urn:ids:2026-drones</id>"
            f'<link rel="enclosure" type="application/pdf" href="{site.url}/files/drones.pdf"/>'
            "<published>2026-12-01T09:00:00Z</published></entry>"
        )
        kind, atom = site.files["/atom.xml"]
        site.files["/atom.xml"] = (kind, atom.replace(b"</feed>", entry.encode() + b"</feed>"))
        log = w.wait_for("added drones-boven-de-noordzee", timeout=150)
        assert log.count("downloaded ") == 2, log
        asked = site.asked("/atom.xml")
        assert len(asked) == 2 and asked[-1].get("if-none-match"), asked  # at start, on schedule
        from index.store import read_manifest

        assert any(d.startswith("drones-boven") for d in read_manifest(index).documents)
    finally:
        w.stop()
