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
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import SynthesisError
from .models import Clip, Episode, Rendering, Script, Speaker, Turn, Voice, content_hash
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
    "pack_blocks",
    "stage_for_engine",
]

# Speaking rates used to estimate durations before synthesis (characters per second).
CHARS_PER_SECOND = {"en": 14.0, "zh": 4.5}


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


# ── packing ─────────────────────────────────────────────────────────────────────


def estimate_seconds(text: str, language: str) -> float:
    """Rough speech duration of ``text`` (for block packing before synthesis)."""
    return len(text) / CHARS_PER_SECOND.get(language, CHARS_PER_SECOND["en"])


def pack_blocks(
    turns: tuple[Turn, ...], language: str, max_seconds: float | None, max_chars: int | None
) -> list[tuple[int, ...]]:
    """Group turn indices into consecutive blocks that stay within both limits.

    Blocks split only at turn boundaries; a single turn over a limit gets a block of its own.
    """
    blocks: list[tuple[int, ...]] = []
    current: list[int] = []
    seconds = chars = 0.0
    for index, turn in enumerate(turns):
        t_sec, t_chars = estimate_seconds(turn.text, language), len(turn.text)
        over = (max_seconds is not None and seconds + t_sec > max_seconds) or (
            max_chars is not None and chars + t_chars > max_chars
        )
        if current and over:
            blocks.append(tuple(current))
            current, seconds, chars = [], 0.0, 0.0
        current.append(index)
        seconds, chars = seconds + t_sec, chars + t_chars
    if current:
        blocks.append(tuple(current))
    return blocks


def estimate_spans(turns: tuple[Turn, ...], duration: float) -> tuple[tuple[float, float], ...]:
    """Split ``duration`` across turns in proportion to their text length."""
    weights = [max(len(t.text), 1) for t in turns]
    total, start, spans = float(sum(weights)), 0.0, []
    for weight in weights:
        end = start + duration * weight / total
        spans.append((start, end))
        start = end
    return tuple(spans)


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
        if language is not None and language not in caps.languages:
            supported = ", ".join(sorted(caps.languages))
            raise SynthesisError(f"{self.name} does not speak {language!r} (it speaks {supported}); choose another --synth")
        if caps.needs_reference:
            hosts = ctx.config.speaker_list(language or "en")[:2]
            _require_references(self.name, [s.id for s in hosts if s.voice.ref_audio is None])

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        script = episode.normalized or episode.script
        if script is None:
            raise SynthesisError("nothing to synthesize: the episode has no script")
        self._check(script)
        run_dir = ctx.require_run_dir()
        renderer = _Renderer(self.engine, script, run_dir, ctx)
        try:
            clips = renderer.render()
        finally:
            self.engine.close()
        rendering = Rendering(self.name, renderer.rate, tuple(clips))
        details = {"engine": self.name, "clips": len(clips), "synthesized": renderer.synthesized, "reused": len(clips) - renderer.synthesized}
        return replace(episode, rendering=rendering).with_meta(**{"synthesize.details": details})

    def _check(self, script: Script) -> None:
        caps = self.capabilities()
        if script.language not in caps.languages:
            supported = ", ".join(sorted(caps.languages))
            raise SynthesisError(f"{self.name} does not speak {script.language!r} (it speaks {supported}); choose another --synth")
        used = {t.speaker for t in script.turns}
        if len(used) > caps.max_speakers:
            raise SynthesisError(f"{self.name} handles at most {caps.max_speakers} speakers; the script has {len(used)}")
        if caps.needs_reference:
            _require_references(self.name, [s.id for s in _speakers(script) if s.id in used and s.voice.ref_audio is None])
        self.engine.check(script)


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


@dataclass
class _Renderer:
    """Renders clips for one stage run, reusing cached clip files."""

    engine: Engine
    script: Script
    run_dir: Any
    ctx: StageContext
    rate: int = 0
    synthesized: int = 0
    loaded: bool = False
    voices: dict[str, Voice] = field(default_factory=dict)

    def render(self) -> list[Clip]:
        caps = self.engine.capabilities()
        self.rate = caps.sample_rate
        self.voices = {s.id: s.voice for s in _speakers(self.script)}
        if isinstance(self.engine, DialogueEngine):
            return self._render_blocks(caps)
        return self._render_turns()

    def _ensure_loaded(self) -> None:
        if not self.loaded:
            self.engine.load()
            self.loaded = True

    def _clip_path(self, key: str) -> Any:
        return self.run_dir / "clips" / f"{key[:24]}.wav"

    def _render_turns(self) -> list[Clip]:
        settings, language, turns = self.engine.settings_key(), self.script.language, self.script.turns
        keys = [content_hash(settings, self.voices[t.speaker].key, language, t.speaker, t.text) for t in turns]
        missing = [i for i, key in enumerate(keys) if not self._clip_path(key).exists()]
        self._report(len(turns) - len(missing), len(turns), "turn")
        if missing:
            self._ensure_loaded()
            engine: TurnEngine = self.engine  # type: ignore[assignment]
            jobs = [(turns[i], self.voices[turns[i].speaker]) for i in missing]
            for done, (position, audio) in enumerate(engine.synthesize_turns(jobs, language), 1):
                self._write(self._clip_path(keys[missing[position]]), audio)
                self._report(len(turns) - len(missing) + done, len(turns), "turn")
        return [self._clip(self._clip_path(key), (i,), None, key) for i, key in enumerate(keys)]

    def _report(self, done: int, total: int, what: str) -> None:
        self.ctx.progress(done, total, f"{what} {done}/{total}")

    def _render_blocks(self, caps: Capabilities) -> list[Clip]:
        options = self.engine.options
        limit = min(filter(None, [caps.max_seconds_per_call, getattr(options, "block_seconds", None)]), default=None)
        groups = pack_blocks(self.script.turns, self.script.language, limit, caps.max_chars_per_call)
        carry = getattr(options, "carry_seconds", 0.0)
        if carry <= 0:
            return self._render_independent(groups)
        settings, clips, prompt_key, prompt = self.engine.settings_key(), [], "", None
        for number, ids in enumerate(groups):
            block = self._block(number, ids, prompt)
            key = self._block_key(settings, prompt_key, block)
            clip = self._cached_block(block, key)
            if clip is None:
                self._ensure_loaded()
                clip, audio = self._store_block(block, key, self.engine.synthesize_block(block))  # type: ignore[attr-defined]
            else:
                audio = _read_clip(clip)
            clips.append(clip)
            prompt_key, prompt = key, _carry(clip, block.turns, audio, carry)
            self._report(number + 1, len(groups), "block")
        return clips

    def _render_independent(self, groups: list[tuple[int, ...]]) -> list[Clip]:
        """Blocks with no carried prompt: look up the cache, then render the rest in one batch."""
        settings = self.engine.settings_key()
        blocks = [self._block(number, ids, None) for number, ids in enumerate(groups)]
        keys = [self._block_key(settings, "", block) for block in blocks]
        clips = [self._cached_block(block, key) for block, key in zip(blocks, keys)]
        missing = [i for i, clip in enumerate(clips) if clip is None]
        self._report(len(blocks) - len(missing), len(blocks), "block")
        if missing:
            self._ensure_loaded()
            engine: DialogueEngine = self.engine  # type: ignore[assignment]
            for done, (position, result) in enumerate(engine.synthesize_blocks([blocks[i] for i in missing]), 1):
                index = missing[position]
                clips[index] = self._store_block(blocks[index], keys[index], result)[0]
                self._report(len(blocks) - len(missing) + done, len(blocks), "block")
        if any(clip is None for clip in clips):
            raise SynthesisError(f"{self.engine.name} did not return every block it was given")
        return clips  # type: ignore[return-value]

    def _block(self, number: int, ids: tuple[int, ...], prompt: Prompt | None) -> Block:
        turns = tuple(self.script.turns[i] for i in ids)
        return Block(number, turns, ids, self.script.language, self.voices, prompt)

    def _block_key(self, settings: str, prompt_key: str, block: Block) -> str:
        voice_keys = [self.voices[t.speaker].key for t in block.turns]
        texts = (f"{t.speaker}:{t.text}" for t in block.turns)
        return content_hash(settings, prompt_key, self.script.language, *voice_keys, *texts)

    def _cached_block(self, block: Block, key: str) -> Clip | None:
        path, spans_path = self._clip_path(key), self._clip_path(key).with_suffix(".json")
        if not (path.exists() and spans_path.exists()):
            return None
        spans = tuple(tuple(s) for s in json.loads(spans_path.read_text()))
        return self._clip(path, block.turn_ids, spans, key)

    def _store_block(self, block: Block, key: str, result: BlockAudio) -> tuple[Clip, Audio]:
        from .runfiles import atomic_write_text

        path = self._clip_path(key)
        audio = self._write(path, result.audio)
        spans = result.spans or estimate_spans(block.turns, audio.duration)
        if len(spans) != len(block.turns):
            raise SynthesisError(f"{self.engine.name} returned {len(spans)} spans for {len(block.turns)} turns")
        atomic_write_text(path.with_suffix(".json"), json.dumps([list(s) for s in spans]))
        return self._clip(path, block.turn_ids, spans, key), audio

    def _write(self, path: Any, audio: Audio) -> Audio:
        import numpy as np

        from .audio import as_channels, resample, write_audio

        samples = as_channels(audio.samples)
        if not np.all(np.isfinite(samples)) or samples.shape[-1] == 0:
            raise SynthesisError(f"{self.engine.name} produced empty or invalid audio")
        samples = resample(samples, audio.sample_rate, self.rate)
        write_audio(path, samples, self.rate)
        self.synthesized += 1
        return Audio(samples, self.rate)

    def _clip(self, path: Any, ids: tuple[int, ...], spans: Any, key: str) -> Clip:
        import soundfile as sf

        duration = sf.info(str(path)).duration
        return Clip(path, self.rate, ids, tuple(spans) if spans else ((0.0, duration),), key)


def _read_clip(clip: Clip) -> Audio:
    from .audio import read_audio

    samples, rate = read_audio(clip.path)
    return Audio(samples, rate)


def _carry(clip: Clip, turns: tuple[Turn, ...], audio: Audio, seconds: float) -> Prompt | None:
    """The tail of a block, cut at a turn boundary, at most about ``seconds`` long."""
    if seconds <= 0:
        return None
    end = clip.spans[-1][1]
    first = len(turns) - 1
    while first > 0 and end - clip.spans[first - 1][0] <= seconds:
        first -= 1
    start = int(clip.spans[first][0] * audio.sample_rate)
    stop = int(end * audio.sample_rate)
    return Prompt(Audio(audio.samples[..., start:stop], audio.sample_rate), turns[first:])


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
