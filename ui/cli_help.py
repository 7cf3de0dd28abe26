"""Help pages of the ``legatus`` commands: flags are listed without a value type.

Typer prints each option's type beside it (``--json <bool>``); a flag takes no value, so the
command and group classes here leave its type out. Pass them as ``cls=`` to every
``typer.Typer(...)`` and ``@app.command(...)`` of the CLI.
"""

from __future__ import annotations

from typer._click import Context, Parameter  # the click Typer vendors, which its classes use
from typer.core import TyperCommand, TyperGroup, TyperOption


def _hide_flag_types(params: list[Parameter]) -> list[Parameter]:
    """Flags take no value, so their help rows show no value type (Typer would print <bool>)."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class Command(TyperCommand):
    """A command whose help lists flags without a ``<bool>`` type; pass as ``cls=``."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _hide_flag_types(super().get_params(ctx))


class Group(TyperGroup):
    """A command group whose help lists flags without a ``<bool>`` type; pass as ``cls=``."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _hide_flag_types(super().get_params(ctx))
