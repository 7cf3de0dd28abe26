"""The examples in the docstrings of the pure modules (and the PostgreSQL ones) run as written."""

from __future__ import annotations

import doctest

import pytest

import assistant.topic
import eval.gate
import index.lexical
import index.postgres.schema
import index.postgres.server
import index.postgres.store
import index.ranking
import index.terms
import ingest.access

MODULES = [
    index.ranking, index.terms, index.lexical, index.postgres.schema, index.postgres.server,
    index.postgres.store, eval.gate, ingest.access, assistant.topic,
]  # fmt: skip


@pytest.mark.parametrize("module", MODULES, ids=[m.__name__ for m in MODULES])
def test_docstring_examples(module) -> None:  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0, module.__name__
