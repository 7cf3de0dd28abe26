"""Benchmark of `legatus ask` with the default (extractive) answerer on the bundled reports.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    .venv/bin/python bench/bench_ask.py

Measures, on an index of the bundled reports: end-to-end answer latency (retrieval, sentence
selection, verification) over the development questions (all the gated sets) in a warm process
(p50/p95/max), and the
wall time of one cold `legatus ask` command (process start, model and index load, answer).
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.pipeline import Assistant  # noqa: E402
from assistant.settings import AssistantSettings  # noqa: E402
from eval.question_sets import DEV_SETS, load_questions  # noqa: E402
from index.embedding import get_embedder  # noqa: E402
from index.indexer import update_index  # noqa: E402
from index.search import SearchIndex  # noqa: E402
from index.settings import EmbeddingSettings  # noqa: E402
from ingest import discover, prepare, read_batch  # noqa: E402
from ingest.settings import ChunkSettings  # noqa: E402


def main() -> int:
    cache = Path(os.environ.get("LEGATUS_EMBEDDING__CACHE_DIR", ROOT / ".cache" / "models"))
    settings = EmbeddingSettings(cache_dir=cache)
    embedder = get_embedder(settings)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "index"
        update_index(
            path,
            prepare(read_batch(discover([ROOT / "data" / "reports"]))),
            ChunkSettings(),
            embedder,
        )
        index = SearchIndex.load(path, settings, embedder=embedder)
        assistant = Assistant(index, embedder, AssistantSettings())
        cases = [case for path in DEV_SETS for case in load_questions(path)]
        assistant.ask(cases[0].question)  # warm-up: first encode allocates
        times = []
        for case in cases:
            start = time.perf_counter()
            assistant.ask(case.question)
            times.append((time.perf_counter() - start) * 1000)
        env = {
            **os.environ,
            "LEGATUS_INDEX__PATH": str(path),
            "LEGATUS_EMBEDDING__CACHE_DIR": str(cache),
            "HF_HUB_OFFLINE": "1",
        }
        start = time.perf_counter()
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "legatus"), "ask", cases[0].question, "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        cold = time.perf_counter() - start
    p50, p95 = np.percentile(times, [50, 95])
    lines = [
        "",
        f"## `legatus ask`, extractive answerer — {dt.date.today()} "
        f"({platform.machine()}, {os.cpu_count()} cores)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| warm answer latency p50 ({len(cases)} dev questions) | {p50:.0f} ms |",
        f"| warm answer latency p95 | {p95:.0f} ms |",
        f"| warm answer latency max | {max(times):.0f} ms |",
        f"| cold `legatus ask` (process start, model + index load, answer) | {cold:.1f} s |",
        "",
    ]
    print("\n".join(lines))
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as out:
        out.write("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
