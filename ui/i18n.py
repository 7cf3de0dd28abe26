"""The interface's two languages: which one a visitor gets, and how a module keeps its texts.

Each module of ``ui`` keeps its own texts in a table ``{"en": {...}, "nl": {...}}`` with the same
keys in both (a test checks that), and reads them with :func:`texts`. Which language a visitor
gets comes from the browser (``Accept-Language``) unless they switch; answers themselves are in
the question's language, whatever the interface says.

Example:
    >>> from_accept_language("nl-NL,nl;q=0.9,en-US;q=0.8")
    'nl'
    >>> from_accept_language("de-DE,de;q=0.9")
    'en'
    >>> texts({"en": {"ask": "Ask"}, "nl": {"ask": "Vraag"}}, "nl")["ask"]
    'Vraag'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeGuard

Lang = Literal["en", "nl"]
LANGS: tuple[Lang, ...] = ("en", "nl")
DEFAULT: Lang = "en"

NAMES: dict[Lang, str] = {"en": "English", "nl": "Nederlands"}
"""Each language in its own words, for the switch."""


def is_lang(value: object) -> TypeGuard[Lang]:
    return value in LANGS


def from_accept_language(header: str | None, default: Lang = DEFAULT) -> Lang:
    """The first of the browser's languages (by weight, then order) the interface has.

    A malformed header, or one naming neither language, gives ``default``.
    """
    weighted: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        weighted.append((-q, i, tag.strip().split("-")[0].casefold()))
    for neg_q, _, base in sorted(weighted):
        if neg_q < 0 and is_lang(base):
            return base
    return default


def texts(table: Mapping[str, Mapping[str, str]], lang: str) -> Mapping[str, str]:
    """The texts of ``lang`` in ``table`` (those of the default language for any other)."""
    return table[lang] if lang in table else table[DEFAULT]


def missing_keys(table: Mapping[str, Mapping[str, str]]) -> dict[str, set[str]]:
    """Keys some language of ``table`` lacks, by language: empty when the table is complete."""
    every = set().union(*(set(t) for t in table.values()))
    gaps = {lang: every - set(table.get(lang, {})) for lang in LANGS}
    return {lang: keys for lang, keys in gaps.items() if keys}
