"""Benchmark of the chat page's start: from `legatus serve` printing its address to a first answer.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    LEGATUS_INDEX__PATH=/path/to/index .venv/bin/python bench/bench_startup.py [--runs 3]

Each run starts a real `legatus serve` on a free loopback port over the configured index, reads
its output until it prints the page's address, and at once asks one question through the page's
own ``/ask`` endpoint (as a browser does: queue, updates, sources). Measured per run: seconds
from the start of the process to the address (model, index and example questions loaded), and
seconds from the address to the first complete answer. The goal of the second is ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
QUESTION = "Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(legatus: str, folder: Path) -> tuple[float, float]:
    """(seconds to the printed address, seconds from there to the first answer)."""
    from gradio_client import Client

    port = free_port()
    env = {
        **os.environ,
        "LEGATUS_UI__FEEDBACK_DB": str(folder / f"feedback-{port}.sqlite3"),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [legatus, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Legatus chat page on http://" in line:
                break
        else:
            raise SystemExit(f"legatus serve exited with {proc.wait()} before printing its address")
        ready = time.perf_counter()
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        chat = client.predict(QUESTION, [], [], "", "", api_name="/ask")[0]
        answered = time.perf_counter()
        if "lg-cite" not in str(chat[-1]["content"]):
            raise SystemExit(f"the first answer has no citation: {chat[-1]['content'][:300]}")
        return ready - started, answered - ready
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    legatus = str(Path(sys.executable).with_name("legatus"))
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"legatus-bench-startup-{os.getpid()}"
    folder.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    runs = [one_run(legatus, folder) for _ in range(args.runs)]
    ready = [r[0] for r in runs]
    first = [r[1] for r in runs]
    lines = [
        f"## Chat page start-up, {datetime.now(UTC):%Y-%m-%d %H:%M}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, CPython "
        f"{platform.python_version()}; load average at start {load:.1f}. `legatus serve` over "
        f"the bundled reports' index, {args.runs} runs; question: “{QUESTION}”.",
        "",
        f"- process start → address printed (model, index, example questions loaded): "
        f"median {statistics.median(ready):.1f} s (runs: "
        + ", ".join(f"{x:.1f}" for x in ready)
        + ")",
        f"- address printed → first answer through the page's /ask: median "
        f"{statistics.median(first):.2f} s, max {max(first):.2f} s (goal ≤ 2 s; runs: "
        + ", ".join(f"{x:.2f}" for x in first)
        + ")",
        "",
    ]
    print("\n".join(lines))
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n" + "\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
