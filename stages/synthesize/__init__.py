"""Built-in synthesizers: ``espeak`` (embedded CPU default) and ``auto``.

``auto`` picks the first engine of :data:`PREFERENCE` that says it can run here (GPU and
weights present) and otherwise falls back to ``espeak`` with a one-line note recorded in
episode.json.  Engines themselves live in their own modules; the pipeline-owned
synthesis stage around them is :class:`podcast.rendering.SynthesisStage`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from podcast.hookspecs import hookimpl
from podcast.options import build_options
from podcast.stage import Stage

from .espeak import EspeakEngine
from .kokoro import KokoroEngine
from .piper import PiperEngine

__all__ = ["AutoSynthesizer"]

PREFERENCE = ("moss-ttsd", "kokoro", "espeak")
FALLBACK = "espeak"


class AutoSynthesizer(Stage):
    """Pick the best available synthesizer: moss-ttsd on a GPU with weights, else espeak."""

    kind: ClassVar[str] = "synthesize"
    name: ClassVar[str] = "auto"

    @classmethod
    def resolve(cls, plugins: Any, config: Any) -> tuple[str, str | None]:
        """Return the engine name to use and a note when falling back."""
        reasons = []
        for name in PREFERENCE:
            entry = plugins.stages().get(("synthesize", name))
            if entry is None:
                continue
            options = build_options(entry.cls.Options, config.options_for("synthesize", name), f"stages.synthesize.{name}")
            reason = entry.cls.engine_cls.unavailable(options)
            if reason is None:
                return name, (f"synthesizer: using {FALLBACK} ({'; '.join(reasons)})" if reasons and name == FALLBACK else None)
            reasons.append(f"{name}: {reason}")
        return FALLBACK, None


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    register(EspeakEngine)
    register(KokoroEngine)
    register(PiperEngine)


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(AutoSynthesizer)


@hookimpl
def register_commands(app: Any) -> None:
    """The ``synth`` command (render a script file with any synthesizer)."""
    from .commands import register

    register(app)
