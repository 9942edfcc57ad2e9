"""The synthesize stage around every engine: packing, caching, prompt carrying, resampling.

Every registered engine (see :mod:`podcast.synthesis` for the contract) becomes a
``synthesize`` stage through :func:`stage_for_engine`.  The :class:`SynthesisStage` checks
capabilities before any work and hands its engine and script to a :class:`Renderer`.  Clips
are written under ``<run_dir>/clips/<key>.wav`` where the key hashes (engine, settings,
voice, language, text and — for chained dialogue blocks — the previous block's key), so an
unchanged turn or block is never synthesized twice.  Clip audio is float32 at the engine's
sample rate; spans are seconds within each clip.

Independent work goes to an engine in one batch so that engines able to render many
requests at once (remote servers) can: every uncached turn through
:meth:`~podcast.synthesis.TurnEngine.synthesize_turns`, and every uncached block through
:meth:`~podcast.synthesis.DialogueEngine.synthesize_blocks` when nothing is carried
(``carry_seconds = 0``: each block is prompted by the speakers' reference voices alone).

Reads ``Episode.normalized`` (or ``script``); writes ``Episode.rendering``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from .casting import Cast, alternatives, cast_speakers, split_engine
from .errors import SynthesisError
from .kit.spans import estimate_seconds, proportional_spans
from .models import Clip, Episode, Rendering, Script, Turn, Voice, content_hash
from .options import build_options
from .stage import Stage, StageContext
from .synthesis import (
    Audio,
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    Engine,
    EngineContext,
    Prompt,
)

__all__ = ["Renderer", "SynthesisStage", "engine_context", "pack_blocks", "stage_for_engine"]


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


@dataclass
class Renderer:
    """Renders clips for one stage run, reusing cached clip files."""

    engine: Engine
    script: Script
    run_dir: Any
    ctx: StageContext
    rate: int = 0
    synthesized: int = 0
    loaded: bool = False
    voices: dict[str, Voice] = field(default_factory=dict)
    engines: dict[str, Engine] = field(default_factory=dict)  # speaker → another turn engine (casting)
    _position: tuple[int, int, str] = (0, 0, "")
    _loaded: set[int] = field(default_factory=set)

    def render(self) -> list[Clip]:
        """Every clip of the script, in order (cached ones reused)."""
        for engine in {id(e): e for e in (self.engine, *self.engines.values())}.values():
            engine.context = replace(engine.context, report=self._report_inside)
        caps = self.engine.capabilities()
        self.rate = max([caps.sample_rate, *(e.capabilities().sample_rate for e in self.engines.values())])
        if isinstance(self.engine, DialogueEngine):
            return self._render_blocks(caps)
        return self._render_turns()

    def _ensure_loaded(self, engine: Engine | None = None) -> None:
        engine = engine or self.engine
        if id(engine) not in self._loaded:
            engine.load()
            self._loaded.add(id(engine))
            self.loaded = True

    def _clip_path(self, key: str) -> Any:
        return self.run_dir / "clips" / f"{key[:24]}.wav"

    def _render_turns(self) -> list[Clip]:
        """One clip per turn, each by its speaker's engine (keyed by that engine's settings);
        the missing clips of each engine go to it in one batch."""
        language, turns = self.script.language, self.script.turns
        engines = [self.engines.get(t.speaker, self.engine) for t in turns]
        settings = {id(e): e.settings_key() for e in engines}
        keys = [
            content_hash(settings[id(e)], self.voices[t.speaker].key, language, t.speaker, t.text)
            for t, e in zip(turns, engines, strict=True)
        ]
        unique = dict.fromkeys(keys)  # a line said twice the same way ("Right.") is rendered once
        missing = [keys.index(key) for key in unique if not self._clip_path(key).exists()]
        copies = {i: keys.count(keys[i]) for i in missing}
        done = len(turns) - sum(copies.values())
        self._report(done, len(turns), "turn")
        for engine in {id(engines[i]): engines[i] for i in missing}.values():
            group = [i for i in missing if engines[i] is engine]
            self._ensure_loaded(engine)
            jobs = [(turns[i], self.voices[turns[i].speaker]) for i in group]
            rate = engine.capabilities().sample_rate
            for position, audio in engine.synthesize_turns(jobs, language):  # type: ignore[attr-defined]
                index = group[position]
                self._write(self._clip_path(keys[index]), audio, rate, engine.name)
                done += copies[index]
                self._report(done, len(turns), "turn")
        return [self._clip(self._clip_path(key), (i,), None, key) for i, key in enumerate(keys)]

    def _report(self, done: int, total: int, what: str) -> None:
        self._position = (done, total, what)
        self.ctx.progress(done, total, f"{what}s")  # the display shows done/total itself

    def _report_inside(self, completed: float, total: float | None, description: str) -> None:
        """Progress an engine reports inside the turn or block it is rendering."""
        done, count, what = self._position
        fraction = min(max(completed / total, 0.0), 1.0) if total else 0.0
        label = f"{what}s" + (f" ({description})" if description else "")
        self.ctx.progress(done + fraction, count, label)

    def _render_blocks(self, caps: Capabilities) -> list[Clip]:
        options = self.engine.options
        limit = min(filter(None, [caps.max_seconds_per_call, getattr(options, "block_seconds", None)]), default=None)
        groups = pack_blocks(self.script.turns, self.script.language, limit, caps.max_chars_per_call)
        carry = getattr(options, "carry_seconds", 0.0)
        if carry <= 0:
            return self._render_independent(groups)
        settings, clips, prompt_key, prompt = self.engine.settings_key(), [], "", None
        self._report(0, len(groups), "block")
        for number, ids in enumerate(groups):
            self._position = (number, len(groups), "block")
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
        clips = [self._cached_block(block, key) for block, key in zip(blocks, keys, strict=True)]
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
        spans = result.spans or proportional_spans(block.turns, audio.duration)
        if len(spans) != len(block.turns):
            raise SynthesisError(f"{self.engine.name} returned {len(spans)} spans for {len(block.turns)} turns")
        atomic_write_text(path.with_suffix(".json"), json.dumps([list(s) for s in spans]))
        return self._clip(path, block.turn_ids, spans, key), audio

    def _write(self, path: Any, audio: Audio, rate: int | None = None, engine: str | None = None) -> Audio:
        """Write ``audio`` at ``rate`` (default: the rendering's rate); a cast engine's clips
        keep that engine's own rate, so a cached clip never depends on who else speaks."""
        import numpy as np

        from .audio import as_channels, resample, write_audio

        rate = rate or self.rate
        samples = as_channels(audio.samples)
        if not np.all(np.isfinite(samples)) or samples.shape[-1] == 0:
            raise SynthesisError(f"{engine or self.engine.name} produced empty or invalid audio")
        samples = resample(samples, audio.sample_rate, rate)
        write_audio(path, samples, rate)
        self.synthesized += 1
        return Audio(samples, rate)

    def _clip(self, path: Any, ids: tuple[int, ...], spans: Any, key: str) -> Clip:
        import soundfile as sf

        info = sf.info(str(path))
        return Clip(path, int(info.samplerate), ids, tuple(spans) if spans else ((0.0, info.duration),), key)


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


# ── the stage ───────────────────────────────────────────────────────────────────


def engine_context(ctx: StageContext, engine: str) -> EngineContext:
    """The engine's context for a stage run: the run's seed and logger, progress into the stage."""
    base = EngineContext()
    return EngineContext(
        seed=ctx.seed,
        device=base.device,
        log=ctx.log.getChild(engine),
        report=ctx.progress,
        model_dir=base.model_dir,
        cache_dir=base.cache_dir / engine,
        run_dir=ctx.run_dir,
    )


class SynthesisStage(Stage):
    """Synthesize the (normalized) script with one engine; see the module docstring."""

    kind: ClassVar[str] = "synthesize"
    reads: ClassVar[tuple[str, ...]] = ("normalized", "script")
    writes: ClassVar[tuple[str, ...]] = ("rendering",)
    engine_cls: ClassVar[type[Engine[Any]]] = Engine

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.engine = self.engine_cls(self.options)

    def capabilities(self) -> Capabilities:
        """The engine's declared capabilities."""
        return self.engine.capabilities()

    @classmethod
    def preference(cls, options: Any) -> int:
        """The engine's declared rank (``Capabilities.rank``)."""
        return cls.engine_cls(options).capabilities().rank

    @classmethod
    def unavailable(cls, options: Any, config: Any, env: Mapping[str, str]) -> str | None:
        """The engine's own probe (weights, GPU, servers)."""
        return cls.engine_cls.unavailable(options)

    def check(self, ctx: StageContext) -> None:
        """Before any stage runs: the engine can run here (weights, GPU, servers), speaks the
        configured language, and has the reference voices it needs."""
        self.engine.context = engine_context(ctx, self.name)
        _require_commercial_use(self.name, self.capabilities(), ctx.config.commercial_only)
        reason = self.engine_cls.unavailable(self.options)
        if reason is not None:
            raise SynthesisError(f"{self.name} cannot run: {reason}")
        caps = self.capabilities()
        language = ctx.config.language
        if language is not None:
            _require_language(self.name, caps, language)
        if caps.needs_reference:
            hosts = list(ctx.config.voices().items())[:2]
            _require_references(self.name, [sid for sid, voice in hosts if voice.ref_audio is None])
        if language is not None:
            cast_speakers(self.engine, ctx.config.voices(), language, _engine_lookup(ctx))

    def cache_salt(self, ctx: StageContext) -> str:
        """The configured voices (their sound: preset, reference bytes and transcript) and the
        settings of every other engine a voice may cast a speaker to."""
        voices = ctx.config.voices()
        others = [f"{e.name}={e.settings_key()}" for e in _cast_candidates(self.engine, voices, _engine_lookup(ctx))]
        return content_hash(*(f"{sid}={_sound_of(voice)}" for sid, voice in voices.items()), *others)

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        script = episode.normalized or episode.script
        if script is None:
            raise SynthesisError("nothing to synthesize: the episode has no script")
        self.engine.context = engine_context(ctx, self.name)
        voices = _voices(script, ctx.config.voices())
        if episode.normalized is not None and ctx.plugins is not None:
            # The turns were normalized once, with the profile the engine declares; its
            # reference transcripts get the same treatment here (engines never normalize).
            voices = _normalized_voices(voices, ctx.plugins.profile(ctx.normalizer), script.language)
        cast = cast_speakers(self.engine, voices, script.language, _engine_lookup(ctx))
        self._check(script, cast)
        ctx.log.debug("voices: %s", cast.describe() or "each engine's own")
        others = {s: e for s, e in cast.engines.items() if e is not self.engine}
        renderer = Renderer(self.engine, script, ctx.require_run_dir(), ctx, voices=dict(cast.voices), engines=others)
        try:
            clips = renderer.render()
        finally:
            for engine in cast.used():
                engine.close()
        rendering = Rendering(self.name, renderer.rate, tuple(clips))
        details = {
            "engine": self.name,
            **({"voices": cast.describe()} if cast.describe() else {}),
            "clips": len(clips),
            "synthesized": renderer.synthesized,
            "reused": len(clips) - renderer.synthesized,
        }
        return replace(episode, rendering=rendering).with_meta(**{"synthesize.details": details})

    def _check(self, script: Script, cast: Cast) -> None:
        """Every engine of the cast can speak its own speakers' turns."""
        _require_language(self.name, self.capabilities(), script.language)
        for engine in cast.used():
            caps = engine.capabilities()
            mine = {s for s, e in cast.engines.items() if e is engine}
            used = {t.speaker for t in script.turns if t.speaker in mine}
            if len(used) > caps.max_speakers:
                raise SynthesisError(
                    f"{engine.name} handles at most {caps.max_speakers} speakers; the script has {len(used)}"
                )
            voices = {s: v for s, v in cast.voices.items() if s in mine}
            if caps.needs_reference:
                _require_references(engine.name, [s for s, v in voices.items() if s in used and v.ref_audio is None])
            engine.check(replace(script, turns=tuple(t for t in script.turns if t.speaker in mine)), voices)


def _require_commercial_use(engine: str, caps: Capabilities, commercial_only: bool) -> None:
    if commercial_only and caps.commercial_ok is not True:
        licence = caps.weights_licence or caps.licence or "licence unknown"
        raise SynthesisError(
            f"{engine} output may not be used commercially ({licence}) and commercial_only is set; choose another --synth"
        )


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


def _sound_of(voice: Voice) -> str:
    """``voice.key``, or a marker when its reference file is missing (the engine's check
    refuses that with a clear message; the cache key must not fail first)."""
    if voice.ref_audio is not None and not voice.ref_audio.is_file():
        return content_hash("missing", str(voice.ref_audio))
    return voice.key


_TAG = re.compile(r"^\s*\[S\d+\]")


def _normalized_voices(voices: Mapping[str, Voice], profile: Any, language: str) -> dict[str, Voice]:
    """``voices`` with each reference transcript normalized by ``profile`` (an untagged
    transcript is spoken by its own speaker; a tagged one, a shared clip, is kept tagged)."""
    result = {}
    for sid, voice in voices.items():
        text = (voice.ref_text or "").strip()
        if text and _TAG.match(text):
            text = profile.normalize(text, language)
        elif text:
            text = _TAG.sub("", profile.normalize(f"[{sid}]{text}", language), count=1).strip()
        result[sid] = replace(voice, ref_text=text or voice.ref_text)
    return result


def _voices(script: Script, configured: Mapping[str, Voice]) -> dict[str, Voice]:
    """The voice of every speaker of ``script`` (configured, else empty: engine's choice)."""
    ids = {t.speaker for t in script.turns} | {s.id for s in script.speakers} | set(configured)
    return {sid: configured.get(sid, Voice()) for sid in sorted(ids, key=lambda s: int(s[1:]))}


def _engine_lookup(ctx: StageContext) -> Any:
    """``lookup(name)``: a ready instance of the registered synthesizer ``name`` (its
    configured options and this run's context), or ``None`` when none is installed."""

    def lookup(name: str) -> Engine | None:
        entry = ctx.plugins.stages().get(("synthesize", name)) if ctx.plugins is not None else None
        if entry is None or not isinstance(entry.cls, type) or not issubclass(entry.cls, SynthesisStage):
            return None
        options = build_options(entry.cls.Options, ctx.config.options_for("synthesize", name), f"stages.{entry.id}")
        return entry.cls.engine_cls(options, engine_context(ctx, name))

    return lookup


def _cast_candidates(main: Engine, voices: Mapping[str, Voice], lookup: Any) -> list[Engine]:
    """The other engines the configured voices or ``main``'s default voices name."""
    names = set()
    for sid in {*voices, "S1", "S2"}:
        for voice in (voices.get(sid, Voice()), main.default_voice(sid, "en"), main.default_voice(sid, "zh")):
            names.update(split_engine(v, lambda n: n != main.name)[0] for v in alternatives(voice))
    found = [lookup(n) for n in sorted(n for n in names if n)]
    return [e for e in found if e is not None]


def stage_for_engine(engine_cls: type[Engine[Any]]) -> type[SynthesisStage]:
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
