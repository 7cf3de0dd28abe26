"""The chat page: questions and answers with numbered citations, their sources, filters, feedback.

Nothing a user or a report wrote becomes markup: ``ui.render`` escapes it, and the chat shows its
messages as HTML without Markdown (Markdown would turn ``![x](http://…)`` in a question into an
image the browser fetches, and bare addresses into links).

Example:
    >>> page = build_app(assistant, Settings().ui, manifest)  # doctest: +SKIP
    >>> serve(page, Settings().ui)  # doctest: +SKIP   (blocks; http://127.0.0.1:7860)
"""

from __future__ import annotations

import logging
import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.pipeline import Assistant, clean_question
from assistant.types import Answer, AssistantError, QuestionError
from index.types import IndexManifest, SearchFilters, SearchIndexError
from ui import assets, render
from ui.feedback import FeedbackError, FeedbackStore, Rating
from ui.filters import FilterError, make_filters, publisher_choices
from ui.live import LiveAssistant, Loaded
from ui.security import edge_middleware
from ui.settings import UISettings

log = logging.getLogger("legatus.web")


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and what came of it (an answer, or a message why not)."""

    question: str
    answer: Answer | None = None
    error: str = ""
    filters: SearchFilters | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def messages(turns: Sequence[Turn], live: tuple[str, str] | None = None) -> list[dict[str, str]]:
    """The chat as Gradio messages: two per turn (question, answer), then ``live`` (both HTML)."""
    out: list[dict[str, str]] = []
    for i, turn in enumerate(turns):
        out.append({"role": "user", "content": _question_html(turn.question)})
        reply = render.answer_html(turn.answer, i) if turn.answer else render.error_html(turn.error)
        out.append({"role": "assistant", "content": reply})
    if live:
        out += [{"role": "user", "content": live[0]}, {"role": "assistant", "content": live[1]}]
    return out


def _question_html(question: str) -> str:
    if not question.strip():
        return '<span class="lg-muted">(empty question)</span>'
    short = question if len(question) <= 600 else question[:600] + "…"
    return render.user_html(short)


class ChatPage:
    """The page's behaviour, apart from its layout: one instance serves all sessions."""

    def __init__(
        self,
        assistant: Assistant | LiveAssistant,
        settings: UISettings,
        manifest: IndexManifest | None,
        store: FeedbackStore | None,
    ) -> None:
        self.live = (
            assistant
            if isinstance(assistant, LiveAssistant)
            else LiveAssistant(assistant, manifest)
        )
        self.settings = settings
        self.store = store
        self.notes = Path(tempfile.mkdtemp(prefix="legatus-notes-"))

    @property
    def assistant(self) -> Assistant:
        """The assistant over the index as it is now (a new one after `legatus ingest`)."""
        return self.live.current().assistant

    @property
    def manifest(self) -> IndexManifest | None:
        return self.live.current().manifest

    @property
    def titles(self) -> dict[str, str]:
        """Report titles by document id, of the index as it is now."""
        return _titles(self.manifest)

    def index_view(self) -> tuple[Any, ...]:
        """Header, report list and filter choices of the index as it is now (on page load)."""
        manifest = self.manifest
        return (
            render.header_html(manifest),
            render.index_html(manifest),
            gr.Dropdown(choices=_report_choices(manifest)),
            gr.Dropdown(choices=publisher_choices(manifest)),
        )

    # --- asking ---------------------------------------------------------------------------

    def respond(
        self,
        question: str | None,
        turns: list[Turn],
        reports: list[str] | None,
        publishers: list[str] | None,
        date_from: str | None,
        date_to: str | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer ``question``: a "searching" state first, then the answer sentence by sentence.

        Yields the outputs (chat, turns, current, sources, note, download, rate label, rate
        status, comment, question box).
        """
        text = question or ""
        loaded = self.live.current()  # the whole question uses one index, even if one comes in
        try:
            clean_question(text, loaded.assistant.settings.max_question_chars)
            filters = make_filters(reports, publishers, date_from, date_to)
        except (QuestionError, FilterError) as exc:
            turn = Turn(text, error=_sentence(str(exc)))
            keep = text if isinstance(exc, FilterError) or text.strip() else ""
            yield self._final([*turns, turn], keep=keep)
            return
        skip = gr.skip()
        pending = (_question_html(text), render.pending_html())
        yield (messages(turns, pending), skip, skip, skip, skip, skip, skip, skip, skip, "")
        answer, error = self._ask(loaded, text, turns, filters)
        turn = Turn(text, answer, error, filters)
        if answer is not None and len(answer.sentences) > 1:
            for upto in range(1, len(answer.sentences)):
                live = (pending[0], render.answer_html(answer, len(turns), upto))
                yield (messages(turns, live), skip, skip, skip, skip, skip, skip, skip, skip, skip)
                time.sleep(0.04)
        yield self._final([*turns, turn], keep="" if answer else text)  # failed: ask again

    def _ask(
        self, loaded: Loaded, text: str, turns: Sequence[Turn], filters: SearchFilters | None
    ) -> tuple[Answer | None, str]:
        history = [(t.question, t.answer.answer) for t in turns if t.answer is not None]
        try:
            return loaded.assistant.ask(text, history=history, filters=filters), ""
        except (AssistantError, SearchIndexError) as exc:
            return None, _sentence(str(exc))
        except Exception:
            ref = uuid.uuid4().hex[:8]
            log.exception("answering failed (reference %s) for question %r", ref, text[:200])
            return None, (
                f"Something went wrong while answering (reference {ref}). The problem has been "
                "logged; please try again, or rephrase the question."
            )

    def _final(self, turns: list[Turn], keep: str = "") -> tuple[Any, ...]:
        """The outputs once a turn is done; a turn without an answer leaves the panel as it was."""
        if turns[-1].answer is None:
            skip = gr.skip()
            return (messages(turns), turns, skip, skip, skip, skip, skip, skip, skip, keep)
        current = len(turns) - 1
        return (messages(turns), turns, current, *self.panel(turns, current), "", keep)

    # --- the source panel, export and feedback of the chosen answer --------------------------

    def panel(self, turns: Sequence[Turn], current: int) -> tuple[Any, ...]:
        """Sources, briefing note, download and feedback label for answer ``current``."""
        turn = turns[current] if 0 <= current < len(turns) else None
        if turn is None or turn.answer is None:
            return (
                render.sources_html(None),
                "",
                gr.DownloadButton(value=None, interactive=False),
                "Ask a question to rate its answer.",
                "",
            )
        answer = turn.answer
        scope = render.scope_text(turn.filters, self.titles)
        note = render.briefing_markdown(
            answer, scope, datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        )
        path = self.notes / f"briefing-{_slug(answer.question)}-{turn.id[:6]}.md"
        path.write_text(note, encoding="utf-8")
        return (
            render.sources_html(answer, current, scope),
            note,
            gr.DownloadButton(value=str(path), interactive=True),
            f"Was answer {current + 1} useful?",
            "",
        )

    def select(self, turns: list[Turn], event: gr.SelectData) -> tuple[Any, ...]:
        """A click on a message shows that answer's sources."""
        index = event.index[0] if isinstance(event.index, list | tuple) else event.index
        turn = index // 2 if isinstance(index, int) else -1
        if not 0 <= turn < len(turns) or turns[turn].answer is None:
            return tuple(gr.skip() for _ in range(7))  # nothing to show: keep the panel as it is
        return (turn, *self.panel(turns, turn), gr.skip())

    def rate(
        self, rating: Rating, comment: str | None, turns: list[Turn], current: int
    ) -> tuple[str, Any]:
        """Store a 👍/👎 (with the comment) for the answer shown in the panel."""
        turn = turns[current] if 0 <= current < len(turns) else None
        if turn is None or turn.answer is None:
            return "Ask a question first; then rate its answer.", gr.skip()
        if self.store is None:
            return "Feedback is not being stored on this server.", gr.skip()
        comment = (comment or "").strip()
        limit = self.settings.max_comment_chars
        if len(comment) > limit:
            return (
                f"Your comment is {len(comment)} characters long; the limit is {limit} "
                "(LEGATUS_UI__MAX_COMMENT_CHARS). Shorten it and rate again.",
                gr.skip(),
            )
        try:
            self.store.record(turn.id, turn.answer, rating, comment, turn.filters)
        except FeedbackError:
            log.exception("storing feedback failed")
            return "Your feedback could not be stored; please tell the administrator.", gr.skip()
        thumb = "👍" if rating == "up" else "👎"
        return f"Thank you: {thumb} recorded for answer {current + 1}.", gr.skip()

    def clear(self) -> tuple[Any, ...]:
        return ([], [], -1, *self.panel([], -1), "")


def _titles(manifest: IndexManifest | None) -> dict[str, str]:
    return {d: e.title for d, e in (manifest.documents.items() if manifest else ())}


def _report_choices(manifest: IndexManifest | None) -> list[tuple[str, str]]:
    """The report filter's (title, id) choices, by title."""
    return sorted((title, d) for d, title in _titles(manifest).items())


def _sentence(message: str) -> str:
    message = message.strip()
    return (message[:1].upper() + message[1:]).rstrip(".") + "."


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold())[:40].strip("-") or "answer"


def build_app(
    assistant: Assistant | LiveAssistant,
    settings: UISettings,
    manifest: IndexManifest | None = None,
    store: FeedbackStore | None = None,
) -> gr.Blocks:
    """The chat page over ``assistant``; start it with :func:`serve`.

    Args:
        assistant: answers the questions; a LiveAssistant (started by the caller) brings new
            reports in without a restart, and each page load shows the index as it is then.
        settings: the page's settings (login, queue, limits).
        manifest: the index's manifest, for the report list and the filters (with a plain
            Assistant; a LiveAssistant carries its own).
        store: where 👍/👎 go; None: feedback is not stored.
    """
    page = ChatPage(assistant, settings, manifest, store)
    manifest = page.manifest
    reports = _report_choices(manifest)
    with gr.Blocks(
        title="Legatus — verified answers from policy reports",
        analytics_enabled=False,  # no usage reports leave the machine
    ) as app:
        turns = gr.State([])
        current = gr.State(-1)
        header = gr.HTML(render.header_html(manifest), elem_id="lg-header")
        with gr.Sidebar(label="Search scope", open=True, width=330):
            gr.Markdown("Search scope", elem_classes="lg-section")
            f_reports = gr.Dropdown(
                reports, multiselect=True, label="Reports", elem_id="lg-f-reports",
                info="Empty: all reports.",
            )  # fmt: skip
            f_publishers = gr.Dropdown(
                publisher_choices(manifest), multiselect=True, label="Publishers",
                elem_id="lg-f-publishers", info="Includes co-publications.",
            )  # fmt: skip
            with gr.Row():
                f_from = gr.Textbox(
                    label="Dated from", placeholder="2022", elem_id="lg-f-from", min_width=110
                )
                f_to = gr.Textbox(
                    label="Dated to", placeholder="2026-03", elem_id="lg-f-to", min_width=110
                )
            reset = gr.Button("Clear filters", size="sm", variant="secondary")
            gr.Markdown("Indexed reports", elem_classes="lg-section")
            index_box = gr.HTML(render.index_html(manifest), elem_id="lg-index")
        with gr.Row(equal_height=False):
            with gr.Column(scale=11, min_width=420):
                chat = gr.Chatbot(
                    [], elem_id="lg-chat", show_label=False, height="calc(100vh - 250px)",
                    min_height=420, buttons=[], feedback_options=None, latex_delimiters=[],
                    layout="panel", placeholder=assets.PLACEHOLDER, render_markdown=False,
                )  # fmt: skip
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        show_label=False, placeholder="Ask about the reports, in Dutch or English",
                        lines=1, max_lines=5, scale=9, elem_id="lg-question", autofocus=True,
                        container=False,
                    )  # fmt: skip
                    ask = gr.Button("Ask", variant="primary", scale=1, min_width=90)
                with gr.Row():
                    # HTML, escaped: the line repeats report titles and what was typed as a date.
                    scope = gr.HTML(
                        render.scope_html("Searching all indexed reports."), elem_id="lg-scope"
                    )
                    new = gr.Button("New conversation", size="sm", scale=0, min_width=160)
            with gr.Column(scale=10, min_width=380):
                with gr.Row(equal_height=True, elem_id="lg-sources-bar"):
                    gr.Markdown("Sources", elem_classes="lg-section")
                    download = gr.DownloadButton(
                        "Download briefing note", interactive=False, size="sm", scale=0,
                        min_width=190, elem_id="lg-download",
                    )  # fmt: skip
                    copy = gr.Button(
                        "Copy note", size="sm", scale=0, min_width=110, elem_id="lg-copy"
                    )
                sources = gr.HTML(render.sources_html(None), elem_id="lg-sources-box")
                rate_label = gr.Markdown("Ask a question to rate its answer.", elem_id="lg-rate")
                with gr.Row(equal_height=True):
                    comment = gr.Textbox(
                        show_label=False, placeholder="Comment (optional)", scale=3,
                        elem_id="lg-comment", max_lines=3, container=False,
                        max_length=settings.max_comment_chars,
                    )  # fmt: skip
                    up = gr.Button("👍 Useful", size="sm", elem_id="lg-up", min_width=100)
                    down = gr.Button("👎 Not useful", size="sm", elem_id="lg-down", min_width=120)
                rate_status = gr.Markdown("", elem_id="lg-rate-status")
                # The note's text, for the copy button (the download holds the same as a file).
                note = gr.Textbox(visible=False)

        panel_out = [sources, note, download, rate_label, rate_status]
        answer_out = [chat, turns, current, *panel_out, comment, question]
        inputs = [question, turns, f_reports, f_publishers, f_from, f_to]
        gr.on(
            [question.submit, ask.click], page.respond, inputs, answer_out, api_name="ask",
            show_progress="hidden", concurrency_id="answer",
        )  # fmt: skip
        chat.select(
            page.select, [turns], [current, *panel_out, comment], api_visibility="private",
            concurrency_limit=None, show_progress="hidden",
        )  # fmt: skip
        for button, rating in ((up, "up"), (down, "down")):
            button.click(
                lambda c, t, i, r=rating: page.rate(r, c, t, i), [comment, turns, current],
                [rate_status, comment], api_visibility="private", concurrency_limit=None,
            )  # fmt: skip
        copy.click(None, [note], None, js=assets.COPY_JS, api_visibility="private")
        for clear in (new.click, chat.clear):
            clear(page.clear, None, [chat, turns, current, *panel_out, comment],
                  api_visibility="private", concurrency_limit=None)  # fmt: skip
        filters = [f_reports, f_publishers, f_from, f_to]
        gr.on(
            [f_reports.change, f_publishers.change, f_from.change, f_to.change],
            lambda *v: _scope_line(page, *v), filters, [scope], api_visibility="private",
            concurrency_limit=None, show_progress="hidden", queue=False,
        )  # fmt: skip
        reset.click(lambda: ([], [], "", ""), None, filters, api_visibility="private",
                    queue=False)  # fmt: skip
        app.load(page.index_view, None, [header, index_box, f_reports, f_publishers],
                 api_visibility="private", queue=False, show_progress="hidden")  # fmt: skip
    return app


def _scope_line(page: ChatPage, *values: Any) -> str:
    try:
        filters = make_filters(*values)
    except FilterError as exc:
        return render.scope_html(f"⚠ {exc}")
    return render.scope_html(f"Searching {render.scope_text(filters, page.titles)}.")


def serve(app: gr.Blocks, settings: UISettings, *, prevent_thread_lock: bool = False) -> None:
    """Start the page: queued (``settings.concurrency`` answers at once), with any login,
    behind :class:`ui.security.EdgeGuard` (security headers, no uploads, bounded requests)."""
    app.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=settings.logins() or None,
        auth_message="Legatus: sign in with the account your administrator gave you.",
        prevent_thread_lock=prevent_thread_lock,
        show_error=False,
        ssr_mode=False,
        footer_links=["api", "settings"],
        theme=assets.theme(),
        css=assets.CSS,
        head=assets.HEAD,
        app_kwargs={"middleware": edge_middleware(settings)},
        max_file_size=0,  # besides the refused routes: Gradio itself takes no file
    )
