"""The built-in tool commands that work on one stage's input: ``script``, ``normalize``,
``synth`` and ``master``.  Each is a thin Typer function in its own module of this package;
the library work stays in the stage packages (which import no typer)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the tool commands to ``app``."""
    from .master import master
    from .normalize import normalize_command
    from .script import script
    from .synth import synth

    app.command(
        "script",
        help="Write the [S1]/[S2] script for SOURCE… (no audio); edit it and pass it back as the source.",
    )(script)
    app.command("normalize", help="Print the normalized script.")(normalize_command)
    app.command("master", help="Master an audio file to podcast loudness (-16 LUFS stereo, -19 mono).")(master)
    app.command("synth", help="Render an existing [S1]/[S2] script file to one audio file (no mastering).")(synth)
