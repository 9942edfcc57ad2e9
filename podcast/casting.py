"""Per-speaker casting: which turn engine speaks each speaker, and with which voice.

A voice may name the turn engine that speaks it — ``--voice S1=piper:joe --voice
S2=kokoro:jf_alpha`` on the command line, ``voice = "piper:joe"`` in ``[speakers.S1]`` — so one
episode can mix turn engines.  A voice that names no engine (``jf_alpha``, ``en-us+f3``, a
reference clip) belongs to the stage's own engine; a speaker with no voice at all gets the
stage engine's :meth:`~podcast.synthesis.Engine.default_voice`, which may itself name another
engine (the kokoro engine casts English S1 to ``piper:joe|jm_kumo``).  Alternatives separated
by ``|`` are tried in order: the first whose engine can run here speaks.  When none can, a
default falls back to the stage engine's own choice and a voice the user gave is refused.

Each engine receives the voice without its ``name:`` prefix, renders only its own speakers'
turns, and every clip's cache key holds the settings of the engine that rendered it.  A
dialogue engine takes the whole block, so it cannot share an episode with other engines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import SynthesisError
from .models import Voice
from .synthesis import DialogueEngine, Engine, TurnEngine

__all__ = ["Cast", "alternatives", "cast_speakers", "split_engine"]

_PREFIX = re.compile(r"^([a-z][a-z0-9_.-]*):(.*)$", re.DOTALL)


def split_engine(voice: Voice, known: Callable[[str], bool]) -> tuple[str | None, Voice]:
    """``(engine name, voice without the prefix)`` when ``voice.preset`` starts with the name
    of a known engine (``piper:joe``), else ``(None, voice)``."""
    match = _PREFIX.match(voice.preset or "")
    if match is None or not known(match.group(1)):
        return None, voice
    return match.group(1), Voice(match.group(2).strip() or None, voice.ref_audio, voice.ref_text)


@dataclass(frozen=True, slots=True)
class Cast:
    """Who speaks each speaker: ``engines[speaker]`` with ``voices[speaker]``."""

    main: Engine[Any]
    engines: Mapping[str, Engine[Any]]
    voices: Mapping[str, Voice]

    def used(self) -> list[Engine[Any]]:
        """The engines that speak someone, the stage's own first, each once."""
        seen: dict[int, Engine[Any]] = {id(self.main): self.main}
        for engine in self.engines.values():
            seen.setdefault(id(engine), engine)
        return list(seen.values())

    def describe(self) -> str:
        """One line naming every speaker's engine and voice (``S1 piper:joe, S2 kokoro:jf_alpha``);
        empty when every speaker is left to the stage engine's own unnamed choice."""
        parts = []
        for speaker, engine in self.engines.items():
            voice = self.voices[speaker]
            sound = voice.preset or (voice.ref_audio.name if voice.ref_audio else "")
            parts.append(f"{speaker} {engine.name}:{sound}" if sound else f"{speaker} {engine.name}")
        named = any(v.preset or v.ref_audio for v in self.voices.values()) or len(self.used()) > 1
        return ", ".join(parts) if named else ""


def cast_speakers(
    main: Engine[Any],
    voices: Mapping[str, Voice],
    language: str,
    lookup: Callable[[str], Engine[Any] | None],
) -> Cast:
    """Cast every speaker of ``voices`` (speaker id → configured voice, empty = unset).

    ``lookup(name)`` returns a ready engine instance for a registered synthesizer ``name``
    (options and context set), or ``None`` when no such synthesizer is installed.

    :raises SynthesisError: a voice names an engine that cannot take part (a dialogue engine
        on either side, an engine that cannot run here or does not speak ``language``).
    """
    instances: dict[str, Engine[Any] | None] = {main.name: main}

    def engine(name: str) -> Engine[Any] | None:
        if name not in instances:
            instances[name] = lookup(name)
        return instances[name]

    engines, cast_voices = {}, {}
    for speaker, configured in voices.items():
        chosen, voice = _voice_for(main, speaker, configured, language, engine)
        engines[speaker], cast_voices[speaker] = chosen, voice
    return Cast(main, engines, cast_voices)


def _voice_for(
    main: Engine[Any],
    speaker: str,
    configured: Voice,
    language: str,
    engine: Callable[[str], Engine[Any] | None],
) -> tuple[Engine[Any], Voice]:
    given = configured != Voice()
    voice = configured if given else main.default_voice(speaker, language)
    problems = []
    for alternative in alternatives(voice):
        name, stripped = split_engine(alternative, lambda n: engine(n) is not None)
        if name is None or name == main.name:
            return main, stripped
        other = engine(name)
        assert other is not None
        problem = _cannot_cast(main, other, language)
        if problem is None:
            return other, stripped
        problems.append(problem)
    if given:
        raise SynthesisError(f"--voice {speaker}={configured.preset}: {'; '.join(problems)}")
    return main, Voice()


def alternatives(voice: Voice) -> list[Voice]:
    """``piper:joe|jm_kumo`` → the voices to try in order (the first whose engine can run)."""
    if not voice.preset or "|" not in voice.preset:
        return [voice]
    return [Voice(p.strip() or None, voice.ref_audio, voice.ref_text) for p in voice.preset.split("|")]


def _cannot_cast(main: Engine[Any], other: Engine[Any], language: str) -> str | None:
    if isinstance(main, DialogueEngine):
        return f"{main.name} is a dialogue engine and speaks the whole block; cast speakers with a turn engine (--synth)"
    if not isinstance(other, TurnEngine):
        return f"{other.name} is not a turn engine; only turn engines can speak single speakers"
    reason = type(other).unavailable(other.options)
    if reason is not None:
        return f"{other.name} cannot run here: {reason}"
    if language not in other.capabilities().languages:
        return f"{other.name} does not speak {language!r}"
    return None
