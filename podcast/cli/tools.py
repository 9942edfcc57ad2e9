"""The built-in tool commands that work on one stage's input: ``script``, ``normalize``,
``synth`` and ``master``.  Each is a thin Typer function in its own module of this package;
the library work stays in the stage packages (which import no typer)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the tool commands to ``app``."""
    from .normalize import normalize_command

    app.command("normalize", help="Print the normalized script.")(normalize_command)
