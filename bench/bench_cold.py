"""Benchmark of a cold `legatus ask`: a new process, the model and the index loaded, one answer.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    LEGATUS_INDEX__PATH=/path/to/index .venv/bin/python bench/bench_cold.py [--runs 5]
        [--root /another/checkout --label before]

Each run starts ``legatus ask --json QUESTION`` as a fresh Python process in ``--root`` (default:
this checkout) over the configured index and waits for the answer. Measured per run: wall seconds,
CPU seconds of the process (user + system: less sensitive than wall time to other jobs on the
machine), the command's own ``startup_ms`` (settings, index and model loaded) and ``answer_ms``,
and whether anything came out on stderr. One more run under ``python -X importtime`` says how long
the imports took and whether torch was among them (a question is embedded without it where the
model allows; see index/models/query_encoder.py). For scale it also times a bare interpreter and a
bare ``import sentence_transformers``, what every cold answer paid before. The goal for the whole
command is ≤ 3 s on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")
ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?"
# Runs the checkout's own CLI: `-c` puts the working folder first on the import path.
CLI = "import sys; from ui.cli import main; sys.argv[0] = 'legatus'; main()"


def timed(command: list[str], cwd: Path) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall s, CPU s, the finished process) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def import_profile(stderr: str) -> tuple[float, list[str]]:
    """Seconds spent importing (the top-level modules' cumulative times) and the modules
    imported, from ``python -X importtime``'s report."""
    total, names = 0.0, []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        names.append(name.strip())
        if not name.startswith("  "):  # top level: one space after the bar
            total += int(cumulative) / 1e6
    return total, names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--root", type=Path, default=ROOT, help="The checkout to run.")
    parser.add_argument("--label", default="", help="A name for this run in the results.")
    parser.add_argument("--no-write", action="store_true", help="Print, do not append.")
    args = parser.parse_args()
    if "LEGATUS_INDEX__PATH" not in os.environ:
        print("set LEGATUS_INDEX__PATH to an index of the bundled reports", file=sys.stderr)
        return 2
    load = os.getloadavg()[0]
    ask = [sys.executable, "-c", CLI, "ask", "--json", QUESTION]
    walls, cpus, startups, answers, noisy = [], [], [], [], 0
    for _ in range(args.runs):
        wall, cpu, done = timed(ask, args.root)
        if done.returncode != 0:
            print(f"`legatus ask` failed ({done.returncode}):\n{done.stderr}", file=sys.stderr)
            return 1
        reply = json.loads(done.stdout)
        walls.append(wall)
        cpus.append(cpu)
        startups.append(reply["startup_ms"] / 1000)
        answers.append(reply["answer_ms"] / 1000)
        noisy += bool(done.stderr.strip())
        print(f"wall {wall:.2f} s, CPU {cpu:.2f} s, stderr {len(done.stderr)} characters")
    _, _, profiled = timed([sys.executable, "-X", "importtime", *ask[1:]], args.root)
    import_s, modules = import_profile(profiled.stderr)
    heavy = [m for m in ("torch", "transformers", "sentence_transformers") if m in modules]
    bare_wall, _, _ = timed([sys.executable, "-c", "pass"], args.root)
    floor_wall, floor_cpu, _ = timed(
        [sys.executable, "-c", "import sentence_transformers"], args.root
    )
    load_end = os.getloadavg()[0]
    label = f" ({args.label})" if args.label else ""
    text = (
        f"\n## Cold `legatus ask`{label}, {datetime.now(UTC):%Y-%m-%d %H:%M}\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, CPython "
        f"{platform.python_version()}; load average {load:.1f} at start, {load_end:.1f} at the "
        f"end (other jobs share the cores: wall times are upper bounds, CPU times less so). "
        f"{args.runs} runs of `legatus ask` “{QUESTION}” over the bundled reports' index.\n\n"
        f"- wall: median {statistics.median(walls):.2f} s (runs: "
        f"{', '.join(f'{w:.2f}' for w in walls)}); goal ≤ 3 s on an idle machine\n"
        f"- CPU (user + system): median {statistics.median(cpus):.2f} s\n"
        f"- the command's own startup_ms (settings, index, model): median "
        f"{statistics.median(startups):.2f} s; answer_ms: median "
        f"{statistics.median(answers):.2f} s\n"
        f"- imports (one run under `-X importtime`): {import_s:.2f} s; torch, transformers or "
        f"sentence-transformers imported: {', '.join(heavy) or 'none'}\n"
        f"- runs with anything on stderr: {noisy} of {args.runs}\n"
        f"- for scale: a bare interpreter {bare_wall:.2f} s wall; a bare "
        f"`import sentence_transformers` {floor_wall:.1f} s wall, {floor_cpu:.1f} s CPU\n"
    )
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
