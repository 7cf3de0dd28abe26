"""A pytest plugin that says what a long session fixture is doing while the suite waits on it.

Building the index of the bundled reports or answering every dev question takes minutes, and
pytest prints nothing meanwhile (not even with ``-q``). Each session-scoped fixture of the suite
with a docstring is announced when it starts, with its docstring's first line, and timed when
it took a second or more::

    [session fixture] bundled_index_path: The bundled reports indexed with the real model … (once)
    [session fixture] bundled_index_path ready in 142 s

Loaded by ``-p tests.progress`` in pyproject.toml's pytest options.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest


def announcement(name: str, doc: str | None) -> str | None:
    """The line shown when the fixture ``name`` starts, or None for an undocumented one.

    >>> announcement("bundled_index_path", "The bundled reports indexed, once per session.\\n\\n…")
    '[session fixture] bundled_index_path: The bundled reports indexed, once per session. …'
    >>> announcement("tmp", None) is None
    True
    """
    first = (doc or "").strip().split("\n", 1)[0].strip()
    return f"[session fixture] {name}: {first} …" if first else None


def _write(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    # Fixtures are set up while output is captured: step outside it, as the reporter does.
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(
    fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest
) -> Generator[None, None, None]:
    line = announcement(fixturedef.argname, fixturedef.func.__doc__)
    ours = fixturedef.func.__module__.split(".")[0] == "tests"  # not pytest's own fixtures
    if fixturedef.scope != "session" or not ours or line is None:
        yield
        return
    _write(request.config, line)
    started = time.perf_counter()
    yield
    seconds = time.perf_counter() - started
    if seconds >= 1:  # a quick one needs no second line
        _write(request.config, f"[session fixture] {fixturedef.argname} ready in {seconds:.0f} s")
