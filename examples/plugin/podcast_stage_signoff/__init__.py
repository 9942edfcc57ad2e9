"""A minimal external podcast-gen plugin: the custom stage ``signoff.station-id``.

It runs wherever ``[pipeline] stages`` puts it (after ``write`` in the example config) and
appends one closing turn — a station ID — to the script, spoken by the host.

Reads ``Episode.script``; writes ``Episode.script``.

Enable it with::

    pip install ./examples/plugin
    podcast-gen doc.md --config examples/podcast.toml   # lists "signoff" in [pipeline] stages
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import ClassVar

import podcast
from podcast.errors import StageError
from podcast.models import Episode, Turn
from podcast.options import option
from podcast.stage import Stage, StageContext

__version__ = "0.1.0"


@dataclass(frozen=True, slots=True)
class SignoffOptions:
    """Options of the station-ID stage."""

    text: str = option("You have been listening to {show}.", "closing line; {show} is the show name")
    show: str = option("podcast-gen radio", "show name used in the closing line")
    speaker: str = option("S1", "who says it")


class StationId(Stage):
    """Append a station-ID turn to the script."""

    kind: ClassVar[str] = "signoff"
    name: ClassVar[str] = "station-id"
    reads: ClassVar[tuple[str, ...]] = ("script",)
    writes: ClassVar[tuple[str, ...]] = ("script",)
    Options: ClassVar[type] = SignoffOptions

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        if episode.script is None:
            raise StageError("signoff needs a script: put it after write in [pipeline] stages")
        line = Turn(self.options.speaker, self.options.text.format(show=self.options.show))
        return replace(episode, script=replace(episode.script, turns=(*episode.script.turns, line)))


@podcast.hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(StationId)
