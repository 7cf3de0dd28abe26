"""The ``legatus`` command line: the only place (with the web page) that reads env vars and flags.

Stages raise specific exceptions; the commands here turn them into a message and an exit status.
"""

from __future__ import annotations

import typer

from ui.settings import Settings

app = typer.Typer(
    name="legatus",
    help="Question answering with verified citations over think-tank reports.",
    no_args_is_help=True,
    add_completion=False,
)


def load_settings() -> Settings:
    """Settings from the environment, or a readable error."""
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError carries the precise field message
        typer.echo(f"error: invalid LEGATUS_* setting: {exc}", err=True)
        raise typer.Exit(2) from exc


def main() -> None:
    app()
