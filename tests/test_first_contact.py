"""First contact: what a new user sees from the command line and the install.

A command imports only what it needs, a cold ``legatus ask`` prints nothing on stderr but its
own messages, ``--help`` shows flags without a ``<bool>`` type, the ingest summary gives no
"0 pages" for text reports, and the packaging config declares the question sets as package
data. That the chat page prints none of Gradio's start-up hints: tests/test_web_daily.py.
"""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tests.progress
import ui.cli
import ui.cli_web
from tests.corpus import ANSWERED
from ui.cli import app, count_phrase
from ui.cli_eval import SYSTEM_NAMES

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "Met welke onderzoeksmethoden is de Strategische Monitor tot stand gekomen?"
HEAVY = ("gradio", "matplotlib", "torch", "sentence_transformers", "langchain_text_splitters")


def test_doctests() -> None:
    for module in (ui.cli, ui.cli_web, tests.progress):
        assert doctest.testmod(module).failed == 0, module.__name__


@pytest.mark.parametrize(
    "command", [[], ["ask"], ["ingest"], ["search"], ["eval"], ["serve"], ["feedback", "export"]]
)
def test_help_shows_flags_without_a_type(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    assert "--help" in result.output
    assert "<bool>" not in result.output
    if command == ["ask"]:  # the flags are still listed, and options with values keep types
        assert "--json" in result.output
        assert "<str>" in result.output


def test_eval_help_names_every_baseline_system() -> None:
    from eval.systems import SYSTEMS

    assert SYSTEM_NAMES == SYSTEMS


def _fresh_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_starting_the_cli_imports_no_stage_library() -> None:
    code = "import sys, ui.cli; print(sorted(set(sys.argv[1:]) & set(sys.modules)))"
    readers = ("pypdf", "docx", "ingest.readers")  # the settings import ingest, not its readers
    done = _fresh_python(code.replace("sys.argv[1:]", repr(HEAVY + ("langchain_core", *readers))))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_ingest_package_names_each_of_its_exports_where_it_lives() -> None:
    import ingest

    assert sorted(ingest.__all__) == sorted(ingest._WHERE)
    for name in ingest.__all__:
        assert getattr(ingest, name).__module__ == ingest._WHERE[name], name


def test_ask_imports_neither_the_page_nor_the_plots(tmp_path: Path) -> None:
    # No index here: `ask` stops at loading it, after importing everything it runs with.
    code = (
        "import sys; from typer.testing import CliRunner; from ui.cli import app; "
        f"r = CliRunner().invoke(app, ['ask', {QUESTION!r}]); "
        "print(r.exit_code, sorted({'gradio', 'matplotlib'} & set(sys.modules)))"
    )
    done = _fresh_python(code, LEGATUS_INDEX__PATH=str(tmp_path / "none"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split(maxsplit=1) == ["2", "[]\n"]


def test_count_phrase_leaves_out_pages_only_when_there_are_none() -> None:
    assert count_phrase(documents=3, pages=40, sections=9) == "3 documents, 40 pages, 9 sections"
    assert count_phrase(documents=1, pages=0, sections=2) == "1 documents, 2 sections"


def test_packaging_ships_every_package_and_the_question_sets() -> None:
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert isinstance(config["project"]["license"], str)  # SPDX, not the deprecated table
    setuptools = config["tool"]["setuptools"]
    found = set(find_packages(str(ROOT), include=setuptools["packages"]["find"]["include"]))
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for stage in ("ingest", "index", "assistant", "ui", "eval")
        for init in (ROOT / stage).rglob("__init__.py")
    }
    assert on_disk <= found and {"ingest.readers", "index.models", "eval.questions"} <= found
    patterns = setuptools["package-data"]["eval.questions"]
    shipped = {p.name for pattern in patterns for p in (ROOT / "eval" / "questions").glob(pattern)}
    assert {"dev.jsonl", "wide.jsonl", "holdout.jsonl"} <= shipped


@pytest.mark.slow
def test_ingest_summary_of_a_text_report_has_no_page_count(tmp_path: Path) -> None:
    report = tmp_path / "reports" / "note.md"
    report.parent.mkdir()
    report.write_text(
        "# Een korte notitie\n\n## Inleiding\n\nDe Tweede Kamer sprak over defensie.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["ingest", str(report.parent)])
    assert result.exit_code == 0, result.output
    assert "pages" not in result.output
    assert "1 documents, " in result.output


@pytest.mark.slow
def test_cold_ask_prints_only_the_answer(small_index_path: Path) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("legatus")), "ask", ANSWERED],
        cwd=ROOT,
        env={**os.environ, "LEGATUS_INDEX__PATH": str(small_index_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no "Loading weights" bars, no library banners
    assert "Bronnen / Sources:" in done.stdout
