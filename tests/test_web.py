"""The chat page: rendering (escaping, markers, highlights), feedback storage and export, the
page's handlers, and the whole page in headless Chromium against a real `legatus serve`."""

from __future__ import annotations

import http.client
import json
import logging
import re
import sqlite3
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from assistant.types import Answer, AnswerSentence, Citation, Passage
from eval.question_sets import load_questions
from index.types import SearchFilters
from tests.factories import passage
from tests.web_helpers import Listener, free_port, serving, wait_until_started
from ui import render
from ui.briefing import briefing_markdown
from ui.feedback import FeedbackStore, export_jsonl
from ui.settings import UISettings
from ui.web import ChatPage, FilterError, Turn, build_app, make_filters, messages, serve

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
HCSS_TITLE = (
    "Samenhangen – Strategische Monitor 2022: syntheserapport over Europese strategische autonomie"
)
CLINGENDAEL_TITLE = "State of the Union 2026 – Expert Views"
HOSTILE = '<script>alert("x")</script><img src=x onerror="alert(1)"> ${alert(2)} {{x}}'


def answer_with(p: Passage, quote: str, *others: Passage, question: str = "Welke?") -> Answer:
    sentence = AnswerSentence(text=quote, citations=(1,), support=0.9, verified=True)
    return Answer(
        question=question,
        answer=f"Volgens de rapporten: {quote} [1]",
        refused=False,
        sentences=(sentence,),
        citations=(Citation(1, p, (quote,)),),
        retrieved=(p, *others),
    )


# --- render -----------------------------------------------------------------------------------


def test_hostile_report_text_is_escaped_everywhere() -> None:
    p = passage(text=f"Voor {HOSTILE} na.", title=HOSTILE, section=HOSTILE, publisher=HOSTILE)
    other = passage(2, text=HOSTILE, title=HOSTILE)
    a = answer_with(p, f"Voor {HOSTILE} na.", other, question=HOSTILE)
    pages = [
        render.answer_html(a, 0),
        render.sources_html(a, 0, scope=HOSTILE),
        render.user_html(HOSTILE),
        render.error_html(HOSTILE),
    ]
    for page in pages:
        assert "<script" not in page and "<img" not in page
        assert "&lt;script&gt;" in page
        assert 'onerror="' not in page  # the quote is escaped, so no attribute can start
    note = briefing_markdown(a, HOSTILE, "2026-01-01", lang="en")
    assert re.search(r"(?<!\\)<", note) is None and "\\<script\\>" in note  # every < escaped


def test_the_reports_own_bold_and_italic_show_but_nothing_else_becomes_markup() -> None:
    text = "**Koorddans** en *assurance* ![q](http://evil/x) <b onmouseover=x>y</b> 2 * 3 * 4"
    html_ = render.answer_html(answer_with(passage(text=text), text), 0)
    assert "<strong>Koorddans</strong>" in html_ and "<em>assurance</em>" in html_
    assert "<img" not in html_ and "<b " not in html_ and 'href="http://evil' not in html_
    assert "2 * 3 * 4" in html_  # arithmetic is not emphasis


def test_quotes_in_another_language_than_the_answer_are_marked() -> None:
    from dataclasses import replace

    dutch = passage(text="Eerste zin over methoden.", language="nl")
    english = replace(answer_with(dutch, "Eerste zin over methoden."), language="en")
    assert '<span lang="nl">Eerste zin over methoden.</span>' in render.answer_html(english, 0)
    same = replace(english, language="nl")
    assert 'lang="nl"' not in render.answer_html(same, 0)


def test_markers_link_to_the_cards_of_their_answer() -> None:
    a = answer_with(passage(), "Tweede zin over methoden.")
    chat = render.answer_html(a, 3)
    panel = render.sources_html(a, 3)
    assert 'href="#lg-src-3-1"' in chat and 'class="lg-cite"' in chat
    assert 'id="lg-src-3-1"' in panel
    assert chat.index("Volgens de rapporten:") < chat.index("Tweede zin")  # the lead, then text
    assert "Sources for answer 4" in panel


def test_supporting_sentences_are_highlighted_across_line_breaks() -> None:
    text = "Eerste zin.\nDe Monitor gebruikt\ncasestudies & enquêtes. Slot."
    marked = render.highlight(text, ["De Monitor gebruikt casestudies & enquêtes."])
    assert marked == (
        "Eerste zin.\n<mark>De Monitor gebruikt\ncasestudies &amp; enquêtes.</mark> Slot."
    )
    assert render.highlight("a b a", ["a", "a b"]) == "<mark>a b</mark> <mark>a</mark>"


def test_uncited_passages_are_collapsed_and_a_refusal_opens_them() -> None:
    cited, other = passage(1), passage(2, text="Iets anders.")
    panel = render.sources_html(answer_with(cited, "Eerste zin.", other), 0)
    assert '<details class="lg-others">' in panel and "Other passages consulted (1)" in panel
    assert panel.count('class="lg-card"') == 1 and "lg-uncited" in panel
    refusal = Answer(
        question="Wat?", answer="Niet in de rapporten.", refused=True, retrieved=(other,)
    )
    panel = render.sources_html(refusal, 0)
    assert '<details class="lg-others" open>' in panel and "Closest passages (1)" in panel
    assert "lg-refused" in render.answer_html(refusal, 0)


def test_bullet_sentences_become_a_list_and_a_briefing_note_lists_sources() -> None:
    p = passage(text="Methoden: • Casestudies • Deskresearch")
    sentences = tuple(
        AnswerSentence(text=t, citations=(1,), support=1.0, verified=True)
        for t in ("Methoden:", "• Casestudies", "• Deskresearch")
    )
    a = Answer(
        question="Welke methoden?", answer="Methoden: [1] • Casestudies [1] • Deskresearch [1]",
        refused=False, sentences=sentences, citations=(Citation(1, p, ("Methoden:",)),),
        retrieved=(p,),
    )  # fmt: skip
    chat = render.answer_html(a, 0)
    assert "<ul><li>Casestudies" in chat and chat.count("<li>") == 2
    assert render.answer_html(a, 0, upto=1).count("lg-cite") == 1  # progressive display
    note = briefing_markdown(a, "alle rapporten", "2026-01-01 10:00", lang="nl")
    assert "# Briefingnotitie: Welke methoden?" in note and "- Casestudies [1]" in note
    assert "[1] **Monitor** — HCSS, 2022-01, 1. Inleiding › Methodologie, p. 12" in note
    assert "> Methoden:" in note


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_stored_once_per_answer_and_exports_as_questions(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb" / "feedback.sqlite3")
    good = answer_with(passage(), "Tweede zin over methoden.", question="Welke methoden?")
    refused = Answer(question="Hoeveel kost een F-35?", answer="Staat er niet in.", refused=True)
    first = store.record("a1", good, "down")
    assert store.record("a1", good, "up", comment="  klopt ") == first  # updated, not added
    store.record("a2", refused, "up", filters=SearchFilters(doc_ids=("hcss",)))
    store.record("a3", good, "down", comment="mist de enquêtes")
    rows = store.rows()
    assert [(r.answer_id, r.rating, r.comment) for r in rows] == [
        ("a1", "up", "klopt"), ("a2", "up", ""), ("a3", "down", "mist de enquêtes"),
    ]  # fmt: skip
    assert rows[0].citations[0]["quotes"] == ["Tweede zin over methoden."]
    assert rows[1].filters["doc_ids"] == ["hcss"]
    with sqlite3.connect(store.path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    out = tmp_path / "feedback.jsonl"
    assert export_jsonl(store, out) == 2
    cases = load_questions(out)
    assert [(c.id, c.type, c.doc, c.evidence) for c in cases] == [
        ("FB0001", "feedback", "hcss", ["Tweede zin over methoden."]),
        ("FB0002", "feedback", "none", []),
    ]  # fmt: skip
    assert not cases[1].answerable
    assert export_jsonl(store, out, "all") == 3
    assert load_questions(out)[2].id == "FB0003-down"


def test_feedback_export_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ui.cli import app

    db = tmp_path / "feedback.sqlite3"
    monkeypatch.setenv("LEGATUS_UI__FEEDBACK_DB", str(db))
    runner = CliRunner()
    result = runner.invoke(app, ["feedback", "export", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 2 and "nothing has been rated yet" in result.output
    FeedbackStore(db).record("a1", answer_with(passage(), "Eerste zin."), "up")
    result = runner.invoke(app, ["feedback", "export", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0, result.output
    assert "wrote 1 question" in result.output
    assert load_questions(tmp_path / "out.jsonl")[0].evidence == ["Eerste zin."]


def test_serve_without_an_index_says_to_ingest(tmp_path: Path) -> None:
    from ui.cli import app

    result = CliRunner().invoke(app, ["serve", "--port", "1"])  # LEGATUS_INDEX__PATH: empty
    assert result.exit_code == 2
    assert "run `legatus ingest`" in result.output


def test_ui_settings_validate_logins() -> None:
    with pytest.raises(ValueError, match='login 0 must read "user:password"'):
        UISettings(auth=["alice"])  # type: ignore[list-item]
    assert UISettings(auth=["bob:pa:ss"]).logins() == [("bob", "pa:ss")]  # type: ignore[list-item]


# --- the page's handlers ----------------------------------------------------------------------


def test_filters_are_checked_before_searching() -> None:
    assert make_filters([], [], "", " ") is None
    f = make_filters(["hcss"], ["HCSS"], "2021", "2022-06")
    assert f == SearchFilters(("hcss",), ("HCSS",), "2021", "2022-06")
    with pytest.raises(FilterError, match="'2022-13' in “from” is not a date"):
        make_filters(None, None, "2022-13", None)
    with pytest.raises(FilterError, match="range 2023 to 2022-06 is empty"):
        make_filters(None, None, "2023", "2022-06")


def _run(page: ChatPage, question: str, turns: list[Turn], **filters: object) -> tuple:
    args = [filters.get(k) for k in ("reports", "publishers", "date_from", "date_to")]
    return list(page.respond(question, turns, *args))[-1]  # type: ignore[arg-type]


def test_questions_are_answered_and_bad_ones_get_a_message(assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = ChatPage(assistant, UISettings(), None, FeedbackStore(tmp_path / "f.sqlite3"))
    steps = list(page.respond("Welke onderzoeksmethoden gebruikt de Strategische Monitor?", [],
                              None, None, None, None))  # fmt: skip
    assert "Searching the reports" in steps[0][0][-1]["content"]  # progressive: searching first
    chat, turns, current, sources = steps[-1][:4]
    assert current == 0 and turns[0].answer.citations
    assert 'href="#lg-src-0-1"' in chat[1]["content"] and 'id="lg-src-0-1"' in sources

    for question, expected in (
        ("   ", "The question is empty"),
        ("x" * 5000, "Shorten it"),
        ("🤔🤔", "rephrase it in words"),
    ):
        final = _run(page, question, turns)
        assert expected in final[0][-1]["content"] and "lg-error" in final[0][-1]["content"]
        assert final[1][-1].answer is None and len(final[1]) == 2
    assert _run(page, "x" * 5000, turns)[-1] == "x" * 5000  # kept in the box to shorten
    final = _run(page, "Welke methoden?", turns, date_from="2022-13")
    assert "is not a date" in final[0][-1]["content"]

    status, _ = page.rate("up", "goed", turns, 0)
    assert "recorded for answer 1" in status
    assert page.store is not None and page.store.rows()[0].comment == "goed"


def test_an_unexpected_error_is_logged_and_shown_readably(
    assistant, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        settings = assistant.settings
        index = assistant.index

        def ask_stream(self, *args: object, **kwargs: object) -> Answer:
            raise RuntimeError("FAISS exploded")

    page = ChatPage(Broken(), UISettings(), None, None)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="legatus.web"):
        final = _run(page, "Wat zegt de Monitor?", [])
    shown = final[0][-1]["content"]
    assert "Something went wrong while answering (reference" in shown
    assert "FAISS" not in shown and "Traceback" not in shown
    assert "FAISS exploded" in caplog.text  # the traceback goes to the server log
    assert final[-1] == "Wat zegt de Monitor?"  # back in the box, to ask again


def test_messages_pair_each_question_with_its_answer() -> None:
    turns = [Turn("Eerste?", error="Kapot."), Turn("", error="Leeg.")]
    chat = messages(turns, live=("<q>", "<a>"))
    assert [m["role"] for m in chat] == ["user", "assistant"] * 3
    assert "(empty question)" in chat[2]["content"]


def test_login_is_required_when_configured(assistant) -> None:  # type: ignore[no-untyped-def]
    settings = UISettings(auth=["alice:secret"], port=free_port())  # type: ignore[list-item]
    app = build_app(assistant, settings)
    serve(app, settings, prevent_thread_lock=True)
    base = f"http://127.0.0.1:{settings.port}"
    try:
        with pytest.raises(urllib.error.HTTPError) as denied:
            urllib.request.urlopen(f"{base}/config", timeout=30)
        assert denied.value.code == 401
        for password, code in (("wrong", 400), ("secret", 200)):
            data = f"username=alice&password={password}".encode()
            try:
                status = urllib.request.urlopen(f"{base}/login", data=data, timeout=30).status
            except urllib.error.HTTPError as exc:
                status = exc.code
            assert status == code
    finally:
        app.close()


# --- the page in a browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def web_server(
    bundled_index_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """`legatus serve` as a real process on a free loopback port, until the module ends."""
    folder = tmp_path_factory.mktemp("web")
    uploads = folder / "gradio"  # where Gradio would keep uploaded files
    with serving(bundled_index_path, folder, GRADIO_TEMP_DIR=str(uploads)) as url:
        yield {"url": url, "db": folder / "feedback.sqlite3", "uploads": uploads}


def _request(url: str, body: bytes = b"", declared: int | None = None, **headers: str) -> tuple:
    """(status, headers, text) of a GET, or of a POST of ``body`` announcing ``declared`` bytes
    (more than it sends: the server must answer from the headers alone)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.putrequest("POST" if body else "GET", target)
        for name, value in headers.items():
            conn.putheader(name.replace("_", "-"), value)
        if body:
            conn.putheader("Content-Length", str(declared or len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode(errors="replace")
    finally:
        conn.close()


def test_every_response_carries_security_headers(web_server: dict) -> None:
    base = web_server["url"].rstrip("/")
    for path in ("/", "/config", "/gradio_api/info", "/theme.css", "/no-such-page"):
        status, headers, _ = _request(base + path)
        assert status in (200, 404), path
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "img-src 'self' data: blob:" in csp, path
        assert "connect-src 'self'" in csp and "object-src 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"


def test_files_cannot_be_uploaded_and_requests_are_bounded(web_server: dict) -> None:
    base = web_server["url"].rstrip("/")
    form = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="evil.html"\r\n'
        b"Content-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--b--\r\n"
    )
    multipart = {"Content_Type": "multipart/form-data; boundary=b"}
    status, headers, text = _request(f"{base}/gradio_api/upload", form, **multipart)
    assert status == 403 and "no file uploads" in text
    assert headers["X-Content-Type-Options"] == "nosniff"
    # 50 MB announced (the first kilobytes sent): refused from the headers, nothing read.
    status, _, text = _request(f"{base}/gradio_api/upload", form, 50_000_000, **multipart)
    assert status == 403
    assert not [p for p in web_server["uploads"].rglob("*") if p.is_file()]  # nothing stored
    status, _, _ = _request(f"{base}/gradio_api/file={web_server['uploads']}/evil.html")
    assert status >= 400  # and nothing to serve back
    status, _, text = _request(
        f"{base}/gradio_api/queue/join", b"{}", 60_000_000, Content_Type="application/json"
    )
    assert status == 413 and "at most 1000000 (LEGATUS_UI__MAX_REQUEST_BYTES)" in text


def test_the_page_api_refuses_empty_and_overlong_questions(web_server: dict) -> None:
    from gradio_client import Client

    client = Client(web_server["url"], verbose=False)
    for question, expected in (("x" * 100_000, "the limit is 2000"), (" \n ", "is empty")):
        chat = client.predict(question, [], [], "", "", api_name="/ask")[0]
        shown = str(chat[-1]["content"])
        assert "lg-error" in shown and expected in shown


def test_long_feedback_comments_are_refused(assistant, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = FeedbackStore(tmp_path / "f.sqlite3")
    page = ChatPage(assistant, UISettings(max_comment_chars=2000), None, store)
    turns = [Turn("Welke?", answer_with(passage(), "Eerste zin."))]
    status, _ = page.rate("up", "x" * 60_000, turns, 0)
    assert "60000 characters long; the limit is 2000 (LEGATUS_UI__MAX_COMMENT_CHARS)" in status
    assert store.rows() == []
    status, _ = page.rate("up", "y" * 2000, turns, 0)
    assert "recorded" in status and store.rows()[0].comment == "y" * 2000


def test_chat_page_in_a_browser(web_server: dict, browser, browser_downloads: Path) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    css = By.CSS_SELECTOR

    def ask(question: str, turn: int) -> None:
        box = d.find_element(css, "#lg-question textarea")
        box.send_keys(question)
        box.send_keys(Keys.ENTER)
        WebDriverWait(d, 600).until(
            lambda d: d.find_elements(css, f"#lg-sources-box [id^='lg-src-{turn}-']")
        )

    def text(el: object) -> str:
        return " ".join((el.get_attribute("textContent") or "").split())  # type: ignore[attr-defined]

    d.get(web_server["url"])
    wait_until_started(d)
    indexed = text(d.find_element(css, "#lg-index"))
    assert HCSS_TITLE in indexed and CLINGENDAEL_TITLE in indexed and "index updated" in indexed

    # 1. A Dutch question: the answer, its markers, and the card they point to.
    ask("Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?", 0)
    answer = text(d.find_elements(css, "#lg-chat .lg-answer")[-1])
    assert "Casestudies" in answer and "Deskresearch" in answer
    markers = d.find_elements(css, "#lg-chat a.lg-cite")
    assert markers and markers[0].get_attribute("href").endswith("#lg-src-0-1")
    cards = d.find_elements(css, "#lg-sources-box article.lg-card:not(.lg-uncited)")
    found = [(text(c.find_element(css, ".lg-title")), text(c.find_element(css, ".lg-where")))
             for c in cards]  # fmt: skip
    assert any(t == HCSS_TITLE and w.startswith("1. Inleiding › Methodologie") for t, w in found)
    assert d.find_elements(css, "#lg-sources-box mark")  # the supporting sentences
    markers[0].click()
    WebDriverWait(d, 10).until(lambda d: d.find_elements(css, "#lg-src-0-1.lg-flash"))
    assert len(d.window_handles) == 1 and d.current_url.startswith(web_server["url"])
    d.execute_script("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / "web-chat.png"))

    # 2. Feedback with a comment, stored in SQLite with the question and its citations.
    d.find_element(css, "#lg-comment textarea").send_keys("Volledige lijst, goed bronnen")
    d.find_element(css, "#lg-up").click()
    WebDriverWait(d, 30).until(
        lambda d: "Thank you" in text(d.find_element(css, "#lg-rate-status"))
    )
    with sqlite3.connect(web_server["db"]) as db:
        rows = db.execute("SELECT rating, comment, question, citations FROM feedback").fetchall()
    assert len(rows) == 1 and rows[0][:2] == (1, "Volledige lijst, goed bronnen")
    assert "Strategische Monitor" in rows[0][2]
    assert HCSS_TITLE in {c["title"] for c in json.loads(rows[0][3])}

    # 3. The briefing note downloads as Markdown with its sources.
    d.find_element(css, "#lg-download").click()
    WebDriverWait(d, 30).until(lambda d: list(browser_downloads.glob("*.md")))
    note = next(browser_downloads.glob("*.md")).read_text(encoding="utf-8")
    # framed in the question's language (Dutch), whatever the interface's
    assert (
        note.startswith("# Briefingnotitie: Met welke onderzoeksmethoden") and "## Bronnen" in note
    )
    assert HCSS_TITLE in note
    d.execute_script(  # headless Chromium has no clipboard to read back: catch what is copied
        "window.copied = null; navigator.clipboard.writeText = async (t) => { window.copied = t; };"
    )
    d.find_element(css, "#lg-copy").click()
    WebDriverWait(d, 10).until(lambda d: d.execute_script("return window.copied") == note)

    # 4. Restricted to the Clingendael report, the next answer cites only that report.
    choice = d.find_element(css, "#lg-f-reports input")
    choice.click()
    choice.send_keys("State of the Union")
    WebDriverWait(d, 10).until(lambda d: d.find_elements(css, "#lg-f-reports li[role=option]"))
    d.find_element(css, "#lg-f-reports li[role=option]").click()
    d.find_element(css, "#lg-header").click()  # close the option list
    WebDriverWait(d, 10).until(
        lambda d: CLINGENDAEL_TITLE in text(d.find_element(css, "#lg-scope"))
    )
    ask("Waarom is Frankrijk de meest geloofwaardige Europese kernmacht?", 1)
    titles = [text(t) for t in d.find_elements(css, "#lg-sources-box article .lg-title")]
    assert titles and set(titles) == {CLINGENDAEL_TITLE}
    assert "Searched: reports: " + CLINGENDAEL_TITLE in text(d.find_element(css, "#lg-sources-box"))
    d.execute_script("window.scrollTo(0, 0)")
    d.save_screenshot(str(ARTIFACTS / "web-chat-filtered.png"))

    # A marker of the earlier answer brings back that answer's sources.
    d.find_element(css, "#lg-chat a.lg-cite[href$='#lg-src-0-1']").click()
    WebDriverWait(d, 30).until(lambda d: d.find_elements(css, "#lg-sources-box #lg-src-0-1"))
    assert "Sources for answer 1" in text(d.find_element(css, "#lg-sources-box"))

    # 5. An empty question gets a message in the chat, not an error page.
    d.find_element(css, "#lg-question textarea").send_keys(Keys.ENTER)
    WebDriverWait(d, 30).until(lambda d: d.find_elements(css, "#lg-chat .lg-error"))
    assert "The question is empty" in text(d.find_elements(css, "#lg-chat .lg-error")[-1])
    assert "Traceback" not in d.page_source

    # 6. Markdown and addresses in a question stay text: no image fetched, no link made.
    with Listener() as listener:
        leak = f"http://127.0.0.1:{listener.port}/leak?q=secret"
        bare = f"http://127.0.0.1:{listener.port}/bare"
        asked = len(d.find_elements(css, "#lg-chat .lg-question"))
        box = d.find_element(css, "#lg-question textarea")
        # Shift stays down until NULL: two line breaks, not a submit.
        box.send_keys("Wat is Borssele?", Keys.SHIFT, Keys.ENTER, Keys.ENTER, Keys.NULL)
        box.send_keys(f"![q]({leak}) <img src={leak}> zie {bare}")
        box.send_keys(Keys.ENTER)
        WebDriverWait(d, 600).until(
            lambda d: (
                len(d.find_elements(css, "#lg-chat .lg-question")) == asked + 1
                and not d.find_elements(css, "#lg-chat .lg-pending, #lg-chat .lg-more")
            )
        )
        time.sleep(1)  # time for any image request to arrive
        shown = d.find_elements(css, "#lg-chat .lg-question")[-1]
        literal = shown.get_attribute("textContent") or ""
        assert f"![q]({leak})" in literal and f"<img src={leak}>" in literal
        assert f"zie {bare}" in literal and "Wat is Borssele?" in literal
        assert not d.find_elements(css, "#lg-chat img, #lg-chat a:not(.lg-cite)")
        assert not d.execute_script(
            "return [...document.images].filter(i => i.src.includes(arguments[0])).length",
            str(listener.port),
        )
        assert listener.requests == []
    # The page works under its Content-Security-Policy: nothing it needs was refused.
    refused = [e["message"] for e in d.get_log("browser") if "Content Security" in e["message"]]
    assert refused == []


def test_the_page_shows_an_llm_draft_as_it_streams_then_the_verified_answer(
    assistant,  # type: ignore[no-untyped-def]
) -> None:
    # The stream is scripted (the real LLM stream is tested in tests/test_streaming.py); what
    # is checked here is the page's part: each draft shown as it grows, escaped, then replaced.
    from assistant.stream import DraftText, FinalAnswer

    final = answer_with(passage(), "Eerste zin.")

    class Streaming:
        settings = assistant.settings
        index = assistant.index

        def ask_stream(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
            yield DraftText(text="Frankrijk <b>", delta="Frankrijk <b>")
            yield DraftText(text="Frankrijk <b> heeft [1]", delta=" heeft [1]")
            yield FinalAnswer(final)

    page = ChatPage(Streaming(), UISettings(), None, None)  # type: ignore[arg-type]
    steps = list(page.respond("Waarom Frankrijk?", [], None, None, None, None))
    shown = [str(step[0][-1]["content"]) for step in steps]
    assert "Searching the reports" in shown[0]
    assert "Frankrijk &lt;b&gt;" in shown[1] and "heeft" not in shown[1]
    assert "Frankrijk &lt;b&gt; heeft [1]" in shown[2] and "<b>" not in shown[2]
    assert "Eerste zin." in shown[-1] and "Frankrijk" not in shown[-1]  # the verified answer
    assert steps[-1][1][0].answer is final and len(steps) == 4


def test_conversations_are_saved_resumed_and_deleted_through_the_page(
    assistant,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from ui.conversations import ConversationStore

    page = ChatPage(assistant, UISettings(), None, None, ConversationStore(tmp_path / "c.db"))
    owner = "browser:" + "a" * 32
    first = list(page.respond("Welke onderzoeksmethoden gebruikt de Monitor?", [], None, None,
                              None, None, "nl", owner, ""))[-1]  # fmt: skip
    conv = first[-3]
    assert conv and [c[1] for c in first[-2].choices] == [conv]
    again = list(page.regenerate(first[1], None, None, None, None, "nl", owner, conv))[-1]
    assert len(again[1]) == 1 and again[-3] == conv  # answered anew, in place
    chat, turns, current, *_rest, opened = page.open(owner, conv, "nl")
    assert opened == conv and len(turns) == 1 and current == 0
    assert "Antwoord 1" in chat[1]["content"] and turns[0].answer.citations
    assert page.open("browser:" + "b" * 32, conv, "nl")[1] == []  # another owner sees nothing
    *_, listed = page.delete(owner, conv, "nl")
    assert listed.choices == [] and page.open(owner, conv, "nl")[1] == []


def test_a_failing_start_up_still_leaves_the_question_box_usable(assistant, caplog) -> None:  # type: ignore[no-untyped-def]
    """The box and the ask button are enabled by the page's start-up; if that fails, the page
    must still take questions (it cannot save them without knowing whose they are)."""
    import gradio as gr

    app = build_app(assistant, UISettings())
    page = app.legatus_page  # type: ignore[attr-defined]

    def broken(*args: object) -> None:
        raise RuntimeError("conversation store exploded")

    page.open = broken
    (dep,) = [d for d in app.fns.values() if getattr(d.fn, "__name__", "") == "start"]
    request = SimpleNamespace(headers={"accept-language": "nl"}, username=None)
    with caplog.at_level(logging.ERROR, logger="legatus.web"):
        out = dep.fn("", "", "", request)
    assert "exploded" in caplog.text
    outputs = [getattr(o, "elem_id", None) for o in dep.outputs]
    assert len(out) == len(outputs)
    update = out[outputs.index("lg-question")]
    assert update.interactive is True
    buttons = [u for u, o in zip(out, dep.outputs, strict=True) if isinstance(o, gr.Button)]
    assert any(getattr(u, "interactive", None) is True for u in buttons)  # the ask button
    app.close()
