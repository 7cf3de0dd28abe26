"""Which reports are new: each report's indexed-at time, kept while it is unchanged, renewed when
it changes; `legatus reports`; the page's report list marks what came in this week."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from index.store import read_manifest
from tests.corpus import ARCTIC, CHANGE, DOC_IDS, ingest_folder
from ui.cli import app
from ui.render import index_html


def test_indexed_at_is_kept_for_unchanged_reports_and_renewed_for_changed_ones(
    small_reports: Path, tmp_path: Path, embedder: Any, monkeypatch: Any
) -> None:
    folder = tmp_path / "reports"
    shutil.copytree(small_reports, folder)
    index = tmp_path / "index"
    ingest_folder(index, folder, embedder)
    first = {d: e.indexed_at for d, e in read_manifest(index).documents.items()}
    assert set(first) == set(DOC_IDS) and all(first.values())

    ingest_folder(index, folder, embedder)  # nothing changed
    assert {d: e.indexed_at for d, e in read_manifest(index).documents.items()} == first

    markdown = folder / f"{ARCTIC}.md"
    word, replacement = CHANGE
    markdown.write_text(markdown.read_text(encoding="utf-8").replace(word, replacement, 1))
    later = (dt.datetime.fromisoformat(first[ARCTIC]) + dt.timedelta(seconds=1)).isoformat()
    monkeypatch.setattr("index.indexer.dt", _Clock(later))
    ingest_folder(index, folder, embedder)
    now = {d: e.indexed_at for d, e in read_manifest(index).documents.items()}
    assert now[ARCTIC] == later
    assert {d: now[d] for d in DOC_IDS if d != ARCTIC} == {
        d: first[d] for d in DOC_IDS if d != ARCTIC
    }

    monkeypatch.setenv("LEGATUS_INDEX__PATH", str(index))
    listed = CliRunner().invoke(app, ["reports", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert rows[0]["report"] == ARCTIC  # the most recently indexed first
    assert all(r["new"] and r["passages"] > 0 for r in rows) and len(rows) == 3
    assert {"title", "publisher", "date", "indexed_at", "source"} <= set(rows[0])
    text = CliRunner().invoke(app, ["reports"])
    assert text.exit_code == 0 and text.stdout.startswith("new  ")


def test_the_report_list_marks_reports_indexed_this_week(small_index_path: Path) -> None:
    manifest = read_manifest(small_index_path)
    old = manifest.model_copy(
        update={
            "documents": {
                d: e.model_copy(update={"indexed_at": "2020-01-01T00:00:00+00:00"})
                for d, e in manifest.documents.items()
            }
        }
    )
    html = index_html(manifest, lang="nl")
    assert html.count('class="lg-new"') == 3 and "geïndexeerd" in html
    assert 'class="lg-new"' not in index_html(old)
    assert "indexed 2020-01-01 00:00 UTC" in index_html(old)


class _Clock:
    """``datetime`` as ``index.indexer`` uses it, with ``now`` fixed at ``iso``."""

    def __init__(self, iso: str) -> None:
        self.UTC = dt.UTC
        self.timedelta = dt.timedelta
        fixed = dt.datetime.fromisoformat(iso)

        class _DateTime(dt.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
                return fixed

        self.datetime = _DateTime
