"""One JSON shape of a passage: ``ask --json``, a search hit and LangChain's metadata agree."""

from __future__ import annotations

from assistant.retriever import hit_json, hit_to_document, passage_from_hit
from assistant.types import Answer
from index.types import Hit
from ingest.types import Chunk, DocumentMeta

CHUNK = Chunk.create(
    "hcss", "Frankrijk heeft kernwapens.", 10, 37, ("1. Inleiding", "1.1 Vraag"), title="M",
    ordinal=3, page=4, page_label="iv",
)  # fmt: skip
META = DocumentMeta(doc_id="hcss", title="Monitor", source_file="hcss.txt", language="nl")
HIT = Hit(CHUNK, META, rank=2, score=0.1234567891, dense_score=0.8, lexical_score=None)


def test_a_hit_is_its_passage_plus_what_only_a_hit_has() -> None:
    row, passage = hit_json(HIT), passage_from_hit(HIT).to_json()
    assert {k: v for k, v in row.items() if k in passage and k != "score"} == {
        k: v for k, v in passage.items() if k != "score"
    }
    assert (row["score"], passage["score"]) == (0.1234567891, 0.123457)
    assert row["report"] == "hcss" and row["page_ref"] == "iv" and row["language"] == "nl"
    assert row["section_path"] == ["1. Inleiding", "1.1 Vraag"]
    assert (row["start"], row["end"], row["dense_score"], row["lexical_score"]) == (
        10,
        37,
        0.8,
        None,
    )


def test_langchain_metadata_is_the_hit_json_without_its_text() -> None:
    doc = hit_to_document(HIT)
    assert doc.page_content == CHUNK.text and doc.id == CHUNK.id
    row = {k: v for k, v in hit_json(HIT).items() if k != "text"}
    assert doc.metadata == {**row, "doc_id": row["report"]}  # doc_id: the key users filter on


def test_an_answer_lists_its_passages_in_the_passage_shape() -> None:
    p = passage_from_hit(HIT)
    answer = Answer(question="Wie?", answer="", refused=True, retrieved=(p,))
    assert answer.to_json()["retrieved"] == [p.to_json()]
