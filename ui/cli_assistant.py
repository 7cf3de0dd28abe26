"""``legatus ask``: one question, answered with verified citations, for people or programs."""

from __future__ import annotations

import json
import textwrap
import time
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.settings import AnswererName
from ingest.access import Groups
from ui.cli_common import AsGroups, checked_question, fail, load_settings, reader_groups
from ui.settings import Settings

if TYPE_CHECKING:
    from assistant.pipeline import Assistant
    from assistant.types import Answer


def build_assistant(
    settings: Settings, answerer: AnswererName | None = None, groups: Groups = None
) -> Assistant:
    """The assistant over the configured index (the reports ``groups`` may read), or a message
    and exit status 2."""
    from assistant.pipeline import open_assistant
    from assistant.types import AssistantError
    from index.types import SearchIndexError

    cfg = settings.assistant
    if answerer:
        cfg = cfg.model_copy(update={"answerer": answerer})
    try:
        return open_assistant(settings.index.path, settings.embedding, settings.index, cfg, groups)
    except (SearchIndexError, AssistantError) as exc:
        fail(str(exc), exc)


def format_answer(answer: Answer) -> str:
    """The answer for a terminal: text, then numbered sources with their supporting passage,
    each at the page of its quoted sentences (as the chat page's cards give it)."""
    from ui.cards import location
    from ui.richtext import find

    lang = answer.language
    lines = [textwrap.fill(answer.answer, 100)]
    if answer.notice:
        lines += ["", f"note: {answer.notice}"]
    if answer.citations:
        lines += ["", "Bronnen / Sources:"]
        for c in answer.citations:
            p = c.passage
            place = location(p, find(p.text, c.quotes), lang=lang)
            where = " — ".join(x for x in (p.section, place) if x)
            lines.append(f"[{c.n}] {p.title} ({p.publisher}, {p.date}) — {where}")
            quote = " … ".join(c.quotes) or p.text
            lines.append(textwrap.indent(textwrap.fill(quote, 96), "    "))
    elif answer.retrieved:
        lines += ["", "Closest passages:"]
        for p in answer.retrieved[:3]:
            lines.append(f"- {p.title} — {p.section} {location(p, lang=lang)}".rstrip())
    return "\n".join(lines)


def ask_command(
    question: Annotated[str, typer.Argument(help="The question, in Dutch or English.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    report: Annotated[
        list[str] | None, typer.Option("--report", help="Only this report id (repeatable).")
    ] = None,
    publisher: Annotated[
        list[str] | None, typer.Option("--publisher", help="Only reports of this publisher.")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Reports dated from (ISO).")
    ] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Reports dated until (ISO).")] = None,
    answerer: Annotated[
        AnswererName | None,
        typer.Option("--answerer", help="Offline from the passages, or the configured LLM."),
    ] = None,
    as_groups: AsGroups = None,
) -> None:
    """Answer a question from the indexed reports, citing each claim.

    With --json, prints {"question", "answer", "refused", "citations": [{"n", "chunk_id",
    "report", "title", "section", "page", "text", ...}], "retrieved": [{"chunk_id", "text",
    "score", ...}], "answer_ms", "startup_ms", ...}: the shape evaluation reads. answer_ms is
    the answering alone (as the page measures it); startup_ms is loading the index and the
    model first; latency_ms, for older readers, equals answer_ms.
    """
    started = time.perf_counter()
    from assistant.types import AssistantError
    from ui.filters import FilterError, make_filters

    settings = load_settings()
    question = checked_question(question, settings)
    groups = reader_groups(as_groups)
    try:
        filters = make_filters(report, publisher, date_from, date_to)
    except FilterError as exc:
        fail(str(exc), exc)
    assistant = build_assistant(settings, answerer, groups)
    # Load the model and run it once now: otherwise the first question, the only one here,
    # pays for it and answer_ms reads seconds where the running page takes a fraction of one.
    assistant.embedder.warm_up()
    assistant.embedder.encode_queries(["warm-up"])
    startup_ms = (time.perf_counter() - started) * 1000
    try:
        answer = assistant.ask(question, filters=filters)
    except AssistantError as exc:
        fail(str(exc), exc)
    if as_json:
        data = answer.to_json()
        data.update(answer_ms=data["latency_ms"], startup_ms=round(startup_ms, 1))
        typer.echo(json.dumps(data, ensure_ascii=False))
    else:
        typer.echo(format_answer(answer))
