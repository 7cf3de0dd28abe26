"""Streaming answers: the LLM's reply as it arrives, then the verified answer ``ask`` gives.

The pure part (turning opaque ids into ``[n]`` while a reply arrives in arbitrary pieces) is
checked on hand-written replies; the rest against the real index of the bundled reports and a
real llama.cpp server running the packaged SmolLM2 model, which is also stalled and killed in
the middle of an answer.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from assistant.llm import LLMAnswerer, parse_reply
from assistant.llm_server import LLMServer, free_port, start_server
from assistant.pipeline import Assistant
from assistant.settings import AssistantSettings, LLMSettings
from assistant.stream import DraftText, FinalAnswer, ReadableReply, StreamEvent, final_answer
from assistant.types import Answer, LLMError, Passage
from index.embedding import Embedder
from index.search import SearchIndex

# Answered (not refused) by the bundled reports, so the LLM is asked to draft.
QUESTION = "Waarom is Frankrijk de meest geloofwaardige Europese kernmacht?"
RAW_ID = re.compile(r"[\[(]\s*[Ss]\s?\d|NOT[\s_-]*IN[\s_-]*(?:THE[\s_-]*)?REPORTS", re.I)


# --- pure: readable drafts ---------------------------------------------------------------------

REPLIES = {
    "Frankrijk heeft kernwapens [S1]. Het VK niet [S2][S9].": (
        "Frankrijk heeft kernwapens [1]. Het VK niet [2]."
    ),
    "Ja (S2; S3) en nee [s1-S3]. Zie ook [3].": "Ja [1][2] en nee [3][1][2]. Zie ook [2].",
    "De NAVO [S2, S1] besluit. [S4]": "De NAVO [1][2] besluit.",
    "NOT_IN_REPORTS": "",
    "Not in the reports.": "",
    " Nee, niet (zie 3) [S1]. Afgebroken [S": "Nee, niet (zie 3) [1]. Afgebroken",
}


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 1000])
@pytest.mark.parametrize(("reply", "readable"), REPLIES.items())
def test_readable_reply_is_the_same_however_the_reply_is_cut(
    reply: str, readable: str, size: int
) -> None:
    out = ReadableReply(["S1", "S2", "S3"])
    given = [out.feed(piece) for piece in _pieces(reply, size)] + [out.finish()]
    assert "".join(given) == out.text == readable
    assert not RAW_ID.search(out.text)


def test_readable_numbers_follow_the_first_citation_like_the_verifier() -> None:
    reply = "Eerst [S3]. Dan [S1][S3]. Weer [S3]."
    out = ReadableReply(["S1", "S2", "S3"])
    for piece in _pieces(reply, 4):
        out.feed(piece)
    out.finish()
    assert out.numbers == {"S3": 1, "S1": 2}
    assert out.text == "Eerst [1]. Dan [2][1]. Weer [1]."
    draft = parse_reply(reply, {"S1": "c1", "S2": "c2", "S3": "c3"})
    assert [s.sources for s in draft.sentences] == [("c3",), ("c1", "c3"), ("c3",)]


def test_a_stream_without_a_final_event_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="without a final answer"):
        final_answer([DraftText("Ja", "Ja")])


# --- real index: the extractive answerer streams only its final answer -------------------------


def _same(a: Answer, b: Answer) -> None:
    assert replace(a, latency_ms=0.0) == replace(b, latency_ms=0.0)


@pytest.mark.slow
def test_extractive_stream_is_one_final_event_equal_to_ask(assistant: Assistant) -> None:
    events = list(assistant.ask_stream(QUESTION))
    assert len(events) == 1 and isinstance(events[0], FinalAnswer)
    answer = events[0].answer
    assert not answer.refused and answer.citations
    _same(answer, assistant.ask(QUESTION))


@pytest.mark.slow
def test_stream_refuses_a_bad_question_at_once_as_ask_does(assistant: Assistant) -> None:
    from assistant.types import QuestionError

    with pytest.raises(QuestionError, match="empty"):
        assistant.ask_stream("   ")  # before any event is asked for


# --- real llama.cpp server ---------------------------------------------------------------------


def _server(tmp_path: Path) -> LLMServer:
    return start_server(port=free_port(), ctx=4096, log=tmp_path / "server.log")


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LLMServer]:
    server = _server(tmp_path_factory.mktemp("llm"))
    yield server
    server.stop()


@pytest.fixture
def doomed_server(tmp_path: Path) -> Iterator[LLMServer]:
    """A server of its own for a test that stalls or kills it."""
    server = _server(tmp_path)
    yield server
    if server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop(timeout_s=2)


def _llm_assistant(
    bundled_search_index: SearchIndex, embedder: Embedder, server: LLMServer, **llm: object
) -> Assistant:
    # Few passages and tokens: the model reads the prompt at ~30-80 tokens/s on 2 cores.
    settings = LLMSettings(base_url=server.base_url, timeout_s=300, max_tokens=40, max_passages=2)
    settings = settings.model_copy(update=llm)
    assistant_settings = AssistantSettings(answerer="llm", llm=settings)
    return Assistant(bundled_search_index, embedder, assistant_settings, LLMAnswerer(settings))


def _timed(events: Iterator[StreamEvent]) -> list[tuple[float, StreamEvent]]:
    return [(time.perf_counter(), event) for event in events]


@pytest.mark.slow
def test_llm_stream_gives_drafts_as_written_then_the_answer_ask_gives(
    bundled_search_index: SearchIndex, embedder: Embedder, llm_server: LLMServer
) -> None:
    assistant = _llm_assistant(bundled_search_index, embedder, llm_server)
    timed = _timed(assistant.ask_stream(QUESTION))
    events = [event for _, event in timed]
    drafts = [e for e in events[:-1] if isinstance(e, DraftText)]
    assert isinstance(events[-1], FinalAnswer) and len(drafts) == len(events) - 1
    assert len(drafts) > 1
    assert timed[0][0] < timed[-1][0]  # the first draft came before the answer was ready
    text = ""
    for draft in drafts:  # each draft extends the one before; no opaque id is ever shown
        assert draft.delta and draft.text == text + draft.delta
        assert not RAW_ID.search(draft.text)
        text = draft.text

    streamed = events[-1].answer
    assert streamed.retrieved and "language model at" not in streamed.notice  # it answered
    _same(streamed, assistant.ask(QUESTION))


@pytest.mark.slow
def test_llm_stalling_mid_answer_is_a_timeout_error(doomed_server: LLMServer) -> None:
    passage = Passage(
        chunk_id="c1", doc_id="d", text="Frankrijk heeft operationele en technologische "
        "autonomie over zijn kernwapens.", title="Rapport", section="Kernwapens", score=1.0,
        rank=1,
    )  # fmt: skip
    settings = LLMSettings(base_url=doomed_server.base_url, timeout_s=300, max_tokens=200)
    # Read the prompt once, so that the stalled call's first piece comes at once.
    list(
        LLMAnswerer(settings.model_copy(update={"max_tokens": 16})).stream(
            QUESTION, [passage], "nl"
        )
    )

    answerer = LLMAnswerer(settings.model_copy(update={"timeout_s": 5}))
    pieces = answerer.stream(QUESTION, [passage], "nl")
    next(pieces)  # the first token: stall the server at once, before it can write the rest
    os.kill(doomed_server.process.pid, signal.SIGSTOP)  # the server hangs mid-answer
    stalled = time.perf_counter()
    with pytest.raises(
        LLMError, match=r"stopped in the middle of its answer and sent nothing for 5 s.*TIMEOUT_S"
    ):
        for _ in pieces:
            pass
    assert time.perf_counter() - stalled < 30


@pytest.mark.slow
def test_llm_dying_mid_answer_falls_back_as_ask_does_with_a_readable_notice(
    bundled_search_index: SearchIndex, embedder: Embedder, doomed_server: LLMServer
) -> None:
    assistant = _llm_assistant(
        bundled_search_index, embedder, doomed_server, max_tokens=200, max_passages=1
    )
    events = assistant.ask_stream(QUESTION)
    first = next(events)
    assert isinstance(first, DraftText)
    doomed_server.process.kill()  # the server dies mid-answer
    rest = list(events)
    assert isinstance(rest[-1], FinalAnswer) and len(rest) >= 1
    answer = rest[-1].answer
    assert answer.notice.startswith(
        f"the language model at {doomed_server.base_url} stopped in the middle of its answer "
        "(the connection was lost)"
    )
    assert "legatus llm serve" in answer.notice
    assert answer.answerer == "extractive"
    # The fallback is the extractive answer ask gives for the question.
    extractive = replace(assistant.ask(QUESTION, answerer="extractive"), notice=answer.notice)
    _same(answer, extractive)
