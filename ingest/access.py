"""Who may read a report: the report's access labels and the reader's groups.

A report's sidecar may name the groups that may read it (``access = ["internal", "bz-dgpz"]``);
a report without labels is for everyone. A reader is described by :data:`Groups`: a set of
group names (a login's groups; the empty set for a reader in no group, who reads the unlabelled
reports only), or None for the index's owner, who reads everything (the command line, which
reads the index files or the database directly anyway). A reader may read a report when the
report has no labels or when they share one.

Labels and group names are compared case-blind; they are short names of letters, digits, ``.``,
``_`` and ``-`` (``bz-dgpz``), so that a typo such as ``"internal, bz"`` is an error, not a
label nobody has.

Example:
    >>> may_read(("internal",), frozenset({"internal", "bz-dgpz"}))
    True
    >>> may_read(("internal",), frozenset()), may_read((), frozenset())
    (False, True)
    >>> sorted(parse_groups("Internal, bz-dgpz"))
    ['bz-dgpz', 'internal']
"""

from __future__ import annotations

import re
from collections.abc import Iterable

Groups = frozenset[str] | None
"""A reader's groups; None: the index's owner, who may read every report."""

_LABEL = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def label(text: str) -> str:
    """``text`` as a label or group name (trimmed, lower case).

    Raises:
        ValueError: it is not one (empty, too long, or with other characters).
    """
    name = text.strip().casefold()
    if not _LABEL.fullmatch(name):
        raise ValueError(
            f"{text!r} is not a group name: use letters, digits, '.', '_' and '-' "
            '(at most 64), one name per list item, e.g. ["internal", "bz-dgpz"]'
        )
    return name


def labels(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` as labels, sorted, each once.

    Raises:
        ValueError: one of them is not a label.
    """
    return tuple(sorted({label(n) for n in names}))


def parse_groups(text: str) -> frozenset[str]:
    """Comma-separated group names (``--as-groups internal,bz-dgpz``); "" is no group.

    Raises:
        ValueError: one of them is not a group name.
    """
    return frozenset(labels(part for part in text.split(",") if part.strip()))


def may_read(access: Iterable[str], groups: Groups) -> bool:
    """Whether a reader of ``groups`` may read a report labelled ``access``."""
    needed = tuple(access)
    return groups is None or not needed or any(x in groups for x in needed)
