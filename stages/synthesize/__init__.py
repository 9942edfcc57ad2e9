"""Built-in synthesizers: ``espeak`` (the embedded CPU default), plus ``moss-ttsd`` and the
remote engines registered by their own modules.

``--synth auto`` (the default) is not an engine: the pipeline's selection policy
(:mod:`podcast.selection`) picks the best-ranked engine that can run here; espeak (rank 10)
is always available, so it is the fallback.  Engines live in their own modules; the
synthesis stage around them is :class:`podcast.rendering.SynthesisStage`.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .espeak import EspeakEngine

__all__ = ["EspeakEngine"]


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    register(EspeakEngine)
