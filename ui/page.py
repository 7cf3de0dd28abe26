"""What the chat page does, apart from its layout (``ui.web``): one instance serves all sessions.

A session's state is its turns, the answer shown under Sources, the interface language, the
owner of its saved conversations (the login name, else a random id the browser keeps) and the
conversation it adds to. Every handler takes that state and gives back what changes.

Example:
    >>> page = ChatPage(assistant, UISettings(), manifest, feedback, conversations)
    ... # doctest: +SKIP
    >>> *_, last = page.respond("Wat is de kernparaplu?", [], None, None, None, None)
    ... # doctest: +SKIP
"""

from __future__ import annotations

import logging
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.pipeline import Assistant, clean_question
from assistant.stream import FinalAnswer
from assistant.types import Answer, AssistantError, QuestionError
from index.types import IndexManifest, SearchFilters, SearchIndexError
from ui import render
from ui.briefing import briefing_docx, briefing_markdown
from ui.conversations import ConversationError, ConversationStore, StoredTurn
from ui.feedback import FeedbackError, FeedbackStore, Rating
from ui.filters import FilterError, make_filters
from ui.i18n import texts
from ui.live import LiveAssistant, Loaded
from ui.settings import UISettings
from ui.web_text import TEXT

log = logging.getLogger("legatus.web")


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what came of it (an answer, or a message why not)."""

    question: str
    answer: Answer | None = None
    error: str = ""
    filters: SearchFilters | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def t(lang: str) -> Any:
    """The page's texts in ``lang``."""
    return texts(TEXT, lang)


def messages(
    turns: Sequence[Turn],
    live: tuple[str, str] | None = None,
    *,
    lang: str = "en",
    selected: int = -1,
) -> list[dict[str, str]]:
    """The chat as Gradio messages: two per turn (question, numbered answer), then ``live``."""
    out: list[dict[str, str]] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": question_html(turn.question, lang)})
        if turn.answer is None:
            out.append({"role": "assistant", "content": render.error_html(turn.error)})
            continue
        out.append({"role": "assistant", "content": numbered(turn.answer, i, lang, i == selected)})
    if live:
        out += [{"role": "user", "content": live[0]}, {"role": "assistant", "content": live[1]}]
    return out


def numbered(answer: Answer, turn: int, lang: str, selected: bool) -> str:
    """An answer with its number, a copy button, and a mark when Sources shows it."""
    words = t(lang)
    mark = f' <span class="lg-shown">· {render.esc(words["selected"])}</span>' if selected else ""
    head = (
        f'<div class="lg-answer-head"><span class="lg-answer-no">'
        f"{render.esc(words['answer_no'].format(n=turn + 1))}</span>{mark}"
        f'<button type="button" class="lg-copy-answer" data-turn="{turn}">'
        f"{render.esc(words['copy_answer'])}</button></div>"
    )
    css = "lg-turn lg-selected" if selected else "lg-turn"
    return f'<div class="{css}" data-turn="{turn}">{head}{render.answer_html(answer, turn)}</div>'


def question_html(question: str, lang: str = "en") -> str:
    if not question.strip():
        return f'<span class="lg-muted">{render.esc(t(lang)["empty_question"])}</span>'
    short = question if len(question) <= 600 else question[:600] + "…"
    return render.user_html(short)


def question_problem(exc: QuestionError, text: str, limit: int, lang: str) -> str:
    """The page's own words for what is wrong with a question."""
    words = t(lang)
    message = str(exc)
    if "empty" in message:
        return str(words["q_empty"])
    if "characters long" in message:
        return str(words["q_long"].format(length=len(" ".join(text.split())), limit=limit))
    if "no words" in message:
        return str(words["q_words"])
    return _sentence(message)


class ChatPage:
    """The page's behaviour; ``ui.web.build_app`` lays it out and wires the events."""

    def __init__(
        self,
        assistant: Assistant | LiveAssistant,
        settings: UISettings,
        manifest: IndexManifest | None,
        store: FeedbackStore | None,
        conversations: ConversationStore | None = None,
    ) -> None:
        self.live = (
            assistant
            if isinstance(assistant, LiveAssistant)
            else LiveAssistant(assistant, manifest)
        )
        self.settings = settings
        self.store = store
        self.conversations = conversations
        self.notes = Path(tempfile.mkdtemp(prefix="legatus-notes-"))

    def reader(self, request: gr.Request | None) -> Loaded:
        """The index as the visitor of ``request`` may see it: the reports their login's
        groups may read (``UISettings.groups``); without a login, the unlabelled ones only."""
        user = request.username if request is not None else None
        return self.live.current(self.settings.groups_for(user))

    # --- asking ---------------------------------------------------------------------------

    def respond(
        self,
        question: str | None,
        turns: list[Turn],
        reports: list[str] | None,
        publishers: list[str] | None,
        date_from: str | None,
        date_to: str | None,
        lang: str = "en",
        owner: str = "",
        conv: str = "",
        request: gr.Request | None = None,
        *,
        replace_last: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer ``question``: a "searching" state, any draft as it is written, the answer.

        Yields the answer outputs (see :meth:`final`); the question box comes last.
        """
        text = question or ""
        earlier = turns[:-1] if replace_last else turns
        loaded = self.reader(request)  # one index for the whole question, even if one comes in
        limit = loaded.assistant.settings.max_question_chars
        try:
            clean_question(text, limit)
            filters = make_filters(reports, publishers, date_from, date_to)
        except QuestionError as exc:
            turn = Turn(text, error=question_problem(exc, text, limit, lang))
            kept = text.strip() and text
            yield self.final([*earlier, turn], lang, owner, conv, loaded, keep=kept)
            return
        except FilterError as exc:
            turn = Turn(text, error=_sentence(str(exc)))
            yield self.final([*earlier, turn], lang, owner, conv, loaded, keep=text)
            return
        skip = gr.skip()
        pending = (question_html(text, lang), render.pending_html(lang=lang))
        rest = (skip,) * 11  # all but the chat and the question box (see final())
        yield (messages(earlier, pending, lang=lang), *rest, "")
        answer: Answer | None = None
        error = ""
        for draft, got, problem in self._ask(loaded, text, earlier, filters, lang):
            if draft:
                live = (pending[0], render.draft_html(draft, lang=lang))
                yield (messages(earlier, live, lang=lang), *rest, skip)
            answer, error = got, problem
        turn = Turn(text, answer, error, filters)
        conv = self._save(owner, conv, turn, replace_last and bool(turns))
        yield self.final([*earlier, turn], lang, owner, conv, loaded, keep="" if answer else text)

    def _ask(
        self,
        loaded: Loaded,
        text: str,
        turns: Sequence[Turn],
        filters: SearchFilters | None,
        lang: str,
    ) -> Iterator[tuple[str, Answer | None, str]]:
        """(draft so far, None, "") while an LLM writes; then (``""``, answer, error message)."""
        history = [(t.question, t.answer.answer) for t in turns if t.answer is not None]
        try:
            for event in loaded.assistant.ask_stream(text, history=history, filters=filters):
                if isinstance(event, FinalAnswer):
                    yield "", event.answer, ""
                    return
                yield event.text, None, ""
        except (AssistantError, SearchIndexError) as exc:
            yield "", None, _sentence(str(exc))
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("answering failed (reference %s) for question %r", ref, text[:200])
            yield "", None, str(t(lang)["failed"].format(ref=ref))

    def regenerate(
        self,
        turns: list[Turn],
        reports: list[str] | None,
        publishers: list[str] | None,
        date_from: str | None,
        date_to: str | None,
        lang: str = "en",
        owner: str = "",
        conv: str = "",
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again (with the filters now set), in place of its answer."""
        if not turns:
            yield self.final(turns, lang, owner, conv, self.reader(request))
            return
        yield from self.respond(
            turns[-1].question, turns, reports, publishers, date_from, date_to, lang, owner,
            conv, request, replace_last=True,
        )  # fmt: skip

    def final(
        self, turns: list[Turn], lang: str, owner: str, conv: str, loaded: Loaded, keep: str = ""
    ) -> tuple[Any, ...]:
        """The outputs once a turn is done: chat, turns, current, the panel (6), comment,
        conversation id, conversation list, question box. A turn without an answer leaves the
        panel as it was."""
        history = self.history(owner, lang, conv)
        if not turns or turns[-1].answer is None:
            current = max((i for i, x in enumerate(turns) if x.answer), default=-1)
            chat = messages(turns, lang=lang, selected=current)
            skip = gr.skip()
            return (chat, turns, skip, *(skip,) * 6, skip, conv, history, keep)
        current = len(turns) - 1
        chat = messages(turns, lang=lang, selected=current)
        panel = self.panel(turns, current, lang, loaded)
        return (chat, turns, current, *panel, "", conv, history, keep)

    # --- saved conversations ----------------------------------------------------------------

    def _save(self, owner: str, conv: str, turn: Turn, replace: bool) -> str:
        """Store ``turn`` in conversation ``conv`` (made on the first turn); its id."""
        if self.conversations is None or not owner:
            return conv
        stored = StoredTurn(
            id=turn.id, question=turn.question, answer=turn.answer, error=turn.error,
            filters=turn.filters, created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )  # fmt: skip
        store = self.conversations
        try:
            write = store.replace_last if replace else store.append
            if not (conv and write(owner, conv, stored)):  # none yet, or deleted meanwhile
                conv = store.create(owner)
                store.append(owner, conv, stored)
        except ConversationError:
            log.exception("saving the conversation failed")
        return conv

    def history(self, owner: str, lang: str, conv: str) -> Any:
        """The conversation list: (title, id) choices, newest first, ``conv`` chosen."""
        words = t(lang)
        choices: list[tuple[str, str]] = []
        if self.conversations is not None and owner:
            try:
                choices = [(c.title, c.id) for c in self.conversations.list(owner)]
            except ConversationError:
                log.exception("listing conversations failed")
        info = words["history_info"] if choices else words["history_none"]
        value = conv if any(c[1] == conv for c in choices) else None
        return gr.Radio(
            choices=choices, value=value, label=words["history"], info=info, elem_id="lg-history"
        )

    def open(
        self, owner: str, conv: str | None, lang: str, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """Show saved conversation ``conv``: chat, turns, current, panel (6), comment, conv.

        An answer that cites a report the visitor may not read now (its labels, or their
        groups, changed since) is not shown: the turn says so instead.
        """
        loaded = self.reader(request)
        turns: list[Turn] = []
        if self.conversations is not None and owner and conv:
            try:
                found = self.conversations.load(owner, conv)
            except ConversationError:
                log.exception("loading conversation %s failed", conv)
                found = None
            if found is None:
                conv = ""
            else:
                turns = [_readable_turn(s, loaded.hidden, lang) for s in found.turns]
        current = max((i for i, x in enumerate(turns) if x.answer), default=-1)
        chat = messages(turns, lang=lang, selected=current)
        panel = self.panel(turns, current, lang, loaded)
        return (chat, turns, current, *panel, "", conv or "")

    def delete(
        self, owner: str, conv: str, lang: str, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """Delete ``conv`` and start a new one: the outputs of :meth:`open` and the list."""
        if self.conversations is not None and owner and conv:
            try:
                self.conversations.delete(owner, conv)
            except ConversationError:
                log.exception("deleting conversation %s failed", conv)
        return (*self.open(owner, "", lang, request), self.history(owner, lang, ""))

    # --- the source panel, export and feedback of the chosen answer --------------------------

    def panel(
        self, turns: Sequence[Turn], current: int, lang: str, loaded: Loaded
    ) -> tuple[Any, ...]:
        """Sources, note text, the two downloads, rating label and status for answer ``current``
        (report titles as ``loaded``'s reader sees them)."""
        words = t(lang)
        turn = turns[current] if 0 <= current < len(turns) else None
        if turn is None or turn.answer is None:
            off = gr.DownloadButton(value=None, interactive=False)
            return (render.sources_html(None, lang=lang), "", off, off, words["rate_first"], "")
        answer = turn.answer
        titles = titles_of(loaded)
        md, docx = self._notes(turn, answer, lang, titles)
        shown = render.scope_text(turn.filters, titles, lang=lang)
        return (
            render.sources_html(answer, current, shown, lang=lang),
            md.read_text(encoding="utf-8"),
            gr.DownloadButton(value=str(md), interactive=True),
            gr.DownloadButton(value=str(docx), interactive=True),
            words["rate_label"].format(n=current + 1),
            "",
        )

    def _notes(
        self, turn: Turn, answer: Answer, lang: str, titles: dict[str, str]
    ) -> tuple[Path, Path]:
        """The answer's briefing note as Markdown and Word files, written once per turn (the
        panel is shown again on every click on the answer)."""
        stem = self.notes / f"briefing-{_slug(answer.question)}-{turn.id[:6]}"
        md, docx = stem.with_suffix(".md"), stem.with_suffix(".docx")
        if not (md.exists() and docx.exists()):
            # framed in the question's language, whatever the interface's
            scope = render.scope_text(turn.filters, titles, lang=answer.language or lang)
            stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
            docx.write_bytes(briefing_docx(answer, scope, stamp, lang=lang))
            md.write_text(briefing_markdown(answer, scope, stamp, lang=lang), encoding="utf-8")
        return md, docx

    def select(
        self,
        turns: list[Turn],
        lang: str,
        event: gr.SelectData,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """A click on a message shows that answer's sources: chat, current, panel (6), comment."""
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        turn = index // 2 if isinstance(index, int) else -1
        if not 0 <= turn < len(turns) or turns[turn].answer is None:
            return tuple(gr.skip() for _ in range(9))  # nothing to show: keep the panel as it is
        chat = messages(turns, lang=lang, selected=turn)
        return (chat, turn, *self.panel(turns, turn, lang, self.reader(request)), gr.skip())

    def rate(
        self, rating: Rating, comment: str | None, turns: list[Turn], current: int, lang: str = "en"
    ) -> tuple[str, Any]:
        """Store a 👍/👎 (with the comment) for the answer shown: (status, comment box)."""
        words = t(lang)
        turn = turns[current] if 0 <= current < len(turns) else None
        if turn is None or turn.answer is None:
            return words["rate_none"], gr.skip()
        if self.store is None:
            return words["rate_off"], gr.skip()
        comment = (comment or "").strip()
        limit = self.settings.max_comment_chars
        if len(comment) > limit:
            return words["rate_long"].format(length=len(comment), limit=limit), gr.skip()
        try:
            self.store.record(turn.id, turn.answer, rating, comment, turn.filters)
        except FeedbackError:
            log.exception("storing feedback failed")
            return words["rate_failed"], gr.skip()
        thumb = "👍" if rating == "up" else "👎"
        return words["rate_thanks"].format(thumb=thumb, n=current + 1), ""

    def clear(self, owner: str, lang: str, request: gr.Request | None = None) -> tuple[Any, ...]:
        """A new conversation: the outputs of :meth:`delete` without deleting anything."""
        return (*self.open(owner, "", lang, request), self.history(owner, lang, ""))


def titles_of(loaded: Loaded) -> dict[str, str]:
    """Report titles by document id, of the index ``loaded`` shows its reader."""
    manifest = loaded.manifest
    return {d: e.title for d, e in (manifest.documents.items() if manifest else ())}


def _readable_turn(stored: StoredTurn, hidden: frozenset[str], lang: str) -> Turn:
    """A saved turn as the page shows it: without its answer if that cites a ``hidden`` report."""
    answer = stored.answer
    if answer is not None and hidden & answer.drawn_on:
        words = t(lang)
        return Turn(stored.question, None, words["hidden_answer"], stored.filters, stored.id)
    return Turn(stored.question, answer, stored.error, stored.filters, stored.id)


def _sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:]).rstrip(".") + "."


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold())[:40].strip("-") or "answer"
