"""The citation markers and the refusal token a language model writes into its reply.

The prompt shows passages under opaque ids ``S1`` .. ``Sn``; models cite them in many shapes.
This module only recognises those shapes: ``assistant.llm`` turns a whole reply into a draft,
``assistant.stream`` turns a reply that is still arriving into readable text.
"""

from __future__ import annotations

import re

REFUSAL_TOKEN = "NOT_IN_REPORTS"

# A citation group: [S3], [s3], [3], [S3, S5], [S1-S3], (S3), (S3; S5). Bare "(3)" is not one:
# reports use it for enumerations far more often than models use it for citations.
_ID = r"[Ss]\s?\d{1,3}"
_ID_OR_NUMBER = r"(?:[Ss]\s?)?\d{1,3}"
_SEP = r"\s*(?:[,;&/-]|\band\b|\ben\b)?\s*"
MARKER = re.compile(
    rf"\[\s*{_ID_OR_NUMBER}(?:{_SEP}{_ID_OR_NUMBER})*\s*\]"
    rf"|\(\s*{_ID}(?:{_SEP}{_ID_OR_NUMBER})*\s*\)"
)
LEADING_MARKERS = re.compile(rf"^\s*(?:(?:{MARKER.pattern})\s*)+")
# What a model writes when the passages do not answer (told to write REFUSAL_TOKEN).
REFUSAL = re.compile(r"NOT[\s_-]*IN[\s_-]*(?:THE[\s_-]*)?REPORTS", re.I)

_MARKER_ID = re.compile(r"(?:[Ss]\s?)?(\d{1,3})")
_RANGE = re.compile(r"(?:[Ss]\s?)?(\d{1,3})\s*-\s*(?:[Ss]\s?)?(\d{1,3})")


def ids_in(text: str) -> list[str]:
    """The opaque ids the markers in ``text`` cite, in order (repeats kept).

    Example:
        >>> ids_in("Ja [S2]. Nee [s1-S3] en (S5; 7).")
        ['S2', 'S1', 'S2', 'S3', 'S5', 'S7']
    """
    ids: list[str] = []
    for marker in MARKER.finditer(text):
        inner = marker.group(0)[1:-1]
        for span in _RANGE.finditer(inner):  # [S1-S3] → S1, S2, S3 (bounded)
            lo, hi = int(span.group(1)), int(span.group(2))
            if 0 < hi - lo <= 20:
                ids.extend(f"S{n}" for n in range(lo, hi + 1))
        inner = _RANGE.sub("", inner)
        ids.extend(f"S{int(n)}" for n in _MARKER_ID.findall(inner))
    return ids
