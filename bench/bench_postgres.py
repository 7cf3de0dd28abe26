"""Benchmark of the PostgreSQL index backend beside the files backend.

Not a test: run it by hand and commit the figures it prints to bench/RESULTS.md::

    .venv/bin/python bench/bench_postgres.py --index ~/.cache/legatus/eval/index
    .venv/bin/python bench/bench_postgres.py --index ... --scale 100000

It starts the local PostgreSQL (``legatus db``'s) on a temporary folder.

Parts:
1. The bundled reports (an index folder made by ``legatus ingest``): import into a new database,
   its size, and search latency p50/p95 of both backends over the 136 development questions per
   mode (question embedding included, the same model for both), and whether their hits agree.
2. Scale (``--scale N``): N synthetic passages as ``bench_index.py`` makes them (clustered
   vectors, 140 words drawn from the reports' vocabulary), one sentence vector per passage
   (the files scale run has 5.4; here the write would move gigabytes of vector text), written
   by the product's ``put_report`` in reports of 1,000 passages; database size; exact dense and
   hybrid search latency of ``PostgresIndex``; then the HNSW indexes an import makes above
   ``postgres_hnsw_threshold`` (passage and sentence vectors): build time, and at ef_search
   40, 100, 200 the product's rankings through them (dense p50/p95 and recall@10 against exact,
   best sentence, BM25) and hybrid p50/p95 with the share of its top 5 that exact search gives
   (question vectors near a passage's, as a real question lies near its evidence).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_index import RandomQueries, normalised, percentiles, synthetic  # noqa: E402

from eval.question_sets import load_questions  # noqa: E402
from index.embedding import get_embedder  # noqa: E402
from index.lexical import lexical_texts  # noqa: E402
from index.postgres.schema import HNSW_BUILD, connect, fit_vector_indexes, migrate  # noqa: E402
from index.postgres.search import PostgresIndex  # noqa: E402
from index.postgres.server import start, stop  # noqa: E402
from index.postgres.store import (  # noqa: E402
    StoredPassage,
    StoredSentence,
    import_files_index,
    put_report,
)
from index.search import SearchIndex  # noqa: E402
from index.settings import EmbeddingSettings, IndexSettings  # noqa: E402
from index.types import DocumentEntry  # noqa: E402

SETS = ("dev", "wide", "holdout")


def _ms(fn, *args, **kw):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn(*args, **kw)
    return out, 1000 * (time.perf_counter() - started)


def _database(dsn: str, name: str) -> str:
    with connect(dsn) as admin:
        admin.autocommit = True
        admin.execute(f"CREATE DATABASE {name}")
    head, _, query = dsn.partition("?")
    return f"{head.rsplit('/', 1)[0]}/{name}?{query}"


def _size_mb(dsn: str) -> float:
    with connect(dsn) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 1e6 if row else float("nan")


def bench_bundled(dsn: str, index_path: Path) -> list[str]:
    embedder = get_embedder(EmbeddingSettings())
    embedder.warm_up()
    target = _database(dsn, "bundled")
    with connect(target) as conn:
        (written, _, _), import_ms = _ms(import_files_index, conn, index_path)
    files = SearchIndex.load(index_path, EmbeddingSettings(), embedder=embedder)
    pg = PostgresIndex.connect(target, EmbeddingSettings(), embedder=embedder)
    sets = [load_questions(ROOT / f"eval/questions/{s}.jsonl") for s in SETS]
    questions = [c.question for cases in sets for c in cases]
    lines = [
        f"- {len(files.chunks)} passages of {written} reports; import into a new database "
        f"{import_ms / 1000:.1f} s; database {_size_mb(target):.0f} MB",
        f"- {len(questions)} development questions, k=8, question embedding included",
        "",
        "| mode | files p50/p95 ms | postgres p50/p95 ms | same hits |",
        "|---|---|---|---|",
    ]
    for mode in ("hybrid", "dense", "lexical"):
        times: dict[str, list[float]] = {"files": [], "pg": []}
        same = 0
        for q in questions:
            a, t_files = _ms(files.search, q, 8, mode=mode)
            b, t_pg = _ms(pg.search, q, 8, mode=mode)
            times["files"].append(t_files)
            times["pg"].append(t_pg)
            same += [h.chunk.id for h in a] == [h.chunk.id for h in b]
        f50, f95 = percentiles(times["files"])
        p50, p95 = percentiles(times["pg"])
        lines.append(
            f"| {mode} | {f50:.1f} / {f95:.1f} | {p50:.1f} / {p95:.1f} | {same}/{len(questions)} |"
        )
    pg.close()
    return lines


class NearData:
    """Stands in for the embedder at scale: for each text, one of the passages' vectors (chosen by
    the text) with noise, normalised, as a question lies near its evidence; the same vector each
    time the text is asked, so the exact and the HNSW runs search for the same thing."""

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self.dimension = vectors.shape[1]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        rows = []
        for t in texts:
            seed = int(hashlib.sha256(t.encode()).hexdigest()[:15], 16)
            rng = np.random.default_rng(seed)
            noise = normalised(rng.normal(size=(1, self.dimension)))[0]
            rows.append(self.vectors[seed % len(self.vectors)] + 0.5 * noise)
        return normalised(np.array(rows))


def bench_scale(dsn: str, n: int, dimension: int = 384) -> list[str]:
    chunks, vectors, queries = synthetic(n, dimension)
    settings = IndexSettings()
    keyword = lexical_texts(chunks, settings.lexical_section_context)
    target = _database(dsn, "scale")
    started = time.perf_counter()
    with connect(target) as conn:
        migrate(conn, dimension)  # no build facts recorded: the reader below checks none
        by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            by_doc.setdefault(c.doc_id, []).append(i)
        for doc, rows in by_doc.items():
            entry = DocumentEntry(doc_id=doc, title=doc, source_file=doc, content_hash="0",
                                  chunk_ids=[chunks[i].id for i in rows])  # fmt: skip
            put_report(conn, entry, [
                StoredPassage(chunks[i], vectors[i], keyword[i],
                              [StoredSentence(chunks[i].text[:80], vectors[i], vectors[i])])
                for i in rows
            ])  # fmt: skip
        conn.execute("ANALYZE")
    write_s = time.perf_counter() - started
    size = _size_mb(target)
    embedder = NearData(vectors)  # the same text, the same vector: the runs compare
    pg = PostgresIndex.connect(target, EmbeddingSettings(), settings, embedder=embedder)  # type: ignore[arg-type]
    qvecs = normalised(
        vectors[np.random.default_rng(5).integers(0, n, len(queries))]
        + RandomQueries(dimension, seed=3).encode_queries(queries) * 0.5
    )[:50]
    exact_ms, exact_ids = [], []
    for q in qvecs:
        found, t = _ms(pg._dense_ranking, q, 10, None)
        exact_ms.append(t)
        exact_ids.append({r for r, _ in found})
    hybrid_ms = [_ms(pg.search, text, 5)[1] for text in queries[:50]]
    e50, e95 = percentiles(exact_ms)
    h50, h95 = percentiles(hybrid_ms)
    lines = [
        f"- {n:,} synthetic passages (dimension {dimension}, {len(by_doc)} reports), written by "
        f"put_report in {write_s:.0f} s; database {size:,.0f} MB",
        f"- PostgresIndex, exact: dense top-10 p50/p95 {e50:.0f} / {e95:.0f} ms; hybrid (k=5, "
        f"50 candidates per ranking, BM25 in SQL) p50/p95 {h50:.0f} / {h95:.0f} ms (50 queries)",
    ]
    exact_hybrid = [[h.chunk.id for h in pg.search(text, 5)] for text in queries[:50]]
    pg.close()
    with connect(target) as conn:
        started = time.perf_counter()
        fit_vector_indexes(conn, 1)  # what an import does above postgres_hnsw_threshold
        build_s = time.perf_counter() - started
    lines.append(
        f"- HNSW ({HNSW_BUILD.replace(' ', '')}) on the passage and sentence vectors, as the "
        f"import makes them: built in {build_s:.0f} s; database now {_size_mb(target):,.0f} MB"
    )
    lines += [
        "",
        "| ef_search | dense top-10 p50/p95 ms | recall@10 | best-sentence p50 ms | BM25 p50 ms "
        "| hybrid p50/p95 ms | hybrid top-5 as exact |",
        "|---|---|---|---|---|---|---|",
    ]
    for ef in (40, 100, 200):
        tuned = settings.model_copy(update={"hnsw_ef_search": ef})
        ann = PostgresIndex.connect(target, EmbeddingSettings(), tuned, embedder=embedder)  # type: ignore[arg-type]
        assert ann.approximate
        times, recall, sentence_ms, lexical_ms = [], [], [], []
        for q, truth in zip(qvecs, exact_ids, strict=True):
            found, t = _ms(ann._dense_ranking, q, 10, None)
            times.append(t)
            recall.append(len({r for r, _ in found} & truth) / 10)
            sentence_ms.append(_ms(ann._sentence_ranking, q, 50, None)[1])
        for text in queries[:50]:
            lexical_ms.append(_ms(ann._lexical_ranking, text, 50, None, cross_lingual=True)[1])
        hybrid, same = [], 0
        for text, truth_ids in zip(queries[:50], exact_hybrid, strict=True):
            hits, t = _ms(ann.search, text, 5)
            hybrid.append(t)
            same += len({h.chunk.id for h in hits} & set(truth_ids)) / 5
        d50, d95 = percentiles(times)
        h50, h95 = percentiles(hybrid)
        lines.append(
            f"| {ef} | {d50:.1f} / {d95:.1f} | {np.mean(recall):.2f} | "
            f"{percentiles(sentence_ms)[0]:.1f} | {percentiles(lexical_ms)[0]:.0f} | "
            f"{h50:.0f} / {h95:.0f} | {same / 50:.2f} |"
        )
        ann.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True, help="A files index of the reports.")
    parser.add_argument("--scale", type=int, default=0, help="Synthetic passages (0: none).")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="legatus-bench-pg-") as tmp:
        db = start(Path(tmp) / "data")
        try:
            for line in bench_bundled(db.dsn, args.index.expanduser()):
                print(line, flush=True)
            if args.scale:
                print(flush=True)
                for line in bench_scale(db.dsn, args.scale):
                    print(line, flush=True)
        finally:
            stop(db.data)


if __name__ == "__main__":
    main()
