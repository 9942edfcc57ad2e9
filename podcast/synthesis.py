"""The synthesis engine interface and the pipeline-owned synthesis stage.

Engines come in two shapes:

* :class:`TurnEngine` renders one turn at a time (espeak, Piper, CosyVoice, cloud TTS);
* :class:`DialogueEngine` renders a block of turns in one call (MOSS-TTSD, ZipVoice-Dialog).

Engines only turn text into audio.  The stage around them (built by :func:`stage_for_engine`
for every registered engine) checks capabilities before any work, packs turns into blocks
within the engine's limits, carries the tail of the previous block (audio + transcript) into
the next block as its prompt, caches every clip under a hash of (engine, settings, voice,
text, prompt), resamples to one rate with soxr and records exact turn spans.

Independent work goes to an engine in one batch so that engines able to render many
requests at once (remote servers) can: every uncached turn through
:meth:`TurnEngine.synthesize_turns`, and every uncached block through
:meth:`DialogueEngine.synthesize_blocks` when nothing is carried (``carry_seconds = 0``:
each block is prompted by the speakers' reference voices alone).  The defaults render one
by one; caching, ordering and resampling stay here either way.

Reads ``Episode.normalized`` (or ``script``); writes ``Episode.rendering``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import SynthesisError
from .models import Episode, Rendering, Script, Speaker, Turn, Voice, content_hash
from .options import option
from .stage import Stage, StageContext

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Audio",
    "Block",
    "BlockAudio",
    "Capabilities",
    "DialogueEngine",
    "DialogueOptions",
    "Engine",
    "Prompt",
    "SynthesisStage",
    "TurnEngine",
    "stage_for_engine",
]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do, declared up front and checked before any work.

    ``max_seconds_per_call``/``max_chars_per_call`` bound one block; ``normalizer`` names the
    text-normalization profile the engine expects; ``needs_reference`` means it cannot speak
    without a reference voice (MOSS-TTSD v0.7).
    """

    languages: frozenset[str]
    sample_rate: int
    dialogue_native: bool = False
    max_speakers: int = 2
    cloning: bool = False
    needs_ref_text: bool = False
    needs_reference: bool = False
    presets: tuple[str, ...] = ()
    max_seconds_per_call: float | None = None
    max_chars_per_call: int | None = None
    channels: int = 1
    streaming: bool = False
    device: str = "cpu"
    licence: str = ""
    commercial_ok: bool | None = None
    normalizer: str = "podcast"


@dataclass(frozen=True, slots=True)
class Audio:
    """Engine output: float32 ``samples`` shaped ``(n,)`` or ``(channels, n)`` at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return self.samples.shape[-1] / float(self.sample_rate)


@dataclass(frozen=True, slots=True)
class Prompt:
    """The previous block's tail: its audio and the turns spoken in it."""

    audio: Audio
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """Turns rendered in one engine call; ``turn_ids`` index into the script."""

    index: int
    turns: tuple[Turn, ...]
    turn_ids: tuple[int, ...]
    language: str
    voices: Mapping[str, Voice]
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class BlockAudio:
    """A rendered block; ``spans[i]`` is ``(start, end)`` seconds of ``block.turns[i]``
    inside the audio, or ``None`` when the engine cannot tell (then estimated)."""

    audio: Audio
    spans: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True, slots=True)
class _NoOptions:
    """This engine has no options."""


@dataclass(frozen=True, slots=True)
class DialogueOptions:
    """Options every dialogue engine shares (subclass to add your own)."""

    block_seconds: float = option(120.0, "longest block (seconds of speech) per engine call")
    carry_seconds: float = option(10.0, "seconds of the previous block carried as the next prompt (0 = off)")


class Engine:
    """Base of all engines.  Heavy imports and model loading belong in :meth:`load`."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = _NoOptions

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def capabilities(self) -> Capabilities:
        raise NotImplementedError

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        """Why this engine cannot run here (missing GPU or weights), or ``None``.  Used by
        ``--synth auto``; must be cheap and must not import heavy packages."""
        return None

    def check(self, script: Script) -> None:
        """Refuse early (missing files, bad voices).  Raise SynthesisError/MissingModelError."""

    def load(self) -> None:
        """Load models; called once before the first uncached clip."""

    def close(self) -> None:
        """Release models and devices."""

    def settings_key(self) -> str:
        """Hash of everything in the options that changes the sound."""
        from .serialize import to_jsonable

        return content_hash(self.name, self.version, json.dumps(to_jsonable(self.options), sort_keys=True))


class TurnEngine(Engine):
    """An engine that renders one turn per call."""

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        raise NotImplementedError

    def synthesize_turns(self, turns: Sequence[tuple[Turn, Voice]], language: str) -> Iterator[tuple[int, Audio]]:
        """Render independent ``(turn, voice)`` pairs; yield ``(position in turns, audio)``
        in any order.  Override to render concurrently; the default goes one by one."""
        for position, (turn, voice) in enumerate(turns):
            yield position, self.synthesize_turn(turn, voice, language)


class DialogueEngine(Engine):
    """An engine that renders a block of turns (a dialogue) per call."""

    Options: ClassVar[type] = DialogueOptions

    def synthesize_block(self, block: Block) -> BlockAudio:
        raise NotImplementedError

    def synthesize_blocks(self, blocks: Sequence[Block]) -> Iterator[tuple[int, BlockAudio]]:
        """Render independent blocks (none carries a prompt); yield ``(position in blocks,
        result)`` in any order.  Override to render concurrently; the default goes one by one."""
        for position, block in enumerate(blocks):
            yield position, self.synthesize_block(block)


# ── the stage ───────────────────────────────────────────────────────────────────


class SynthesisStage(Stage):
    """Synthesize the (normalized) script with one engine; see the module docstring."""

    kind: ClassVar[str] = "synthesize"
    reads: ClassVar[tuple[str, ...]] = ("normalized", "script")
    writes: ClassVar[tuple[str, ...]] = ("rendering",)
    engine_cls: ClassVar[type[Engine]] = Engine

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.engine = self.engine_cls(self.options)

    def capabilities(self) -> Capabilities:
        return self.engine.capabilities()

    def check(self, ctx: StageContext) -> None:
        """Before any stage runs: the engine can run here (weights, GPU, servers), speaks the
        configured language, and has the reference voices it needs."""
        reason = self.engine_cls.unavailable(self.options)
        if reason is not None:
            raise SynthesisError(f"{self.name} cannot run: {reason}")
        caps = self.capabilities()
        language = ctx.config.language
        if language is not None:
            _require_language(self.name, caps, language)
        if caps.needs_reference:
            hosts = ctx.config.speaker_list(language or "en")[:2]
            _require_references(self.name, [s.id for s in hosts if s.voice.ref_audio is None])

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        script = episode.normalized or episode.script
        if script is None:
            raise SynthesisError("nothing to synthesize: the episode has no script")
        self._check(script)
        run_dir = ctx.require_run_dir()
        from .rendering import Renderer

        renderer = Renderer(self.engine, script, run_dir, ctx, voices={s.id: s.voice for s in _speakers(script)})
        try:
            clips = renderer.render()
        finally:
            self.engine.close()
        rendering = Rendering(self.name, renderer.rate, tuple(clips))
        details = {
            "engine": self.name,
            "clips": len(clips),
            "synthesized": renderer.synthesized,
            "reused": len(clips) - renderer.synthesized,
        }
        return replace(episode, rendering=rendering).with_meta(**{"synthesize.details": details})

    def _check(self, script: Script) -> None:
        caps = self.capabilities()
        _require_language(self.name, caps, script.language)
        used = {t.speaker for t in script.turns}
        if len(used) > caps.max_speakers:
            raise SynthesisError(
                f"{self.name} handles at most {caps.max_speakers} speakers; the script has {len(used)}"
            )
        if caps.needs_reference:
            _require_references(
                self.name, [s.id for s in _speakers(script) if s.id in used and s.voice.ref_audio is None]
            )
        self.engine.check(script)


def _require_language(engine: str, caps: Capabilities, language: str) -> None:
    if language not in caps.languages:
        supported = ", ".join(sorted(caps.languages))
        raise SynthesisError(f"{engine} does not speak {language!r} (it speaks {supported}); choose another --synth")


def _require_references(engine: str, missing: list[str]) -> None:
    if missing:
        raise SynthesisError(
            f"{engine} needs a reference voice for {', '.join(missing)}; "
            'pass --voice S1=ref.wav:"exact transcript" for each speaker'
        )


def _speakers(script: Script) -> tuple[Speaker, ...]:
    known = {s.id: s for s in script.speakers}
    ids = sorted({t.speaker for t in script.turns} | set(known), key=lambda s: int(s[1:]))
    return tuple(known.get(i, Speaker(i, i)) for i in ids)


def stage_for_engine(engine_cls: type[Engine]) -> type[SynthesisStage]:
    """The synthesize stage class that wraps ``engine_cls`` (same name, version, options)."""
    return type(
        f"{engine_cls.__name__}Stage",
        (SynthesisStage,),
        {
            "name": engine_cls.name,
            "version": engine_cls.version,
            "Options": engine_cls.Options,
            "engine_cls": engine_cls,
            "__doc__": engine_cls.__doc__,
        },
    )
