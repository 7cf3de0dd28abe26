"""The pieces of the chat page's layout that ``ui.web`` wires together: the components whose
labels follow the interface language, the example questions, and the small event handlers.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.components.chatbot import ExampleMessage

from assistant.pipeline import Assistant
from index.types import IndexManifest
from ui import assets, render
from ui.examples import example_questions
from ui.filters import FilterError, make_filters
from ui.live import Loaded
from ui.page import ChatPage, Turn, messages, t, titles_of


def report_choices(manifest: IndexManifest | None) -> list[tuple[str, str]]:
    """The report filter's (title, id) choices, by title."""
    docs = manifest.documents.values() if manifest else ()
    return sorted((e.title, e.doc_id) for e in docs)


class Examples:
    """Example questions per interface language, drawn from the sections of the index a reader
    sees (``ui.live.Loaded``), once per index and reader: a reader is never offered a question
    about a report they may not read."""

    def __init__(self, n: int = 4) -> None:
        self.n = n
        # assistant → language → questions; an assistant of a replaced index drops out
        self._made: weakref.WeakKeyDictionary[Assistant, dict[str, list[str]]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def __call__(self, lang: str, loaded: Loaded) -> list[ExampleMessage]:
        assistant = loaded.assistant
        with self._lock:
            made = self._made.setdefault(assistant, {})
        if lang not in made:
            made[lang] = example_questions(assistant, lang, self.n)
        return [ExampleMessage(text=q) for q in made[lang]]


@dataclass
class Widgets:
    """The components whose texts follow the interface language."""

    language: gr.Radio
    f_reports: gr.Dropdown
    f_publishers: gr.Dropdown
    f_from: gr.Textbox
    f_to: gr.Textbox
    reset: gr.Button
    delete: gr.Button
    new: gr.Button
    question: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    regenerate: gr.Button
    download_md: gr.DownloadButton
    download_docx: gr.DownloadButton
    copy: gr.Button
    comment: gr.Textbox
    up: gr.Button
    down: gr.Button
    headings: list[gr.Markdown]


def relabel(w: Widgets, lang: str) -> list[Any]:
    """Updates that put every label of ``w`` in ``lang`` (in the order of ``labelled(w)``)."""
    x = t(lang)
    return [
        gr.Radio(label=x["language"]),
        gr.Dropdown(label=x["reports"], info=x["reports_info"]),
        gr.Dropdown(label=x["publishers"], info=x["publishers_info"]),
        gr.Textbox(label=x["date_from"]),
        gr.Textbox(label=x["date_to"]),
        gr.Button(x["clear_filters"]),
        gr.Button(x["delete"]),
        gr.Button(x["new"]),
        # Also what makes them usable once the page has started (see build_app).
        gr.Textbox(label=x["question"], placeholder=x["question_placeholder"], interactive=True),
        gr.Button(x["ask"], interactive=True),
        gr.Button(x["stop"]),
        gr.Button(x["regenerate"]),
        gr.DownloadButton(x["download_md"]),
        gr.DownloadButton(x["download_docx"]),
        gr.Button(x["copy_note"]),
        gr.Textbox(label=x["comment"], placeholder=x["comment_placeholder"]),
        gr.Button(x["useful"]),
        gr.Button(x["not_useful"]),
        *(gr.Markdown(x[key]) for key in ("scope", "indexed", "sources")),
    ]


def labelled(w: Widgets) -> list[Any]:
    return [
        w.language, w.f_reports, w.f_publishers, w.f_from, w.f_to, w.reset, w.delete, w.new,
        w.question, w.ask, w.stop, w.regenerate, w.download_md, w.download_docx, w.copy,
        w.comment, w.up, w.down, *w.headings,
    ]  # fmt: skip


def view(
    loaded: Loaded,
    w: Widgets,
    lang: str,
    turns: list[Turn],
    current: int,
    examples: Examples,
    *filter_values: Any,
) -> list[Any]:
    """Header, index, scope line, chat, sources and every label, in ``lang``, of the index as
    ``loaded``'s reader sees it."""
    words = t(lang)
    shown_messages: Any = messages(turns, lang=lang, selected=current)
    chat = gr.Chatbot(
        shown_messages,
        placeholder=assets.placeholder(lang),
        examples=examples(lang, loaded),
        label=words["title"],
    )
    turn = turns[current] if 0 <= current < len(turns) else None
    shown = turn.answer if turn else None
    scope = render.scope_text(turn.filters, titles_of(loaded), lang=lang) if turn else ""
    return [
        header(loaded, lang),
        render.index_html(loaded.manifest, lang=lang),
        scope_line(loaded, *filter_values, lang),
        chat,
        render.sources_html(shown, current, scope, lang=lang),
        *relabel(w, lang),
    ]


def header(loaded: Loaded, lang: str) -> str:
    """The title bar; its ``data-lang`` is what the page's script copies to ``<html lang>``."""
    return f'<div data-lang="{lang}">{render.header_html(loaded.manifest, lang=lang)}</div>'


def example(event: gr.SelectData) -> str:
    value = event.value
    return str(value.get("text", "")) if isinstance(value, dict) else str(value or "")


def remembering(handler: Callable[..., Any], at: int) -> Callable[..., Any]:
    """``handler`` with one more output: a copy of its output ``at`` (the conversation id), for
    the browser to keep: it reaches the browser with the event's own update, not by a second
    event after it."""
    if inspect.isgeneratorfunction(handler):

        @functools.wraps(handler)
        def stream(*args: Any, **kwargs: Any) -> Iterator[tuple[Any, ...]]:
            for out in handler(*args, **kwargs):
                yield (*out, out[at])

        return stream

    @functools.wraps(handler)
    def once(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        out = handler(*args, **kwargs)
        return (*out, out[at])

    return once


def copy_state(note: str) -> Any:
    return gr.Button(interactive=bool(note))


def rater(page: ChatPage, rating: str) -> Callable[..., tuple[str, Any]]:
    def rate(comment: str, turns: list[Turn], current: int, lang: str) -> tuple[str, Any]:
        return page.rate(rating, comment, turns, current, lang)  # type: ignore[arg-type]

    return rate


def scope_line(loaded: Loaded, *values: Any) -> str:
    *fields, lang = values
    words = t(lang)
    try:
        filters = make_filters(*fields)
    except FilterError as exc:
        return render.scope_html(f"⚠ {exc}")
    scope = render.scope_text(filters, titles_of(loaded), lang=lang)
    return render.scope_html(words["searching"].format(scope=scope))
