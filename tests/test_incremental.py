"""Incremental re-indexing: only new or changed passages are embedded, deleted reports vanish,
and a failure at any step leaves the previous index as it was.

Each test works on a copy of the small test corpus (tests/corpus.py) and of its index, both made
once per session (``small_reports`` and ``small_index_path`` in conftest.py).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import index.store
from index.dense import vector_id
from index.embedding import Embedder
from index.search import SearchIndex
from index.sentences import context_texts
from index.settings import EmbeddingSettings, IndexSettings
from index.store import MANIFEST_FILE, read_index, read_manifest
from index.types import SCHEMA_VERSION, IndexMismatchError, SearchFilters
from ingest import chunk, read
from ingest.settings import ChunkSettings
from ingest.units import passage_units
from tests import corpus
from tests.corpus import ARCTIC, DOC_IDS, KUSTWACHT, NOORDZEE, ingest_folder
from ui.cli import app

QUESTIONS = [question for question, _ in corpus.QUESTIONS]

NEW_REPORT = """\
# Arctische veiligheid na 2030

## Samenvatting

Het smeltende poolijs opent nieuwe scheepvaartroutes door de Noordelijke IJszee. Rusland breidt
zijn militaire bases langs de Noordelijke Zeeroute uit, en China noemt zichzelf een
'bijna-Arctische staat'. Voor Nederland en de NAVO wordt de Arctische regio daarmee een
strategisch aandachtsgebied.

## Aanbevelingen

Nederland zou moeten investeren in ijsbestendige marineschepen en in samenwerking met
Noorwegen, Denemarken en Finland. Een Arctische strategie voor het Koninkrijk ontbreekt nog.
"""


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self, inner: Embedder, fail_after: int | None = None) -> None:
        self.inner = inner
        self.passages = 0
        self.fail_after = fail_after

    @property
    def settings(self) -> EmbeddingSettings:
        return self.inner.settings

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if self.fail_after is not None and self.passages >= self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.passages += len(texts)
        return self.inner.encode_passages(texts)


@pytest.fixture
def workspace(
    tmp_path: Path, small_reports: Path, small_index_path: Path, embedder: Embedder
) -> tuple[Path, Path]:
    """A copy of the small corpus and of its index, with the copies' paths recorded."""
    reports = tmp_path / "reports"
    shutil.copytree(small_reports, reports)
    path = tmp_path / "index"
    shutil.copytree(small_index_path, path)
    counting = CountingEmbedder(embedder)
    stats = ingest_folder(path, reports, counting)
    assert stats.embedded_chunks == 0 == counting.passages  # only the recorded paths changed
    assert stats.written and set(stats.updated) == set(DOC_IDS)
    return path, reports


def load(path: Path, embedder: Embedder) -> SearchIndex:
    return SearchIndex.load(path, embedder.settings, embedder=embedder)


def signatures(index: SearchIndex, questions: Sequence[str]) -> list[list[tuple]]:
    return [
        [(h.chunk.id, h.score, h.dense_score, h.lexical_score) for h in index.search(q, k=6)]
        for q in questions
    ]


def test_adding_a_report_embeds_only_its_passages(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    before = read_manifest(path).counts.chunks
    _, old_chunks, _, _, old_sentences = read_index(path)
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT, encoding="utf-8")
    new = chunk(read(reports / "arctische-veiligheid.md"), ChunkSettings())
    units = [passage_units(piece.text) for piece in new]
    windows = {w for group in units for w in context_texts(group) if w}
    new_sentences = len({u for group in units for u in group} | windows)
    counting = CountingEmbedder(embedder)

    stats = ingest_folder(path, reports, counting)

    # the new report's passages, sentences and sentence windows are embedded, nothing else
    assert stats.embedded_chunks == len(new) and stats.embedded_sentences == new_sentences > 0
    assert counting.passages == len(new) + new_sentences
    assert stats.reused_chunks == before and stats.added == ("arctische-veiligheid",)
    # the other reports' sentence vectors are carried over exactly
    _, _, _, _, sentences = read_index(path)
    for piece in old_chunks:
        owner = vector_id(piece.id)
        assert np.array_equal(sentences.rows_of(owner), old_sentences.rows_of(owner))
        context = sentences.context_rows_of(owner)
        assert np.array_equal(context, old_sentences.context_rows_of(owner))
    assert set(stats.unchanged) == set(DOC_IDS)
    hits = load(path, embedder).search("Welke Arctische strategie ontbreekt voor Nederland?", k=3)
    assert hits[0].chunk.doc_id == "arctische-veiligheid"


def test_deferred_sentences_make_a_report_answerable_first_and_complete_later(
    workspace: tuple[Path, Path], tmp_path: Path, embedder: Embedder
) -> None:
    """``defer_sentences`` (what ``legatus watch`` does): the new report is written with its
    passage vectors only, searched and answered at once; the next update embeds its sentences,
    and the index is then the one a single update would have written."""
    from assistant.pipeline import Assistant
    from assistant.settings import AssistantSettings
    from index.indexer import update_index

    path, reports = workspace
    whole = tmp_path / "whole"
    shutil.copytree(path, whole)
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT, encoding="utf-8")
    new = chunk(read(reports / "arctische-veiligheid.md"), ChunkSettings())
    counting = CountingEmbedder(embedder)

    first = ingest_folder(path, reports, counting, defer_sentences=True)

    assert first.embedded_chunks == len(new) == counting.passages  # the passages alone
    assert first.embedded_sentences == 0 and first.sentences_pending == len(new)
    _, _, _, _, partial = read_index(path)
    assert all(not len(partial.rows_of(vector_id(p.id))) for p in new)
    question = "Welke Arctische strategie ontbreekt voor Nederland?"
    index = load(path, embedder)
    assert index.search(question, k=3)[0].chunk.doc_id == "arctische-veiligheid"
    answer = Assistant(index, embedder, AssistantSettings()).ask(question)
    assert answer.citations and answer.citations[0].passage.doc_id == "arctische-veiligheid"
    # a further deferred update has nothing to write; a plain one fills the sentences in
    assert not ingest_folder(path, reports, counting, defer_sentences=True).written
    counting.passages = 0
    second = update_index(path, [], ChunkSettings(), counting)  # type: ignore[arg-type]

    assert second.written and second.embedded_chunks == 0 and second.sentences_pending == 0
    assert counting.passages == second.embedded_sentences > 0
    ingest_folder(whole, reports, embedder)
    _, chunks, _, _, sentences = read_index(path)
    _, same_chunks, _, _, expected = read_index(whole)
    assert [c.id for c in chunks] == [c.id for c in same_chunks]
    assert np.array_equal(sentences.owners, expected.owners)
    assert np.allclose(sentences.vectors, expected.vectors, atol=2e-3)
    assert np.allclose(sentences.context, expected.context, atol=2e-3)
    assert not update_index(path, [], ChunkSettings(), counting).written  # type: ignore[arg-type]


def test_reingesting_unchanged_reports_embeds_and_writes_nothing(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    written = (path / "manifest.json").stat().st_mtime_ns
    counting = CountingEmbedder(embedder)
    stats = ingest_folder(path, reports, counting)
    assert counting.passages == 0 and not stats.written
    assert set(stats.unchanged) == set(DOC_IDS)
    assert (path / "manifest.json").stat().st_mtime_ns == written


def test_a_changed_report_reembeds_only_its_changed_passages(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    file = reports / f"{ARCTIC}.md"
    text = file.read_text(encoding="utf-8")
    word, replacement = corpus.CHANGE
    assert text.count(word) == 1
    before = read_manifest(path).documents[ARCTIC].content_hash
    file.write_text(text.replace(word, replacement), encoding="utf-8")
    counting = CountingEmbedder(embedder)

    stats = ingest_folder(path, reports, counting)

    total = len(chunk(read(file), ChunkSettings()))
    assert stats.updated == (ARCTIC,) and set(stats.unchanged) == {KUSTWACHT, NOORDZEE}
    assert 1 <= stats.embedded_chunks <= 3 < total
    assert counting.passages == stats.embedded_chunks + stats.embedded_sentences
    assert read_manifest(path).documents[ARCTIC].content_hash not in ("", before)


def test_a_deleted_report_disappears_from_every_result(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    kustwacht_chunks = len(read_manifest(path).documents[KUSTWACHT].chunk_ids)
    for leftover in reports.glob(f"{KUSTWACHT}*"):
        leftover.unlink()
    counting = CountingEmbedder(embedder)

    stats = ingest_folder(path, reports, counting)

    assert stats.removed == (KUSTWACHT,) and stats.removed_chunks == kustwacht_chunks
    assert counting.passages == 0
    index = load(path, embedder)
    assert set(index.documents) == {ARCTIC, NOORDZEE}
    for question in QUESTIONS:  # the deleted report's own questions among them
        for mode in ("lexical", "hybrid", "dense"):
            hits = index.search(question, k=10, mode=mode)  # type: ignore[arg-type]
            assert hits and all(h.chunk.doc_id in (ARCTIC, NOORDZEE) for h in hits), question
    assert index.search("Kustwacht", filters=SearchFilters(doc_ids=(KUSTWACHT,))) == []


def test_no_prune_keeps_reports_that_are_gone(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    for leftover in reports.glob(f"{KUSTWACHT}*"):
        leftover.unlink()
    stats = ingest_folder(path, reports, CountingEmbedder(embedder), prune=False)
    assert stats.kept == (KUSTWACHT,) and stats.removed == ()
    assert set(read_manifest(path).documents) == set(DOC_IDS)


def test_a_report_that_fails_to_read_keeps_its_indexed_version(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    new = reports / "arctische-veiligheid.md"
    new.write_text(NEW_REPORT, encoding="utf-8")
    ingest_folder(path, reports, CountingEmbedder(embedder))
    new.write_text("", encoding="utf-8")  # now unreadable: no text
    stats = ingest_folder(path, reports, CountingEmbedder(embedder))
    assert "arctische-veiligheid" in stats.kept and stats.removed == ()
    assert "arctische-veiligheid" in read_manifest(path).documents


def test_an_index_from_an_older_version_is_refused_by_search_and_rebuilt_by_ingest(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    path, reports = workspace
    manifest = path / MANIFEST_FILE
    manifest.write_text(
        manifest.read_text(encoding="utf-8").replace(
            f'"schema_version": {SCHEMA_VERSION}', f'"schema_version": {SCHEMA_VERSION - 1}'
        ),
        encoding="utf-8",
    )
    with pytest.raises(IndexMismatchError, match="legatus ingest --rebuild"):
        load(path, embedder)
    counting = CountingEmbedder(embedder)
    stats = ingest_folder(path, reports, counting)
    assert stats.upgraded and stats.written and stats.reused_chunks == 0
    assert stats.embedded_chunks == stats.chunks == read_manifest(path).counts.chunks
    hits = load(path, embedder).search("Northern Sea Route transits", k=3)
    assert hits and hits[0].chunk.doc_id == ARCTIC and hits[0].sentence_score is not None


def test_rebuild_embeds_everything_again(tmp_path: Path, embedder: Embedder) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT, encoding="utf-8")
    path = tmp_path / "index"
    first = ingest_folder(path, reports, CountingEmbedder(embedder))
    before = load(path, embedder).search("Arctische strategie", k=3)
    counting = CountingEmbedder(embedder)
    stats = ingest_folder(path, reports, counting, rebuild=True)
    assert stats.embedded_chunks == first.chunks == stats.chunks
    assert counting.passages == stats.embedded_chunks + stats.embedded_sentences
    assert stats.reused_chunks == 0 and stats.written
    after = load(path, embedder).search("Arctische strategie", k=3)
    assert [h.chunk.id for h in after] == [h.chunk.id for h in before]


def test_switching_to_hnsw_reuses_vectors(workspace: tuple[Path, Path], embedder: Embedder) -> None:
    path, reports = workspace
    flat = load(path, embedder)
    counting = CountingEmbedder(embedder)
    stats = ingest_folder(path, reports, counting, settings=IndexSettings(hnsw_threshold=10))
    assert stats.written and stats.dense_kind == "hnsw" and counting.passages == 0
    hnsw = load(path, embedder)
    assert read_manifest(path).dense.kind == "hnsw"
    for question in QUESTIONS:
        assert hnsw.search(question, k=3, mode="dense")[0].chunk.id == (
            flat.search(question, k=3, mode="dense")[0].chunk.id
        )


# --- failures leave the previous index ---------------------------------------------------------


def _leftovers(path: Path) -> list[Path]:
    return [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.") and p.is_dir()]


@pytest.mark.parametrize("step", ["embedding", "chunk store", "faiss write", "swap"])
def test_a_crash_while_indexing_leaves_the_previous_index(
    workspace: tuple[Path, Path], embedder: Embedder, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    path, reports = workspace
    before = signatures(load(path, embedder), QUESTIONS)
    manifest_before = read_manifest(path)
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT * 8, encoding="utf-8")
    counting = CountingEmbedder(embedder)
    if step == "embedding":
        counting.fail_after = 1  # the first batch goes through, the second fails
        monkeypatch.setattr("index.indexer.EMBED_BATCH", 2)
    elif step == "chunk store":
        real = index.store._write_chunks

        def half_then_crash(file: Path, chunks: Sequence[object]) -> None:
            real(file, chunks[: len(chunks) // 2])  # type: ignore[arg-type]
            raise OSError("simulated crash: disk full")

        monkeypatch.setattr(index.store, "_write_chunks", half_then_crash)
    elif step == "faiss write":

        def crash(self: object, file: Path) -> None:
            file.write_bytes(b"half a faiss index")
            raise OSError("simulated crash while writing the FAISS index")

        monkeypatch.setattr("index.dense.DenseIndex.write", crash)
    else:
        real_replace = index.store.os.replace
        calls = []

        def second_rename_fails(src: Path, dst: Path) -> None:
            calls.append(src)
            if len(calls) == 2:
                raise OSError("simulated crash between the two renames")
            real_replace(src, dst)

        monkeypatch.setattr(index.store.os, "replace", second_rename_fails)

    with pytest.raises((OSError, RuntimeError), match="simulated crash"):
        ingest_folder(path, reports, counting)
    monkeypatch.undo()

    assert read_manifest(path) == manifest_before
    assert signatures(load(path, embedder), QUESTIONS) == before
    assert _leftovers(path) == []


def test_a_write_over_the_file_size_limit_is_an_oserror_and_leaves_the_previous_index(
    workspace: tuple[Path, Path], embedder: Embedder
) -> None:
    """A real failed write, as on a full disk: the process's file size limit (RLIMIT_FSIZE; the
    write fails with EFBIG, Python ignoring SIGXFSZ) set just above the size of the index's
    FAISS file, so that the update's larger one, the first file written, cannot be. FAISS's
    own writer would raise RuntimeError; the index's writes raise OSError, which the CLI and
    the watcher report."""
    import resource

    path, reports = workspace
    before = signatures(load(path, embedder), QUESTIONS)
    manifest_before = read_manifest(path)
    largest = (path / index.store.DENSE_FILE).stat().st_size
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT * 8, encoding="utf-8")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 1024, hard))
    try:
        with pytest.raises(OSError, match="File too large"):
            ingest_folder(path, reports, embedder)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))

    assert read_manifest(path) == manifest_before
    assert signatures(load(path, embedder), QUESTIONS) == before
    assert _leftovers(path) == []
    assert ingest_folder(path, reports, embedder).added == ("arctische-veiligheid",)


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_ingest_indexes_skips_bad_files_and_reports_figures(
    workspace: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, reports = workspace
    monkeypatch.setenv("LEGATUS_INDEX__PATH", str(path))
    (reports / "kapot.pdf").write_bytes(b"%PDF-1.7 this is not a pdf")
    (reports / "arctische-veiligheid.md").write_text(NEW_REPORT, encoding="utf-8")

    result = CliRunner().invoke(app, ["ingest", str(reports)])

    assert result.exit_code == 1, result.output
    assert "skipped" in result.stderr and "kapot.pdf" in result.stderr
    assert f"{len(DOC_IDS) + 1} documents" in result.stdout and "1 skipped" in result.stdout
    assert "index written" in result.stdout and "reports added 1" in result.stdout
    assert "reused" in result.stdout and "embedded" in result.stdout
    assert set(read_manifest(path).documents) == {*DOC_IDS, "arctische-veiligheid"}

    again = CliRunner().invoke(app, ["ingest", str(reports)])
    assert again.exit_code == 1 and "index unchanged" in again.stdout
    assert "embedded 0" in again.stdout
