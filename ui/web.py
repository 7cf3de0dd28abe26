"""The chat page's layout and wiring; what each event does is in ``ui.page``.

Nothing a user or a report wrote becomes markup: ``ui.render`` escapes it, and the chat shows its
messages as HTML without Markdown (Markdown would turn ``![x](http://…)`` in a question into an
image the browser fetches, and bare addresses into links).

Example:
    >>> page = build_app(assistant, Settings().ui, manifest)  # doctest: +SKIP
    >>> serve(page, Settings().ui)  # doctest: +SKIP   (blocks; http://127.0.0.1:7860)
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from assistant.pipeline import Assistant
from index.types import IndexManifest
from ui import assets, render
from ui import web_parts as parts
from ui.conversations import ConversationStore
from ui.feedback import FeedbackStore
from ui.filters import FilterError, make_filters, publisher_choices
from ui.i18n import LANGS, NAMES, from_accept_language, is_lang
from ui.live import LiveAssistant
from ui.owners import new_browser_id, owner_key
from ui.page import ChatPage, Turn, messages, t
from ui.reader import mount_reader
from ui.security import edge_middleware
from ui.settings import UISettings

log = logging.getLogger("legatus.web")

__all__ = ["ChatPage", "FilterError", "Turn", "build_app", "make_filters", "messages", "serve"]


def build_app(
    assistant: Assistant | LiveAssistant,
    settings: UISettings,
    manifest: IndexManifest | None = None,
    store: FeedbackStore | None = None,
    conversations: ConversationStore | None = None,
) -> gr.Blocks:
    """The chat page over ``assistant``; start it with :func:`serve`.

    Args:
        assistant: answers the questions; a LiveAssistant (started by the caller) brings new
            reports in without a restart, and each page load shows the index as it is then.
        settings: the page's settings (login, queue, limits).
        manifest: the index's manifest, for the report list and the filters (with a plain
            Assistant; a LiveAssistant carries its own).
        store: where 👍/👎 go; None: feedback is not stored.
        conversations: where conversations are saved; None: they last as long as the page.
    """
    page = ChatPage(assistant, settings, manifest, store, conversations)
    examples = parts.Examples()
    # What every visitor may see (the unlabelled reports), until start-up shows their own.
    public = page.reader(None)
    for code in LANGS:  # drawn (and checked by answering them) before the page is up
        examples(code, public)
    x = t("en")
    with gr.Blocks(
        title=x["title"],
        analytics_enabled=False,  # no usage reports leave the machine
    ) as app:
        app.legatus_page = page  # type: ignore[attr-defined]  # for serve() and tests
        turns = gr.State([])
        current = gr.State(-1)
        lang = gr.State("en")
        owner = gr.State("")
        conv = gr.State("")
        browser_id = gr.BrowserState("", storage_key="legatus-owner")
        saved_lang = gr.BrowserState("", storage_key="legatus-language")
        saved_conv = gr.BrowserState("", storage_key="legatus-conversation")
        with gr.Row(elem_id="lg-top", equal_height=True):
            header = gr.HTML(parts.header(public, "en"), elem_id="lg-header")
            language = gr.Radio(
                [(NAMES[code], code) for code in LANGS], value="en", label=x["language"],
                show_label=False, elem_id="lg-language", scale=0, min_width=250,
                container=False,
            )  # fmt: skip
        with gr.Sidebar(label=x["scope"], open=True, width=330, elem_id="lg-sidebar"):
            history = page.history("", "en", "")
            delete = gr.Button(x["delete"], size="sm", variant="secondary", elem_id="lg-delete")
            h_scope = gr.Markdown(x["scope"], elem_classes="lg-section")
            f_reports = gr.Dropdown(
                parts.report_choices(public.manifest), multiselect=True, label=x["reports"],
                elem_id="lg-f-reports", info=x["reports_info"],
            )  # fmt: skip
            f_publishers = gr.Dropdown(
                publisher_choices(public.manifest), multiselect=True, label=x["publishers"],
                elem_id="lg-f-publishers", info=x["publishers_info"],
            )  # fmt: skip
            with gr.Row():
                f_from = gr.Textbox(
                    label=x["date_from"], placeholder="2022", elem_id="lg-f-from", min_width=110
                )
                f_to = gr.Textbox(
                    label=x["date_to"], placeholder="2026-03", elem_id="lg-f-to", min_width=110
                )
            reset = gr.Button(x["clear_filters"], size="sm", variant="secondary")
            h_indexed = gr.Markdown(x["indexed"], elem_classes="lg-section")
            index_box = gr.HTML(render.index_html(public.manifest), elem_id="lg-index")
        with gr.Row(equal_height=False, elem_id="lg-main"):
            with gr.Column(scale=11, min_width=320, elem_id="lg-chat-col"):
                chat = gr.Chatbot(
                    [], elem_id="lg-chat", show_label=False, label=x["title"],
                    height="calc(100vh - 270px)", min_height=300, buttons=[],
                    feedback_options=None, latex_delimiters=[], layout="panel",
                    placeholder=assets.placeholder("en"), render_markdown=False,
                )  # fmt: skip
                with gr.Row(equal_height=True, elem_id="lg-ask-row"):
                    question = gr.Textbox(
                        label=x["question"], show_label=False,
                        placeholder=x["question_placeholder"], lines=1, max_lines=5, scale=9,
                        elem_id="lg-question", autofocus=True, container=False,
                        interactive=False,
                    )  # fmt: skip
                    ask = gr.Button(
                        x["ask"], variant="primary", scale=1, min_width=80, interactive=False
                    )
                    stop = gr.Button(x["stop"], scale=0, min_width=70, elem_id="lg-stop")
                with gr.Row(elem_id="lg-under"):
                    # HTML, escaped: the line repeats report titles and what was typed as a date.
                    scope = gr.HTML(
                        render.scope_html(x["searching"].format(scope="all indexed reports")),
                        elem_id="lg-scope",
                    )
                    regenerate = gr.Button(
                        x["regenerate"], size="sm", scale=0, min_width=150, elem_id="lg-regen"
                    )
                    new = gr.Button(x["new"], size="sm", scale=0, min_width=150, elem_id="lg-new")
            with gr.Column(scale=10, min_width=320, elem_id="lg-sources-col"):
                with gr.Row(equal_height=True, elem_id="lg-sources-bar"):
                    h_sources = gr.Markdown(x["sources"], elem_classes="lg-section")
                    download_md = gr.DownloadButton(
                        x["download_md"], interactive=False, size="sm", scale=0,
                        min_width=110, elem_id="lg-download",
                    )  # fmt: skip
                    download_docx = gr.DownloadButton(
                        x["download_docx"], interactive=False, size="sm", scale=0,
                        min_width=110, elem_id="lg-download-docx",
                    )  # fmt: skip
                    copy = gr.Button(
                        x["copy_note"], size="sm", scale=0, min_width=80, elem_id="lg-copy",
                        interactive=False,
                    )  # fmt: skip
                with gr.Group(elem_id="lg-rating"):
                    rate_label = gr.Markdown(x["rate_first"], elem_id="lg-rate")
                    with gr.Row(equal_height=True):
                        comment = gr.Textbox(
                            label=x["comment"], show_label=False,
                            placeholder=x["comment_placeholder"], scale=3, elem_id="lg-comment",
                            max_lines=3, container=False, max_length=settings.max_comment_chars,
                        )  # fmt: skip
                        up = gr.Button(x["useful"], size="sm", elem_id="lg-up", min_width=100)
                        down = gr.Button(
                            x["not_useful"], size="sm", elem_id="lg-down", min_width=120
                        )
                    rate_status = gr.Markdown("", elem_id="lg-rate-status")
                sources = gr.HTML(render.sources_html(None), elem_id="lg-sources-box")
                # The note's text, for the copy button (the downloads hold it as files).
                note = gr.Textbox(visible=False)

        w = parts.Widgets(
            language, f_reports, f_publishers, f_from, f_to, reset, delete, new, question, ask,
            stop, regenerate, download_md, download_docx, copy, comment, up, down,
            [h_scope, h_indexed, h_sources],
        )  # fmt: skip
        panel_out = [sources, note, download_md, download_docx, rate_label, rate_status]
        # Each event that changes the conversation also hands its id to the browser to keep
        # (saved_conv, the last output), so that a reload reopens it.
        answer_out = [chat, turns, current, *panel_out, comment, conv, history, question]
        at_conv = answer_out.index(conv)
        answer_out.append(saved_conv)
        respond = parts.remembering(page.respond, at_conv)
        filters = [f_reports, f_publishers, f_from, f_to]
        state = [lang, owner, conv]
        asking = gr.on(
            [question.submit, ask.click], respond, [question, turns, *filters, *state],
            answer_out, api_name="ask", show_progress="hidden", concurrency_id="answer",
        )  # fmt: skip
        again = regenerate.click(
            parts.remembering(page.regenerate, at_conv), [turns, *filters, *state], answer_out,
            api_visibility="private", show_progress="hidden", concurrency_id="answer",
        )  # fmt: skip
        stop.click(None, None, None, cancels=[asking, again], api_visibility="private")
        chat.example_select(
            parts.example, None, [question], api_visibility="private", queue=False
        ).then(
            respond, [question, turns, *filters, *state], answer_out,
            api_visibility="private", show_progress="hidden", concurrency_id="answer",
        )  # fmt: skip
        for done in (asking, again):
            done.then(parts.copy_state, [note], [copy], api_visibility="private", queue=False)
        chat.select(
            page.select, [turns, lang], [chat, current, *panel_out, comment],
            api_visibility="private", concurrency_limit=None, show_progress="hidden",
        ).then(parts.copy_state, [note], [copy], api_visibility="private", queue=False)  # fmt: skip
        for button, rating in ((up, "up"), (down, "down")):
            button.click(
                parts.rater(page, rating), [comment, turns, current, lang], [rate_status, comment],
                api_visibility="private", concurrency_limit=None,
            )  # fmt: skip
        copy.click(None, [note], None, js=assets.COPY_JS, api_visibility="private")
        opened = [chat, turns, current, *panel_out, comment, conv]
        history.input(
            parts.remembering(page.open, opened.index(conv)),
            [owner, history, lang],
            [*opened, saved_conv],
            api_visibility="private",
            concurrency_limit=None,
            show_progress="hidden",
        )
        for event, handler in (
            (delete.click, page.delete),
            (new.click, page.clear),
            (chat.clear, page.clear),
        ):
            args = [owner, conv, lang] if handler == page.delete else [owner, lang]
            event(
                parts.remembering(handler, opened.index(conv)),
                args,
                [*opened, history, saved_conv],
                api_visibility="private",
                concurrency_limit=None,
                show_progress="hidden",
            )

        def scope_line(
            reports: Any, publishers: Any, date_from: Any, date_to: Any, code: str,
            request: gr.Request,
        ) -> str:  # fmt: skip
            return parts.scope_line(page.reader(request), reports, publishers, date_from,
                                    date_to, code)  # fmt: skip

        gr.on(
            [f_reports.change, f_publishers.change, f_from.change, f_to.change],
            scope_line, [*filters, lang],
            [scope], api_visibility="private", concurrency_limit=None, show_progress="hidden",
            queue=False,
        )  # fmt: skip
        reset.click(lambda: ([], [], "", ""), None, filters, api_visibility="private",
                    queue=False)  # fmt: skip
        shown = [header, index_box, scope, chat, sources, *parts.labelled(w)]

        def switch(
            code: str, turns_: list[Turn], current_: int, reports: Any, publishers: Any,
            date_from: Any, date_to: Any, request: gr.Request,
        ) -> list[Any]:  # fmt: skip
            view_ = parts.view(
                page.reader(request), w, code, turns_, current_, examples, reports, publishers,
                date_from, date_to,
            )  # fmt: skip
            return [code, code, *view_]  # the second for the browser to keep

        language.input(
            switch,
            [language, turns, current, *filters],
            [lang, saved_lang, *shown],
            api_visibility="private",
            queue=False,
            show_progress="hidden",
        )

        def start(who: str, chosen: str, resume: str, request: gr.Request) -> list[Any]:
            try:
                return begin(who, chosen, resume, request)
            except Exception:  # the page must stay usable: the box is enabled here only
                log.exception("starting the page failed; it answers, but does not save")
                out: list[Any] = [gr.skip()] * (len(starting) + len(shown))
                out[len(starting) + len(shown) - len(parts.labelled(w)) :] = parts.relabel(w, "en")
                return out

        def begin(who: str, chosen: str, resume: str, request: gr.Request) -> list[Any]:
            code = (
                chosen
                if is_lang(chosen)
                else from_accept_language(request.headers.get("accept-language"))
            )
            kept = who
            user = owner_key(getattr(request, "username", None), kept)
            if user is None:  # a first visit (or a malformed id): the browser gets its own id
                kept = new_browser_id()
                user = owner_key(None, kept) or ""
            loaded = page.reader(request)  # the reports this visitor may read
            opened_ = page.open(user, resume, code, request)
            turns_, current_ = opened_[1], opened_[2]
            view_ = parts.view(loaded, w, code, turns_, current_, examples, None, None, "", "")
            choices = (
                gr.Dropdown(choices=parts.report_choices(loaded.manifest)),
                gr.Dropdown(choices=publisher_choices(loaded.manifest)),
            )
            return [
                code, user, kept, code, *opened_, page.history(user, code, opened_[-1]),
                *choices, *view_,
            ]  # fmt: skip

        # The question box, the ask button and the example questions come alive when the page
        # knows whose conversation it is (start's outputs): a question asked before that would be
        # neither saved nor kept, and start's empty chat would overwrite its answer.
        starting = [lang, owner, browser_id, language, *opened, history, f_reports, f_publishers]
        app.load(
            start,
            [browser_id, saved_lang, saved_conv],
            [*starting, *shown],
            api_visibility="private",
            show_progress="hidden",
            concurrency_limit=None,
        ).then(parts.copy_state, [note], [copy], api_visibility="private", queue=False).then(
            None, None, None, js=assets.FOCUS_QUESTION_JS, api_visibility="private"
        )
    return app


def serve(app: gr.Blocks, settings: UISettings, *, prevent_thread_lock: bool = False) -> None:
    """Start the page: queued (``settings.concurrency`` answers at once), with any login,
    behind :class:`ui.security.EdgeGuard` (security headers, no uploads, bounded requests), with
    the reports themselves at ``/reports/…`` (``ui.reader``)."""
    app.queue(default_concurrency_limit=settings.concurrency, max_size=settings.queue_size)
    page: ChatPage = app.legatus_page  # type: ignore[attr-defined]
    app.launch(
        server_name=settings.host,
        server_port=settings.port,
        auth=settings.logins() or None,
        auth_message="Legatus: sign in with the account your administrator gave you. · "
        "Meld u aan met het account dat uw beheerder u gaf.",
        prevent_thread_lock=True,
        quiet=True,  # Gradio's own start-up lines (its address, the share=True hint): the
        # command prints the page's address itself, once everything is loaded
        show_error=False,
        ssr_mode=False,
        footer_links=[],
        theme=assets.theme(),
        css=assets.CSS,
        head=assets.HEAD,
        app_kwargs={"middleware": edge_middleware(settings)},
        max_file_size=0,  # besides the refused routes: Gradio itself takes no file
    )
    mount_reader(app.app, page.live.current, settings)  # type: ignore[attr-defined]
    if not prevent_thread_lock:
        app.block_thread()
