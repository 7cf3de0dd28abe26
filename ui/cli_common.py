"""What every ``legatus`` command shares: reading the settings, checking a question, and turning
an error into a message and exit status 2."""

from __future__ import annotations

from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from ingest.access import Groups, parse_groups
from ui.settings import Settings

AsGroups = Annotated[
    str | None,
    typer.Option(
        "--as-groups",
        help='Read as a member of these groups (comma-separated; "" for none): only the '
        "reports they may read (a report's access labels). Default: every report, as the "
        "owner of the index.",
    ),
]


def reader_groups(value: str | None) -> Groups:
    """The groups of ``--as-groups`` (None: not given, every report), or a message and exit 2."""
    if value is None:
        return None
    try:
        return parse_groups(value)
    except ValueError as exc:
        fail(f"--as-groups: {exc}", exc)


def fail(message: str, cause: BaseException | None = None) -> NoReturn:
    """Print ``error: message`` on stderr and exit with status 2 (the user can act on it)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2) from cause


def load_settings() -> Settings:
    """Settings from the environment, or a readable error."""
    try:
        return Settings()
    except (ValidationError, ValueError) as exc:  # the message names the field and the problem
        fail(f"invalid LEGATUS_* setting: {exc}", exc)


def checked_question(question: str, settings: Settings, what: str = "question") -> str:
    """The question cleaned (as the assistant reads it), or a message and exit status 2.

    Checked before the index and the model are loaded, so a bad question costs nothing.
    """
    from assistant.pipeline import clean_question
    from assistant.types import QuestionError

    limit = settings.assistant.max_question_chars
    try:
        text = clean_question(question, max(limit, len(question)))
    except QuestionError as exc:
        fail(f"{str(exc).replace('the question', f'the {what}')}", exc)
    if len(text) > limit:
        fail(
            f"the {what} is {len(text)} characters long; the limit is {limit} "
            "(LEGATUS_ASSISTANT__MAX_QUESTION_CHARS). Shorten it.",
        )
    return text
