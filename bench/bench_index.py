"""Benchmark of the search index: build, incremental update, query latency, size, memory, scale.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    .venv/bin/python bench/bench_index.py            # bundled reports + 100k-passage scale run
    .venv/bin/python bench/bench_index.py --no-scale # bundled reports only (a few minutes)

Parts:
1. Bundled reports, real model: full build (read, chunk, embed, write), re-ingest with nothing
   changed, incremental add of one report to an index of the other vs full rebuild, index size on
   disk, load time, and query latency p50/p95 over the 40 dev questions in a warm process.
2. Scale (``--scale N``, default 100,000): N synthetic passages (random normalised vectors of the
   model's dimension; text drawn from the bundled reports' vocabulary for BM25), exact (flat)
   versus HNSW: build time, write/load time, size, dense and hybrid query latency, HNSW recall@10
   against exact search, and peak memory. Each kind runs in its own process so that its peak
   memory (``resource.getrusage``) is its own. The query embedding is not part of the scale
   figures (it is measured in part 1).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eval.question_sets import DEV_QUESTIONS, load_questions  # noqa: E402
from index.dense import DenseIndex, vector_id  # noqa: E402
from index.embedding import get_embedder  # noqa: E402
from index.indexer import update_index  # noqa: E402
from index.lexical import LexicalIndex, lexical_texts  # noqa: E402
from index.manifest import lexical_info  # noqa: E402
from index.search import SearchIndex  # noqa: E402
from index.sentences import SentenceIndex  # noqa: E402
from index.settings import EmbeddingSettings, IndexSettings  # noqa: E402
from index.store import read_index, write_index  # noqa: E402
from index.types import (  # noqa: E402
    SCHEMA_VERSION,
    DocumentEntry,
    EmbeddingInfo,
    IndexCounts,
    IndexManifest,
)
from ingest import discover, prepare, read_batch  # noqa: E402
from ingest.settings import ChunkSettings  # noqa: E402
from ingest.types import Chunk  # noqa: E402

REPORTS = ROOT / "data" / "reports"
RESULTS = ROOT / "bench" / "RESULTS.md"
MODEL_CACHE = Path(os.environ.get("LEGATUS_EMBEDDING__CACHE_DIR", ROOT / ".cache" / "models"))
SENTENCES_PER_PASSAGE = 5


def peak_mb() -> float:
    """Peak resident memory of this process in MB.

    ``VmHWM`` where Linux has it: ``getrusage``'s ``ru_maxrss`` survives ``exec``, so a worker
    process would report at least the peak of the process that started it.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def percentiles(ms: Sequence[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


# --- part 1: the bundled reports -------------------------------------------------------------


def bench_bundled(work: Path) -> list[str]:
    settings = EmbeddingSettings(cache_dir=MODEL_CACHE)
    embedder = get_embedder(settings)
    _, load_s = timed(embedder.warm_up)
    files = discover([REPORTS])
    batch, read_s = timed(lambda: read_batch(files))
    cfg = ChunkSettings()
    reports, chunk_s = timed(lambda: prepare(batch, cfg))  # type: ignore[arg-type]

    full = work / "full"
    stats, build_s = timed(lambda: update_index(full, reports, cfg, embedder))
    again, again_s = timed(lambda: update_index(full, reports, cfg, embedder))
    one = work / "one"
    first, rest = reports[:1], reports[1:]
    update_index(one, first, cfg, embedder)
    added, add_s = timed(lambda: update_index(one, [*first, *rest], cfg, embedder))

    index, open_s = timed(lambda: SearchIndex.load(full, settings, embedder=embedder))
    assert isinstance(index, SearchIndex)
    questions = [c.question for c in load_questions(DEV_QUESTIONS)]
    index.search(questions[0])  # warm-up
    lines = [
        f"- model load (warm cache): {load_s:.1f} s; read {len(reports)} reports: {read_s:.2f} s; "
        f"chunk: {chunk_s:.2f} s",
        f"- full build, {stats.chunks} passages (read excluded; embed + write): "  # type: ignore[attr-defined]
        f"{build_s:.1f} s ({stats.chunks / build_s:.1f} passages/s)",  # type: ignore[attr-defined]
        f"- re-ingest, nothing changed: {again_s:.2f} s, embedded "
        f"{again.embedded_chunks}, written: {again.written}",  # type: ignore[attr-defined]
        f"- incremental add of one report ({rest[0].doc_id}) to an index of the other: "
        f"{add_s:.1f} s, embedded {added.embedded_chunks}, reused {added.reused_chunks} "  # type: ignore[attr-defined]
        f"(full rebuild of both: {build_s:.1f} s)",
        f"- index on disk: {folder_mb(full):.2f} MB "
        + ", ".join(
            f"{p.name} {folder_mb(p) if p.is_dir() else p.stat().st_size / 1e6:.2f} MB"
            for p in sorted(full.iterdir())
        )  # fmt: skip
        + f"; load: {open_s * 1000:.0f} ms",
    ]
    for mode in ("hybrid", "dense", "lexical"):
        ms = []
        for question in questions:
            started = time.perf_counter()
            index.search(question, k=5, mode=mode)  # type: ignore[arg-type]
            ms.append(1000 * (time.perf_counter() - started))
        p50, p95 = percentiles(ms)
        lines.append(f"- query latency, {mode}, 40 dev questions, warm: p50 {p50:.1f} ms, "
                     f"p95 {p95:.1f} ms")  # fmt: skip
    vec_ms = []
    for question in questions:
        started = time.perf_counter()
        embedder.encode_queries([question])
        vec_ms.append(1000 * (time.perf_counter() - started))
    p50, p95 = percentiles(vec_ms)
    lines.append(f"- of which query embedding: p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    lines.append(f"- peak memory of the process (model loaded): {peak_mb():.0f} MB")
    return lines


# --- part 2: scale ---------------------------------------------------------------------------


class RandomQueries:
    """Stands in for the embedder at scale: random normalised query vectors."""

    def __init__(self, dimension: int, seed: int = 1) -> None:
        self.rng = np.random.default_rng(seed)
        self.dimension = dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return normalised(self.rng.normal(size=(len(texts), self.dimension)))


def normalised(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def synthetic(n: int, dimension: int, seed: int = 0) -> tuple[list[Chunk], np.ndarray, list[str]]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(REPORTS.glob("*.txt")))
    vocab, counts = np.unique(re.findall(r"[^\W\d_]{2,}", text), return_counts=True)
    rng = np.random.default_rng(seed)
    words = rng.choice(len(vocab), size=(n, 140), p=counts / counts.sum())
    docs = max(1, n // 100)
    chunks = []
    for i in range(n):
        passage = " ".join(vocab[words[i]])
        doc = f"synthetic-{i % docs:05d}"
        section = (f"Sectie {i % 7}",)
        start = i * 1000
        chunks.append(
            Chunk.create(doc, passage, start, start + len(passage), section, title=doc, ordinal=i)
        )
    queries = [" ".join(vocab[rng.choice(len(vocab), 8, p=counts / counts.sum())])
               for _ in range(200)]  # fmt: skip
    # Clustered vectors (like real embeddings) rather than uniform noise: harder for HNSW.
    centres = normalised(rng.normal(size=(200, dimension)))
    vectors = normalised(centres[rng.integers(0, 200, n)] + 0.6 * rng.normal(size=(n, dimension))
                         / np.sqrt(dimension))  # fmt: skip
    return chunks, vectors, queries


def scale_worker(kind: str, n: int, dimension: int) -> dict[str, float]:
    chunks, vectors, queries = synthetic(n, dimension)
    ids = np.fromiter((vector_id(c.id) for c in chunks), dtype=np.int64)
    base = peak_mb()
    threshold = 1 if kind == "hnsw" else n + 1
    settings = IndexSettings(hnsw_threshold=threshold)
    dense, build_s = timed(
        lambda: DenseIndex.build(
            vectors,
            ids,
            hnsw_threshold=threshold,
            hnsw_m=settings.hnsw_m,
            hnsw_ef_construction=settings.hnsw_ef_construction,
            ef_search=settings.hnsw_ef_search,
        )
    )
    assert isinstance(dense, DenseIndex)
    started = time.perf_counter()
    lexical = LexicalIndex(lexical_texts(chunks, settings.lexical_section_context))
    bm25_s = time.perf_counter() - started
    # sentence vectors: SENTENCES_PER_PASSAGE near each passage vector (the bundled mean is 5.4)
    sentence_vectors = np.repeat(vectors.astype(np.float32), SENTENCES_PER_PASSAGE, axis=0)
    sentence_vectors += np.random.default_rng(7).standard_normal(
        sentence_vectors.shape, dtype=np.float32
    ) * np.float32(0.5 / np.sqrt(dimension))
    sentence_vectors /= np.linalg.norm(sentence_vectors, axis=1, keepdims=True)
    sentences = SentenceIndex(sentence_vectors, np.repeat(ids, SENTENCES_PER_PASSAGE))
    docs: dict[str, list[str]] = {}
    for c in chunks:
        docs.setdefault(c.doc_id, []).append(c.id)
    manifest = IndexManifest(
        schema_version=SCHEMA_VERSION, created_at="", updated_at="",
        embedding=EmbeddingInfo(model="synthetic", model_id="synthetic", dimension=dimension,
                                query_prompt="query", passage_prompt="passage"),
        dense=dense.info, lexical=lexical_info(settings), chunking=ChunkSettings(),
        counts=IndexCounts(documents=len(docs), chunks=n, sentences=len(sentences)),
        documents={d: DocumentEntry(doc_id=d, title=d, source_file=d, content_hash="0" * 64,
                                    chunk_ids=ids_) for d, ids_ in docs.items()},
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "index"
        started = time.perf_counter()
        write_index(folder, manifest, chunks, dense, lexical, sentences)
        write_s = time.perf_counter() - started
        size = folder_mb(folder)
        started = time.perf_counter()
        _, _, loaded_dense, loaded_lex, loaded_sentences = read_index(folder)
        load_s = time.perf_counter() - started
    embedder = RandomQueries(dimension)
    index = SearchIndex(
        manifest,
        chunks,
        loaded_dense,
        embedder,  # type: ignore[arg-type]
        settings,
        loaded_lex,
        loaded_sentences,
    )
    qvecs = RandomQueries(dimension, seed=3).encode_queries(queries)
    # queries near the data, as real questions are
    qvecs = normalised(vectors[np.random.default_rng(5).integers(0, n, len(queries))] + qvecs * 0.5)
    dense_ms, found = [], []
    for q in qvecs:
        started = time.perf_counter()
        found.append([i for i, _ in loaded_dense.search(q, 10)])
        dense_ms.append(1000 * (time.perf_counter() - started))
    exact = np.argsort(-(vectors @ qvecs.T), axis=0)[:10].T
    recall = float(
        np.mean(
            [len(set(f) & set(ids[e].tolist())) / 10 for f, e in zip(found, exact, strict=True)]
        )
    )
    hybrid_ms = []
    for text in queries:
        started = time.perf_counter()
        index.search(text, k=5)
        hybrid_ms.append(1000 * (time.perf_counter() - started))
    d50, d95 = percentiles(dense_ms)
    h50, h95 = percentiles(hybrid_ms)
    return {"n": n, "build_s": build_s, "bm25_build_s": bm25_s, "write_s": write_s,
            "load_s": load_s, "size_mb": size, "dense_p50_ms": d50, "dense_p95_ms": d95,
            "hybrid_p50_ms": h50, "hybrid_p95_ms": h95, "recall_at_10": recall,
            "peak_mb": peak_mb(), "data_mb": base}  # fmt: skip


def bench_scale(n: int, dimension: int) -> list[str]:
    lines = [
        f"- {n:,} synthetic passages, dimension {dimension}; HNSW M=32, efConstruction=80, "
        "efSearch=128; 200 queries, k=5 (hybrid: 50 candidates per retriever)",
        "",
        "| kind | build s | BM25 build s | write s | load s | size MB | dense p50/p95 ms "
        "| hybrid p50/p95 ms | recall@10 vs exact | peak MB (data alone) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("flat", "hnsw"):
        out = subprocess.run(
            [sys.executable, __file__, "--scale-worker", kind, str(n), str(dimension)],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(out.stdout.strip().splitlines()[-1])
        lines.append(
            f"| {kind} | {r['build_s']:.1f} | {r['bm25_build_s']:.1f} | {r['write_s']:.1f} "
            f"| {r['load_s']:.2f} | {r['size_mb']:.0f} | {r['dense_p50_ms']:.2f} / "
            f"{r['dense_p95_ms']:.2f} | {r['hybrid_p50_ms']:.1f} / {r['hybrid_p95_ms']:.1f} "
            f"| {r['recall_at_10']:.3f} | {r['peak_mb']:.0f} ({r['data_mb']:.0f}) |"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=100_000, help="Synthetic passages.")
    parser.add_argument("--no-scale", action="store_true", help="Skip the scale run.")
    parser.add_argument("--no-bundled", action="store_true", help="Skip the bundled reports.")
    parser.add_argument("--scale-worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.scale_worker:
        kind, n, dim = args.scale_worker
        print(json.dumps(scale_worker(kind, int(n), int(dim))))
        return
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    machine = (f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
               f"{platform.python_implementation()} {platform.python_version()}")  # fmt: skip
    load = os.getloadavg()[0]
    lines = [f"## Index benchmark, {stamp}", "", f"Machine: {machine}; load average at start "
             f"{load:.1f} (other jobs share the cores: timings are upper bounds).", ""]  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="legatus-bench-"))
    try:
        if not args.no_bundled:
            lines += ["### Bundled reports (real model)", ""]
            lines += bench_bundled(work)
            lines.append("")
            print("\n".join(lines), flush=True)
        if not args.no_scale:
            lines += ["### Scale: flat vs HNSW", ""]
            lines += bench_scale(args.scale, 384)
            lines.append("")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
