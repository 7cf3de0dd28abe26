"""Accessibility of the chat page: axe-core run in headless Chromium at a desktop and a phone
size, before and after an answer, must find no serious or critical WCAG 2.1 AA violation (nor
an unnamed field or a pale placeholder, which axe lets pass). Screenshots land in artifacts/.

By hand: ``make browser`` once (Chromium, and axe-core into ``$LEGATUS_CACHE/npm``), then
``pytest tests/test_accessibility.py``."""

from __future__ import annotations

import doctest
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import web_helpers
from tests.web_helpers import (
    AxeViolation,
    axe_violations,
    field_problems,
    format_violations,
    serving,
    wait_until_started,
)

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
DESKTOP, PHONE = (1440, 900), (390, 844)
QUESTION = "Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?"


def test_the_violation_report_is_readable() -> None:
    failed, _ = doctest.testmod(web_helpers, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert failed == 0


def test_axe_runs_under_a_strict_csp_and_finds_what_is_wrong(browser) -> None:  # type: ignore[no-untyped-def]
    # A page whose own policy forbids every script: axe still runs, and reports the unlabelled
    # field (critical) and the pale text (serious) but not the minor issues.
    page = (
        "<!doctype html><html lang='en'><head><title>t</title>"
        "<meta http-equiv='Content-Security-Policy' content=\"script-src 'none'\">"
        "<style>::placeholder { color: #aaa }</style></head>"
        "<body><main><h1>Title</h1><input type='text'>"
        "<input type='text' aria-label='Textbox' placeholder='Search'>"
        "<p style='color:#aaa;background:#fff'>pale text</p></main>"
        "<script>document.title = 'ran'</script></body></html>"
    )
    browser.get("data:text/html," + urllib.parse.quote(page))
    assert browser.title == "t"  # the policy holds: the page's own script was refused
    found = {v["id"]: v for v in axe_violations(browser)}
    assert set(found) == {"label", "color-contrast"}, format_violations(list(found.values()))
    assert found["label"]["impact"] == "critical"
    assert found["label"]["nodes"][0]["target"] == "input:nth-child(2)"
    assert "2.32" in found["color-contrast"]["nodes"][0]["summary"]  # #aaa on white
    assert not axe_violations(browser, impacts=("minor",))
    # What axe lets pass: a field named after its widget, and a pale placeholder.
    assert field_problems(browser) == [
        "input '': its accessible name is ''",
        "input 'Search': its accessible name is 'Textbox'",
        "input 'Search': placeholder contrast 2.32:1 (#aaaaaa on #ffffff), below 4.5:1",
    ]


def test_a_missing_axe_says_to_run_make_browser(
    browser,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LEGATUS_AXE_JS", str(tmp_path / "axe.min.js"))
    browser.get("data:text/html,<title>t</title>")
    with pytest.raises(pytest.fail.Exception, match=r"not installed .* run `make browser`"):
        axe_violations(browser)


@pytest.fixture(scope="module")
def web_server(
    bundled_index_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """`legatus serve` over the bundled index (as in tests/test_web.py), until the module ends."""
    folder = tmp_path_factory.mktemp("a11y")
    with serving(bundled_index_path, folder) as url:
        yield {"url": url}


def _set_viewport(driver, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    """Make the page's viewport (not the window around it) ``width`` × ``height``."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [
        width,
        height,
    ]


# Whether the element with this id is shown, at least partly, in the viewport.
IN_VIEW = """const el = document.getElementById(arguments[0]); if (!el) return false;
const r = el.getBoundingClientRect();
return r.height > 0 && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth;"""


def _click(driver, element) -> None:  # type: ignore[no-untyped-def]
    """Click ``element`` in the middle of the viewport, clear of bars fixed at its edges."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440x900", "390x844"])
def test_the_chat_page_has_no_serious_accessibility_violations(  # type: ignore[no-untyped-def]
    web_server: dict, browser, size: tuple[int, int]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    d, css, name = browser, By.CSS_SELECTOR, f"{size[0]}x{size[1]}"
    ARTIFACTS.mkdir(exist_ok=True)
    found: list[tuple[str, list[AxeViolation], list[str]]] = []
    try:
        _set_viewport(d, *size)
        d.get(web_server["url"])  # a new visitor: forget conversations earlier tests kept
        d.delete_all_cookies()
        d.execute_script("localStorage.clear(); sessionStorage.clear()")
        d.get_log("browser")  # drop what earlier pages logged
        d.get(web_server["url"])
        wait_until_started(d)
        WebDriverWait(d, 60).until(lambda d: d.find_elements(css, "#lg-index li"))
        found.append((f"{name}, empty page", axe_violations(d), field_problems(d)))
        d.save_screenshot(str(ARTIFACTS / f"a11y-{name}-empty.png"))

        if size == PHONE and d.find_elements(css, ".sidebar.open"):  # it covers the chat there
            d.find_element(css, ".sidebar.open button.toggle-button").click()
            WebDriverWait(d, 10).until(lambda d: not d.find_elements(css, ".sidebar.open"))
        box = d.find_element(css, "#lg-question textarea")
        box.send_keys(QUESTION)
        box.send_keys(Keys.ENTER)
        # The answer streams in: wait for its sources (or an error), then for the last word.
        shown = "#lg-sources-box [id^='lg-src-0-'], #lg-chat .lg-error, .toast-item"
        WebDriverWait(d, 600).until(lambda d: d.find_elements(css, shown))
        WebDriverWait(d, 120).until(
            lambda d: not d.find_elements(css, "#lg-chat .lg-pending, #lg-chat .lg-more")
        )
        assert d.find_elements(css, "#lg-chat a.lg-cite"), d.find_element(css, shown).text
        marker = d.find_element(css, "#lg-chat a.lg-cite")
        card = marker.get_attribute("href").rsplit("#", 1)[1]
        _click(d, marker)  # brings its source card into view
        WebDriverWait(d, 10).until(lambda d: d.execute_script(IN_VIEW, card))
        for others in d.find_elements(css, "#lg-sources-box details.lg-others:not([open])"):
            _click(d, others.find_element(css, "summary"))
        WebDriverWait(d, 10).until(lambda d: not d.find_elements(css, ".lg-flash"))
        where = f"{name}, answered, source card open"
        found.append((where, axe_violations(d), field_problems(d)))
        d.save_screenshot(str(ARTIFACTS / f"a11y-{name}-answered.png"))
    finally:
        d.set_window_size(1440, 1000)  # the size the other page tests start with
    # Injecting axe must not trip the page's Content-Security-Policy either.
    refused = [e["message"] for e in d.get_log("browser") if "Content Security" in e["message"]]
    sections = [f"{name}: refused by the page's policy: {m}" for m in refused]
    for where, violations, problems in found:
        lines = [format_violations(violations, where)] if violations else []
        sections.append("\n".join(lines + [f"{where}: {p}" for p in problems]))
    report = "\n\n".join(s for s in sections if s)
    assert not report, report
