"""Shared fixtures. Each block is owned by one part of the suite; keep them delimited."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "data" / "reports"
DEV_QUESTIONS = ROOT / "eval" / "questions" / "dev.jsonl"
# Converted models are cached inside the checkout (git-ignored), never under ~.
MODEL_CACHE = Path(os.environ.get("LEGATUS_TEST_MODEL_CACHE", ROOT / ".cache" / "models"))

# Nothing may reach a model hub, and nothing may write into the user's home.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HOME", str(ROOT / ".cache" / "hf"))
os.environ.setdefault("MPLCONFIGDIR", str(ROOT / ".cache" / "matplotlib"))


@pytest.fixture(autouse=True)
def _data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every place Legatus writes to at the test's own folder."""
    monkeypatch.setenv("LEGATUS_INDEX__PATH", str(tmp_path / "index"))
    monkeypatch.setenv("LEGATUS_EMBEDDING__CACHE_DIR", str(MODEL_CACHE))
    monkeypatch.setenv("LEGATUS_REPORTS", str(REPORTS))
    return tmp_path


# --- ingest ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bundled_documents():  # type: ignore[no-untyped-def]
    """The two bundled reports, read and cleaned once per session."""
    from ingest import discover, read

    return {doc.doc_id: doc for doc in map(read, discover([REPORTS]))}
