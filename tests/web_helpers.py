"""What the chat-page tests share: a real `legatus serve` process, headless Chromium, a
listener that records any request the browser should never have made, and axe-core
accessibility checks run inside the page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import pytest

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.remote.webelement import WebElement

ROOT = Path(__file__).resolve().parents[1]
MODEL_CACHE = Path(os.environ.get("LEGATUS_TEST_MODEL_CACHE", ROOT / ".cache" / "models"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def legatus_command() -> list[str]:
    """The installed ``legatus`` of this interpreter (or the module, in a bare checkout)."""
    legatus = Path(sys.executable).with_name("legatus")
    return [str(legatus)] if legatus.exists() else [sys.executable, "-m", "ui.cli"]


def legatus_env(index_path: Path, folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a `legatus` process over ``index_path``, writing only to ``folder``."""
    return {
        **os.environ,
        "LEGATUS_INDEX__PATH": str(index_path),
        "LEGATUS_EMBEDDING__CACHE_DIR": str(
            os.environ.get("LEGATUS_EMBEDDING__CACHE_DIR", MODEL_CACHE)
        ),
        "LEGATUS_UI__FEEDBACK_DB": str(folder / "feedback.sqlite3"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **extra,
    }


@contextmanager
def serving(index_path: Path, folder: Path, **extra: str) -> Iterator[str]:
    """`legatus serve` as a real process on a free loopback port; yields its URL."""
    port = free_port()
    log_file = folder / "serve.log"
    log = log_file.open("w")
    proc = subprocess.Popen(
        [*legatus_command(), "serve", "--port", str(port)],
        env=legatus_env(index_path, folder, **extra),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"legatus serve exited: {log_file.read_text()}")
            try:
                if urllib.request.urlopen(url, timeout=5).status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"legatus serve did not answer: {log_file.read_text()}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextmanager
def chromium(downloads: Path, lang: str | None = None) -> Iterator[object]:
    """Headless Chromium (selenium) saving downloads in ``downloads``, console log kept;
    ``lang`` (e.g. ``"nl-NL"``): the language the browser asks pages for."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1440,1000",
        f"--user-data-dir={tempfile.mkdtemp(prefix='legatus-chromium-')}",
    ):  # fmt: skip
        options.add_argument(flag)
    downloads.mkdir(parents=True, exist_ok=True)
    prefs: dict[str, str] = {"download.default_directory": str(downloads)}
    if lang:
        options.add_argument(f"--lang={lang}")
        prefs["intl.accept_languages"] = f"{lang},{lang.split('-')[0]}"
    options.add_experimental_option("prefs", prefs)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land there
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def wait_until_started(d: Any, timeout: float = 120) -> None:
    """Wait until the chat page has started: its start-up (who the reader is, the language, a
    saved conversation) enables the question box, which then takes the focus."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def started(d: Any) -> bool:
        boxes = d.find_elements(By.CSS_SELECTOR, "#lg-question textarea")
        return bool(boxes) and boxes[0].is_enabled()

    WebDriverWait(d, timeout).until(started)
    WebDriverWait(d, 10).until(
        lambda d: d.execute_script(
            "return document.activeElement === document.querySelector('#lg-question textarea')"
        )
    )


class Listener:
    """An HTTP server on a free loopback port that records every request it receives."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        seen = self.requests

        class Record(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                seen.append(self.path)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Record)
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Listener:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- accessibility: axe-core injected into the page (tests/test_accessibility.py) ---------------

# The WCAG 2.1 level A and AA rules; axe-core tags every rule with the success criteria it checks.
WCAG21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# Runs axe on the whole document and keeps only what a report needs (results are large).
_RUN_AXE = """
const [tags, done] = [arguments[0], arguments[arguments.length - 1]];
axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] })
  .then((r) => done({ violations: r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, help_url: v.helpUrl,
    nodes: v.nodes.map((n) => ({
      target: n.target.flat(Infinity).join(" >>> "), impact: n.impact,
      html: n.html, summary: n.failureSummary || "" })) })) }))
  .catch((e) => done({ error: String(e && e.stack || e) }));
"""


class AxeNode(TypedDict):
    """One element that breaks a rule: its CSS selector, and what axe found wrong with it."""

    target: str
    impact: str
    html: str
    summary: str


class AxeViolation(TypedDict):
    """One axe-core rule the page breaks, with the elements that break it."""

    id: str
    impact: str
    help: str
    help_url: str
    nodes: list[AxeNode]


def axe_script_path() -> Path:
    """Where ``make browser`` installs axe-core: ``$LEGATUS_AXE_JS`` (the Makefile exports it),
    else ``$LEGATUS_CACHE/npm`` (default ``.cache/npm`` in the checkout), as when pytest runs
    by hand."""
    if os.environ.get("LEGATUS_AXE_JS"):
        return Path(os.environ["LEGATUS_AXE_JS"])
    cache = Path(os.environ.get("LEGATUS_CACHE") or ROOT / ".cache")
    return cache / "npm" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(
    driver: WebDriver,
    *,
    impacts: Sequence[str] = ("serious", "critical"),
    tags: Sequence[str] = WCAG21_AA,
) -> list[AxeViolation]:
    """The axe-core violations of the page open in ``driver``, of the given impacts.

    axe is injected with ``execute_script``, which the page's Content-Security-Policy does not
    govern (the script comes from the driver, not from the page). Only the elements whose own
    impact is one of ``impacts`` are kept, and rules left without elements are dropped.

    Example:
        >>> found = axe_violations(driver)  # doctest: +SKIP
        >>> assert not found, format_violations(found)  # doctest: +SKIP
    """
    if driver.execute_script("return typeof window.axe") == "undefined":
        path = axe_script_path()
        if not path.is_file():
            pytest.fail(
                f"axe-core is not installed ({path} does not exist): run `make browser`, which "
                "installs it into $LEGATUS_CACHE/npm (or set LEGATUS_AXE_JS to an axe.min.js)"
            )
        driver.execute_script(path.read_text(encoding="utf-8"))
        if driver.execute_script("return typeof window.axe") == "undefined":
            pytest.fail(f"{path} ran in the page but defined no `axe`")
    driver.set_script_timeout(120)
    result = driver.execute_async_script(_RUN_AXE, list(tags))
    if "error" in result:
        pytest.fail(f"axe.run failed in the page: {result['error']}")
    found: list[AxeViolation] = []
    for rule in result["violations"]:
        if nodes := [n for n in rule["nodes"] if n["impact"] in impacts]:
            found.append(
                AxeViolation(
                    id=rule["id"],
                    impact=rule["impact"],
                    help=rule["help"],
                    help_url=rule["help_url"],
                    nodes=nodes,
                )
            )
    return found


def format_violations(violations: Sequence[AxeViolation], where: str = "") -> str:
    """The violations as an assertion message: one rule a paragraph, one element a line.

    Example:
        >>> print(format_violations([{"id": "label", "impact": "critical",
        ...     "help": "Form elements must have labels", "help_url": "https://x/label",
        ...     "nodes": [{"target": "#q textarea", "impact": "critical", "html": "<textarea>",
        ...                "summary": "Fix any of the following:\\n  no label"}]}], "phone"))
        1 accessibility violation (phone):
        label [critical] Form elements must have labels (https://x/label)
          #q textarea: Fix any of the following: no label
    """
    count = sum(len(v["nodes"]) for v in violations)
    head = f"{count} accessibility violation{'s' if count != 1 else ''}"
    lines = [f"{head} ({where}):" if where else f"{head}:"]
    for v in violations:
        lines.append(f"{v['id']} [{v['impact']}] {v['help']} ({v['help_url']})")
        for node in v["nodes"]:
            lines.append(f"  {node['target']}: {' '.join(node['summary'].split())}")
    return "\n".join(lines)


# What axe leaves out: it ignores placeholder text, and accepts Gradio's default label
# ("Textbox") as a field's name. Colours are read back through a canvas, whatever their notation.
_PLACEHOLDERS = """
const ctx = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
const rgba = (c) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = c; ctx.fillRect(0, 0, 1, 1);
  return [...ctx.getImageData(0, 0, 1, 1).data]; };
const lum = (c) => c.slice(0, 3).map((v) => (v /= 255) <= 0.03928 ? v / 12.92
  : ((v + 0.055) / 1.055) ** 2.4).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
const hex = (c) => "#" + c.slice(0, 3).map((v) => v.toString(16).padStart(2, "0")).join("");
return arguments[0].map((el) => {
  let bg = [255, 255, 255, 255];
  for (let up = el; up; up = up.parentElement) {
    const c = rgba(getComputedStyle(up).backgroundColor);
    if (c[3] > 0) { bg = c; break; }
  }
  const fg = rgba(getComputedStyle(el, "::placeholder").color), a = fg[3] / 255;
  const seen = fg.slice(0, 3).map((v, i) => Math.round(v * a + bg[i] * (1 - a)));
  const [hi, lo] = [lum(seen), lum(bg)].sort((x, y) => y - x);
  return [hex(seen), hex(bg), (hi + 0.05) / (lo + 0.05)];
});
"""
GRADIO_DEFAULT_NAMES = frozenset(
    "textbox dropdown number slider checkbox checkboxgroup radio multimodaltextbox".split()
)


def field_problems(driver: WebDriver, min_contrast: float = 4.5) -> list[str]:
    """What is wrong with the visible form fields that axe does not check: a missing or
    placeholder name (Gradio's "Textbox"), and placeholder text below ``min_contrast``."""
    from selenium.webdriver.common.by import By

    fields = [
        f
        for f in driver.find_elements(By.CSS_SELECTOR, "input:not([type=hidden]), textarea")
        if f.is_displayed()
    ]
    problems = []
    with_text = [f for f in fields if f.get_attribute("placeholder")]
    for field in fields:
        name = (field.accessible_name or "").strip()
        if not name or name.lower() in GRADIO_DEFAULT_NAMES:
            problems.append(f"{_describe(field)}: its accessible name is {name!r}")
    for field, (fg, bg, ratio) in zip(
        with_text, driver.execute_script(_PLACEHOLDERS, with_text), strict=True
    ):
        if ratio < min_contrast:
            problems.append(
                f"{_describe(field)}: placeholder contrast {ratio:.2f}:1 ({fg} on {bg}), "
                f"below {min_contrast}:1"
            )
    return problems


def _describe(field: WebElement) -> str:
    owner = field.find_elements("xpath", "ancestor::*[@id][1]")
    where = f"#{owner[0].get_attribute('id')} " if owner else ""
    return f"{where}{field.tag_name} {field.get_attribute('placeholder') or ''!r}"
