"""What the chat-page tests share: a real `legatus serve` process, headless Chromium, and a
listener that records any request the browser should never have made."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

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
def chromium(downloads: Path) -> Iterator[object]:
    """Headless Chromium (selenium) saving downloads in ``downloads``, console log kept."""
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
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land there
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


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
