"""Streaming an answer: the language model's reply as it is written, then the verified answer.

``Assistant.ask_stream`` yields zero or more ``DraftText`` events while an LLM writes, then
exactly one ``FinalAnswer`` holding the ``Answer`` that ``Assistant.ask`` returns. A draft is
unverified: the final answer replaces it, whatever it said.

In a draft the model's opaque passage ids (``[S3]``) are shown as ``[n]``, numbering passages
in the order the reply first cites them (the order in which the verifier numbers an answer's
citations, so the numbers agree whenever verification keeps every sentence). Ids of passages
the prompt never showed are left out, and so is the refusal token.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.markers import MARKER, REFUSAL, ids_in
from assistant.types import Answer

T = TypeVar("T")


@dataclass(frozen=True)
class DraftText:
    """The model's reply so far, readable (``[n]`` markers), unverified.

    Example:
        >>> DraftText(text="Frankrijk heeft kernwapens [1].", delta=" [1].").text
        'Frankrijk heeft kernwapens [1].'
    """

    text: str  # the whole draft so far: show this
    delta: str  # what this event added at the end of ``text``


@dataclass(frozen=True)
class FinalAnswer:
    """The verified answer, exactly as ``Assistant.ask`` returns it; always the last event."""

    answer: Answer


StreamEvent = DraftText | FinalAnswer


def final_answer(events: Iterable[StreamEvent]) -> Answer:
    """The answer of a stream's final event (the drafts before it are skipped).

    Example:
        >>> a = Answer(question="Wat?", answer="Niets.", refused=True)
        >>> final_answer([DraftText("Ni", "Ni"), FinalAnswer(a)]) is a
        True
    """
    answer: Answer | None = None
    for event in events:
        if isinstance(event, FinalAnswer):
            answer = event.answer
    if answer is None:
        raise RuntimeError("the answer stream ended without a final answer")
    return answer


def returned(steps: Generator[Any, None, T]) -> T:
    """Run a generator to its end and give what it returns (its yields are dropped).

    Example:
        >>> def steps():
        ...     yield "draft"
        ...     return 42
        >>> returned(steps())
        42
    """
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


# Around a marker: the whitespace before it goes when the marker goes.
_MARKER_AND_SPACE = re.compile(rf"(\s*)({MARKER.pattern})")
_REFUSAL_AND_SPACE = re.compile(rf"\s*(?<![^\W_]){REFUSAL.pattern}(?:\s*[.!])?", re.I)
# The start of a marker whose closing bracket has not arrived yet.
_OPEN_MARKER = re.compile(r"[\[(][\sSs\d,;&/\-aAdDeEnN]*")
_REFUSAL_FORMS = ("NOTINREPORTS", "NOTINTHEREPORTS")
_LOOKBACK = 48  # longest undecided tail: no marker or refusal token is longer


class ReadableReply:
    """A reply's opaque ids turned into ``[n]`` as the reply arrives, piece by piece.

    Text that could still become a marker or the refusal token (``[S``, ``NOT_IN``) and
    trailing spaces are held back until the next piece decides them, so that what has been
    given out never has to change.

    Example:
        >>> reply = ReadableReply(["S1", "S2"])
        >>> [reply.feed(p) for p in ["Ja [S", "2]. Nee [S9", "]. Ook [S2", "][S1].", " NOT_IN"]]
        ['Ja', ' [1]. Nee', '. Ook', ' [1][2].', '']
        >>> reply.finish(), reply.text
        ('', 'Ja [1]. Nee. Ook [1][2].')
    """

    def __init__(self, ids: Iterable[str]) -> None:
        self.known = frozenset(ids)  # the ids the prompt showed
        self.numbers: dict[str, int] = {}
        self.text = ""
        self._pending = ""

    def feed(self, piece: str) -> str:
        """Take the next piece of the reply; give the readable text it settles ("" if none)."""
        self._pending += piece
        cut = _settled(self._pending)
        return self._emit(self._pending[:cut], self._pending[cut:])

    def finish(self) -> str:
        """The reply has ended: give the readable rest (a marker or token cut off is dropped)."""
        return self._emit(self._pending[: _settled(self._pending)], "")

    def _emit(self, settled: str, pending: str) -> str:
        self._pending = pending
        out = _REFUSAL_AND_SPACE.sub("", _MARKER_AND_SPACE.sub(self._marker, settled))
        if not self.text:
            out = out.lstrip()
        self.text += out
        return out

    def _marker(self, match: re.Match[str]) -> str:
        cited = [i for i in dict.fromkeys(ids_in(match.group(2))) if i in self.known]
        for opaque in cited:
            self.numbers.setdefault(opaque, len(self.numbers) + 1)
        if not cited:
            return ""
        return match.group(1) + "".join(f"[{self.numbers[i]}]" for i in cited)


def _settled(text: str) -> int:
    """Where the undecided tail of ``text`` starts: an unclosed marker, a possible start of
    the refusal token, and the spaces before them.

    Example:
        >>> [_settled(t) for t in ("Ja [S1", "Ja [S1]", "Ja NOT_I", "Ja Nee", "Ja  ")]
        [2, 7, 2, 6, 2]
    """
    start = max(0, len(text) - _LOOKBACK)
    cut = len(text)
    for i in range(start, len(text)):
        tail = text[i:]
        if _OPEN_MARKER.fullmatch(tail) or _may_become_refusal(text, i):
            cut = i
            break
    return len(text[:cut].rstrip())


def _may_become_refusal(text: str, i: int) -> bool:
    if text[i] not in "Nn" or (i > 0 and text[i - 1].isalnum()):
        return False
    squashed = re.sub(r"[\s_-]", "", text[i:]).upper()
    return any(f.startswith(squashed) for f in _REFUSAL_FORMS)  # whole: a "." may follow
