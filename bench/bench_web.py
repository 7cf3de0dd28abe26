"""Load test of the chat page: N questions at once against a running `legatus serve` (loopback).

Each simulated user has its own Gradio session and asks one dev-set question through the page's
own ``/ask`` endpoint (the path a browser takes: queue, progressive updates, sources, note).
Reports errors and latency (p50, p95, max) and appends them to bench/RESULTS.md.

Usage:
    legatus serve --port 7860 &          # with an index built by `legatus ingest`
    python bench/bench_web.py --url http://127.0.0.1:7860 --users 20
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
RESULTS = Path(__file__).with_name("RESULTS.md")


@dataclass(frozen=True)
class Outcome:
    seconds: float
    error: str = ""


def ask_once(url: str, question: str) -> Outcome:
    """One user: connect (own session), ask, and check that an answer came back."""
    from gradio_client import Client

    started = time.perf_counter()
    try:
        client = Client(url, verbose=False)
        result = client.predict(question, [], [], "", "", api_name="/ask")
    except Exception as exc:  # the figure to report is how many failed, and why
        return Outcome(time.perf_counter() - started, f"{type(exc).__name__}: {exc}"[:200])
    elapsed = time.perf_counter() - started
    chat = result[0] if isinstance(result, list | tuple) else None
    last = chat[-1] if isinstance(chat, list) and chat else {}
    content = str(last.get("content", "")) if isinstance(last, dict) else ""
    if "lg-answer" not in content or "lg-error" in content:
        return Outcome(elapsed, f"no answer in the reply: {content[:160]!r}")
    return Outcome(elapsed)


def dev_questions(n: int) -> list[str]:
    """``n`` questions of the dev set, all different as long as the set has enough."""
    from eval.question_sets import DEV_QUESTIONS, load_questions

    pool = [case.question for case in load_questions(DEV_QUESTIONS)]
    return [pool[i % len(pool)] for i in range(n)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:7860", help="The running page.")
    parser.add_argument("--users", type=int, default=20, help="Questions sent at once.")
    parser.add_argument("--note", default="", help="Added to the RESULTS.md entry.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to RESULTS.md.")
    args = parser.parse_args()
    if urlparse(args.url).hostname not in LOOPBACK:
        print(f"error: {args.url} is not a loopback address; this load test stays local")
        return 2
    if not 1 <= args.users <= 200:
        print("error: --users must be between 1 and 200")
        return 2
    questions = dev_questions(args.users + 1)
    warm = ask_once(args.url, questions.pop())  # the first answer also loads lazy parts; not timed
    if warm.error:
        print(f"error: the page does not answer: {warm.error}")
        return 2
    load = os.getloadavg()[0]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.users) as pool:
        outcomes = list(pool.map(lambda q: ask_once(args.url, q), questions))
    wall = time.perf_counter() - started
    times = [o.seconds for o in outcomes if not o.error]
    errors = [o.error for o in outcomes if o.error]
    lines = [
        f"users {args.users}, answered {len(times)}, errors {len(errors)}, wall {wall:.1f} s",
    ]
    if times:
        lines.append(
            f"latency p50 {percentile(times, 50):.1f} s, p95 {percentile(times, 95):.1f} s, "
            f"max {max(times):.1f} s, mean {statistics.fmean(times):.1f} s"
        )
    lines += [f"error: {e}" for e in sorted(set(errors))]
    print("\n".join(lines))
    if not args.no_write:
        append_results(args, lines, load)
    return 1 if errors else 0


def append_results(args: argparse.Namespace, lines: list[str], load: float) -> None:
    """Append a section (never rewrite: other benchmarks write to the same file)."""
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    section = [
        f"\n## Chat page under load ({when})\n",
        f"`python bench/bench_web.py --users {args.users}` against `legatus serve` on loopback "
        f"({machine}; load average at start {load:.1f}, other jobs share the cores); each user "
        "asks a different dev-set question in its own session through `/ask`, after one "
        "untimed warm-up." + (f" {args.note}" if args.note else ""),
        "",
        *[f"- {line}" for line in lines],
        "",
    ]
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(section))


if __name__ == "__main__":
    sys.exit(main())
