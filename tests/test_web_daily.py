"""The chat page as a diplomat uses it every day, in real headless Chromium against a real
`legatus serve`, at a desktop (1440×900) and a phone (390×844) size: ask, tap a citation and see
its card, open the report at the cited place, reload and find the conversation, switch
conversations; and a Dutch browser gets the Dutch interface. Screenshots land in artifacts/."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_helpers import chromium, serving, wait_until_started

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
METHODS = "Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?"
FRANCE = "Waarom is Frankrijk de meest geloofwaardige Europese kernmacht?"


@pytest.fixture(scope="module")
def web_server(
    bundled_index_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """`legatus serve` over the bundled index, with its own feedback and conversation files."""
    folder = tmp_path_factory.mktemp("daily")
    with serving(bundled_index_path, folder) as url:
        yield {"url": url, "folder": folder}


def test_the_page_prints_its_own_address_and_none_of_gradios_hints(web_server: dict) -> None:
    log_file = web_server["folder"] / "serve.log"

    def printed(_: object) -> str:  # the page may answer a moment before the line is out
        return "Legatus chat page on" in (text := log_file.read_text(encoding="utf-8")) and text

    log = _wait(None, printed, 30)
    assert "Legatus chat page on http://127.0.0.1:" in log
    assert "share=True" not in log and "Running on local URL" not in log


def _css() -> Any:
    from selenium.webdriver.common.by import By

    return By.CSS_SELECTOR


def _wait(d: Any, condition: Any, timeout: float = 120) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(d, timeout).until(condition)


def _text(el: Any) -> str:
    return " ".join((el.get_attribute("textContent") or "").split())


def _ready(d: Any) -> None:
    """Wait until the page has loaded and its start-up (language, saved conversation) ran: the
    question box is enabled by the start-up's own outputs, and then takes the focus."""
    wait_until_started(d)
    _wait(d, lambda d: d.execute_script("return document.documentElement.lang") in ("en", "nl"))


def _ask(d: Any, question: str, turn: int) -> None:
    from selenium.webdriver.common.keys import Keys

    css = _css()
    box = d.find_element(css, "#lg-question textarea")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)
    _wait(d, lambda d: d.find_elements(css, f"#lg-sources-box [id^='lg-src-{turn}-']"), 300)


def _in_view(d: Any, el: Any) -> bool:
    """Whether ``el`` is on screen, and inside its scrolling panel where it has one."""
    return bool(
        d.execute_script(
            """
            const r = arguments[0].getBoundingClientRect();
            if (r.bottom <= 0 || r.top >= window.innerHeight) return false;
            const box = arguments[0].closest('#lg-sources-box');
            if (!box || box.scrollHeight <= box.clientHeight) return true;
            const b = box.getBoundingClientRect();
            return r.bottom > b.top && r.top < b.bottom;
            """,
            el,
        )
    )


def _click(d: Any, el: Any, tries: int = 20) -> None:
    """Click ``el`` once it can take the click (a panel may still be sliding into place)."""
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        ElementNotInteractableException,
    )

    for _ in range(tries):
        try:
            el.click()
            return
        except (ElementClickInterceptedException, ElementNotInteractableException):
            time.sleep(0.25)
    el.click()


def _saved_conversation(d: Any) -> str | None:
    """What the page keeps in the browser as the conversation to reopen (Gradio's BrowserState,
    stored encrypted: compared, not read)."""
    return d.execute_script("return window.localStorage.getItem('legatus-conversation')")


def _sidebar(d: Any, open_: bool) -> None:
    """Open or close the phone's scope sidebar with its toggle, as a thumb would: the toggle
    slides with the panel, so the tap waits until it is not under the panel's own content."""
    css = _css()
    _click(d, d.find_element(css, ".sidebar .toggle-button"))
    _wait(d, lambda d: bool(d.find_elements(css, ".sidebar.open")) == open_, 10)
    time.sleep(0.5)  # the slide (a CSS transition) ends before the next tap


def _shot(d: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    d.save_screenshot(str(ARTIFACTS / f"{name}.png"))


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def test_daily_use_in_a_browser(web_server: dict, size: str, tmp_path: Path) -> None:
    css = _css()
    phone = size == "phone"
    with chromium(tmp_path / "downloads") as driver:
        d: Any = driver
        d.set_window_size(*SIZES[size])
        d.get(web_server["url"])
        _ready(d)
        if phone:  # the scope sidebar starts closed, its toggle a full-size target on screen
            _wait(d, lambda d: not d.find_elements(css, ".sidebar.open"), 10)
            toggle = d.find_element(css, ".sidebar .toggle-button")
            box = toggle.rect
            assert box["width"] >= 44 and box["height"] >= 44 and box["x"] >= 0
        examples = d.find_elements(css, "#lg-chat .example")
        assert len(examples) >= 2 and all(_text(e).endswith("?") for e in examples)
        _shot(d, f"daily-{size}-empty")

        # 1. Ask; the answer is numbered and marked as the one under Sources.
        saved = _saved_conversation(d)
        _ask(d, METHODS, 0)
        # The answer's own event hands the browser the conversation to keep: by the time the
        # answer shows, a reader who leaves for a report tab comes back to it.
        _wait(d, lambda d: _saved_conversation(d) != saved, 10)
        answer = d.find_elements(css, "#lg-chat .lg-turn")[-1]
        assert "Answer 1" in _text(answer) and "lg-selected" in answer.get_attribute("class")
        assert "Casestudies" in _text(answer)

        # 2. Tap a citation: its card comes into view, with the supporting sentence.
        marker = d.find_elements(css, "#lg-chat a.lg-cite")[0]
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", marker)
        _click(d, marker)  # the chat may still be scrolling to the new answer
        card_id = marker.get_attribute("href").split("#")[-1]
        card = d.find_element(css, f"#{card_id}")
        hit = card.find_elements(css, "mark") or [card]
        _wait(d, lambda d: _in_view(d, hit[0]), 10)
        _shot(d, f"daily-{size}-card")
        if phone:  # and back to the answer
            back = d.find_element(css, "#lg-back")
            assert back.is_displayed()
            back.click()
            _wait(d, lambda d: _in_view(d, marker), 10)

        # 3. Open the report at the cited place: the reading view, the passage marked.
        link = card.find_element(css, "a.lg-open").get_attribute("href")
        parts = urllib.parse.urlsplit(link)
        anchor = parts.fragment
        assert anchor and parts.path.startswith("/reports/")
        with urllib.request.urlopen(link.split("#")[0], timeout=60) as response:
            assert response.status == 200
            assert f'id="{anchor}"' in response.read().decode()
        chat_tab = d.current_window_handle
        d.switch_to.new_window("tab")
        d.get(link)
        _wait(d, lambda d: d.find_elements(css, f"[id='{anchor}']"), 30)
        assert d.find_elements(css, "mark, .lg-r-marked")
        _shot(d, f"daily-{size}-report")
        d.close()
        d.switch_to.window(chat_tab)

        # 4. Reload: the conversation is still there, and listed.
        d.refresh()
        _ready(d)
        _wait(d, lambda d: METHODS in _text(d.find_element(css, "#lg-chat")), 30)
        _wait(d, lambda d: d.find_elements(css, "#lg-sources-box [id^='lg-src-0-']"), 30)

        # 5. A new conversation, then back to the first one from the list.
        if phone:
            _sidebar(d, open_=True)
            _sidebar(d, open_=False)
        d.find_element(css, "#lg-new").click()
        _wait(d, lambda d: METHODS not in _text(d.find_element(css, "#lg-chat")), 30)
        _ask(d, FRANCE, 0)
        if phone:
            _sidebar(d, open_=True)
        _wait(d, lambda d: len(d.find_elements(css, "#lg-history label")) == 2, 30)
        listed = d.find_elements(css, "#lg-history label")
        older = next(x for x in listed if "onderzoeksmethoden" in _text(x))
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", older)
        _wait(d, lambda d: older.is_displayed() and older.is_enabled(), 10)
        _click(d, older)
        _wait(d, lambda d: METHODS in _text(d.find_element(css, "#lg-chat")), 30)
        assert FRANCE not in _text(d.find_element(css, "#lg-chat"))
        _shot(d, f"daily-{size}-switched")


@pytest.mark.parametrize("size", list(SIZES), ids=list(SIZES))
def test_a_dutch_browser_gets_the_dutch_interface(
    web_server: dict, size: str, tmp_path: Path
) -> None:
    css = _css()
    with chromium(tmp_path / "downloads", lang="nl-NL") as driver:
        d: Any = driver
        d.set_window_size(*SIZES[size])
        d.get(web_server["url"])
        _ready(d)
        assert d.execute_script("return document.documentElement.lang") == "nl"
        box = d.find_element(css, "#lg-question textarea")
        assert box.get_attribute("placeholder").startswith("Stel een vraag")
        assert box.accessible_name == "Vraag"
        examples = [_text(e) for e in d.find_elements(css, "#lg-chat .example")]
        assert examples and all(e.startswith("Wat ") for e in examples)
        _ask(d, "What research methods did the Strategic Monitor use?", 0)
        panel = _text(d.find_element(css, "#lg-sources-box"))
        assert "Bronnen bij antwoord 1" in panel or "antwoord 1" in panel.casefold()
        assert "Antwoord 1" in _text(d.find_elements(css, "#lg-chat .lg-turn")[-1])
        _shot(d, f"daily-dutch-{size}")

        # The switch changes every label at once, and the choice is kept on reload.
        d.find_element(css, "#lg-language input[value='en']").click()
        _wait(d, lambda d: d.execute_script("return document.documentElement.lang") == "en", 10)
        _wait(d, lambda d: "Answer 1" in _text(d.find_element(css, "#lg-chat")), 10)
        d.refresh()
        _ready(d)
        assert d.execute_script("return document.documentElement.lang") == "en"
        box = d.find_element(css, "#lg-question textarea")
        assert box.get_attribute("placeholder").startswith("Ask about the reports")
