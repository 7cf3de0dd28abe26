"""Search filters from what a user typed (CLI flags or the page's fields), validated."""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.types import SearchFilters

_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


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
