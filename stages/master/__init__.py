"""Built-in master stage: loudness mastering and packaging (``master.standard``) and the
``podcast-gen master`` command.  Modules here import numpy/scipy/pedalboard only inside
functions, so loading the plugin stays cheap."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from podcast.hookspecs import hookimpl

from .stage import MasterStage

if TYPE_CHECKING:
    from typer import Typer

__all__ = ["MasterStage"]


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(MasterStage)


@hookimpl
def register_commands(app: Typer) -> None:
    from .cli import master

    app.command(
        "master", help="Master an audio file to podcast loudness (-16 LUFS stereo, -19 mono)."
    )(master)
