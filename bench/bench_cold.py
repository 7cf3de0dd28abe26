"""Benchmark of a cold `legatus ask`: a new process, the model and the index loaded, one answer.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    LEGATUS_INDEX__PATH=/path/to/index .venv/bin/python bench/bench_cold.py [--runs 5]
        [--root /another/checkout --label before]

Each run starts ``legatus ask QUESTION`` as a fresh Python process in ``--root`` (default: this
checkout) over the configured index and waits for the answer. Measured per run: wall seconds,
CPU seconds of the process (user + system: less sensitive than wall time to other jobs on the
machine), and whether anything came out on stderr. For scale it also times a bare
``import sentence_transformers``, the floor a cold answer with the embedding model cannot go
under. The goal for the whole command is ≤ 3 s on an idle machine.
"""

from __future__ import annotations

import argparse
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


def timed(command: list[str], cwd: Path) -> tuple[float, float, str, int]:
    """(wall s, CPU s, stderr, exit status) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stderr, done.returncode


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
    walls, cpus, noisy = [], [], 0
    for _ in range(args.runs):
        wall, cpu, stderr, status = timed([sys.executable, "-c", CLI, "ask", QUESTION], args.root)
        if status != 0:
            print(f"`legatus ask` failed ({status}):\n{stderr}", file=sys.stderr)
            return 1
        walls.append(wall)
        cpus.append(cpu)
        noisy += bool(stderr.strip())
        print(f"wall {wall:.1f} s, CPU {cpu:.1f} s, stderr {len(stderr)} characters")
    floor_wall, floor_cpu, _, _ = timed(
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
        f"- wall: median {statistics.median(walls):.1f} s (runs: "
        f"{', '.join(f'{w:.1f}' for w in walls)}); goal ≤ 3 s on an idle machine\n"
        f"- CPU (user + system): median {statistics.median(cpus):.1f} s\n"
        f"- runs with anything on stderr: {noisy} of {args.runs}\n"
        f"- for scale, a bare `import sentence_transformers`: {floor_wall:.1f} s wall, "
        f"{floor_cpu:.1f} s CPU\n"
    )
    print(text)
    if not args.no_write:
        with RESULTS.open("a", encoding="utf-8") as out:
            out.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
