"""Search filters from what a user typed (CLI flags or the page's fields), validated."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.types import IndexManifest, SearchFilters

_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
# Between the organisations of a co-publication. Not "/", which belongs to names ("TNO/Defensie",
# "Instituut Fysieke Veiligheid/COT"), nor "en" after a hyphen, which joins two halves of one
# word ("Veiligheids- en Crisismanagement").
_CO_PUBLISHERS = re.compile(r"(?<!-)\s+(?:en|and|&)\s+|\s*[,;]\s*")


class FilterError(ValueError):
    """A filter field holds something that is not a date; the message says what to type."""


def make_filters(
    reports: Sequence[str] | None,
    publishers: Sequence[str] | None,
    date_from: str | None,
    date_to: str | None,
) -> SearchFilters | None:
    """The filter fields as SearchFilters (None when nothing is chosen).

    Raises:
        FilterError: a date is not YYYY, YYYY-MM or YYYY-MM-DD, or the range is reversed.
    """
    bounds = []
    for name, value in (("from", date_from), ("to", date_to)):
        value = (value or "").strip()
        if value and not _DATE.match(value):
            raise FilterError(
                f"The date '{value}' in “{name}” is not a date: type 2022, 2022-06 or 2022-06-30."
            )
        bounds.append(value or None)
    if bounds[0] and bounds[1] and bounds[0][: len(bounds[1])] > bounds[1]:
        raise FilterError(f"The date range {bounds[0]} to {bounds[1]} is empty: swap the dates.")
    filters = SearchFilters(tuple(reports or ()), tuple(publishers or ()), bounds[0], bounds[1])
    return filters if filters.active else None


def publisher_choices(manifest: IndexManifest | None) -> list[str]:
    """Each organisation once, co-publications split ("HCSS en Instituut Clingendael").

    A name with a "/" stays whole; the publisher filter matches part of a name, so choosing
    it finds exactly the reports of that publisher.

    Example:
        >>> from index.types import IndexManifest
        >>> publisher_choices(None)
        []
    """
    names: set[str] = set()
    for entry in manifest.documents.values() if manifest else ():
        names.update(n.strip() for n in _CO_PUBLISHERS.split(entry.publisher) if n.strip())
    return sorted(names, key=str.casefold)
