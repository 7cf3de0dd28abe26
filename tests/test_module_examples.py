"""The examples in the docstrings of the pure index modules run as written."""

from __future__ import annotations

import doctest

import pytest

import index.lexical
import index.ranking
import index.terms


@pytest.mark.parametrize("module", [index.ranking, index.terms, index.lexical])
def test_docstring_examples(module) -> None:  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0, module.__name__
