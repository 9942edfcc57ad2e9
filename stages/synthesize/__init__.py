"""Built-in synthesizers: ``kokoro`` and ``piper`` (natural CPU voices shipped in wheels),
``espeak`` (the embedded formant fallback), plus ``moss-ttsd`` and the remote engines
registered by their own modules.

``--synth auto`` (the default) is not an engine: the pipeline's selection policy
(:mod:`podcast.selection`) picks the best-ranked engine that can run here: a GPU engine with
its weights, else kokoro (rank 20, which casts English S1 to piper), else espeak (rank 10,
always available).  Engines live in their own modules; the
synthesis stage around them is :class:`podcast.rendering.SynthesisStage`.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .espeak import EspeakEngine
from .kokoro import KokoroEngine
from .piper import PiperEngine

__all__ = ["EspeakEngine", "KokoroEngine", "PiperEngine"]


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    register(EspeakEngine)
    register(KokoroEngine)
    register(PiperEngine)
