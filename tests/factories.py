"""Hand-built values the page and note tests share (the assistant's real answers come from the
``assistant`` fixture; these are for pure rendering logic)."""

from __future__ import annotations

from assistant.types import Passage


def passage(
    n: int = 1, text: str = "Eerste zin. Tweede zin over methoden.", **kw: object
) -> Passage:
    """Passage ``c<n>`` of the HCSS monitor, section "1. Inleiding › Methodologie", p. 12."""
    fields: dict[str, object] = {
        "chunk_id": f"c{n}", "doc_id": "hcss", "text": text, "title": "Monitor",
        "section": "1. Inleiding › Methodologie", "score": 1.0, "rank": n,
        "publisher": "HCSS", "date": "2022-01", "page": 12,
    }  # fmt: skip
    fields.update(kw)
    return Passage(**fields)  # type: ignore[arg-type]
