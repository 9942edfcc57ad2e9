"""Rendering a script with one engine: packing, caching, prompt carrying, resampling.

The :class:`~podcast.synthesis.SynthesisStage` hands its engine and script to a
:class:`Renderer`.  Clips are written under ``<run_dir>/clips/<key>.wav`` where the key hashes
(engine, settings, voice, language, text and — for chained dialogue blocks — the previous
block's key), so an unchanged turn or block is never synthesized twice.  Clip audio is float32
at the engine's sample rate; spans are seconds within each clip.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import SynthesisError
from .models import Clip, Script, Turn, Voice, content_hash
from .stage import StageContext
from .synthesis import Audio, Block, BlockAudio, Capabilities, DialogueEngine, Engine, Prompt, TurnEngine

__all__ = ["CHARS_PER_SECOND", "Renderer", "estimate_seconds", "estimate_spans", "pack_blocks"]

# Speaking rates used to estimate durations before synthesis (characters per second).
CHARS_PER_SECOND = {"en": 14.0, "zh": 4.5}


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

    def render(self) -> list[Clip]:
        """Every clip of the script, in order (cached ones reused)."""
        caps = self.engine.capabilities()
        self.rate = caps.sample_rate
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
        self.ctx.progress(done, total, f"{what}s")

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
