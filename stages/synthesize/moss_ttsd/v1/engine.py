"""The ``moss-ttsd`` engine's v1.0 path: voices, blocks, streaming and memory planning.

References are per speaker (``--voice S1=a.wav:"exact transcript"`` … up to ``S5``), read at the
codec's 24 kHz (3–10 s each works best); a shared tagged clip (the v0.x format) is refused with
a clear message. The previous block's tail is carried as the continuation prompt so voices
stay the same across an episode.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from podcast import Block, BlockAudio, Audio, MemoryModel, SynthesisError, Voice, estimate_seconds, estimate_turn_spans
from podcast import DTYPE_BYTES, kv_bytes_per_position

from ..voices import is_shared

__all__ = ["check_v1_voices", "render_block", "render_blocks", "stream_block", "v1_memory_model"]

SAMPLE_RATE = 24000
FRAME_RATE = 12.5
#: Allocator slack and activations on top of weights (GB), and per-step buffers over the KV cache.
OVERHEAD_BYTES = 1.5e9
KV_OVERHEAD = 1.2


def check_v1_voices(voices: Mapping[str, Voice], speakers: set[str]) -> float:
    """Refuse references v1.0 cannot use; returns the reference seconds (for planning)."""
    seconds = 0.0
    for sid in sorted(speakers):
        voice = voices.get(sid)
        if voice is None or voice.ref_audio is None:
            continue
        if is_shared(voice):
            raise SynthesisError(
                f'moss-ttsd v1.0 takes one reference per speaker; give {sid} its own clip: --voice {sid}=ref.wav:"transcript"'
            )
        import soundfile as sf

        try:
            seconds += sf.info(str(voice.ref_audio)).duration
        except RuntimeError as exc:
            raise SynthesisError(f"reference audio for {sid} is not readable audio: {voice.ref_audio} ({exc})") from None
    return seconds


def _references(block: Block) -> tuple[Any, ...]:
    from podcast.audio import read_audio, resample, to_mono

    from .runtime import SpeakerReference

    refs = []
    for sid in sorted(block.voices, key=lambda s: int(s[1:])):
        voice = block.voices[sid]
        if voice.ref_audio is None or not (voice.ref_text or "").strip():
            continue
        samples, rate = read_audio(voice.ref_audio)
        clip = to_mono(resample(samples, rate, SAMPLE_RATE)).astype(np.float32)
        refs.append(SpeakerReference(int(sid[1:]), clip, voice.ref_text.strip()))
    return tuple(refs)


def _request(block: Block) -> Any:
    from podcast.audio import resample, to_mono

    from .runtime import V1Request

    carried, carried_turns = None, ()
    if block.prompt is not None and block.prompt.audio.samples.shape[-1]:
        audio = block.prompt.audio
        carried = to_mono(resample(audio.samples, audio.sample_rate, SAMPLE_RATE)).astype(np.float32)
        carried_turns = block.prompt.turns
    return V1Request(tuple(block.turns), _references(block), carried, tuple(carried_turns))


def _seconds_of(language: str) -> Callable[[Sequence[Any]], float]:
    return lambda turns: sum(estimate_seconds(t.text, language) for t in turns)


def render_block(runtime: Any, block: Block, sampling: Any, seed: int, max_frames: int) -> BlockAudio:
    """One block; turns the model left unspoken are rendered again as a continuation."""
    samples = runtime.render_complete(_request(block), sampling, seed, _seconds_of(block.language), max_frames)
    return BlockAudio(Audio(samples, SAMPLE_RATE), estimate_turn_spans(samples, SAMPLE_RATE, block.turns))


def render_blocks(
    runtime: Any, blocks: Sequence[Block], sampling: Any, seed: int, size: int, frames: Callable[[Sequence[Block]], int]
) -> Iterator[tuple[int, BlockAudio]]:
    """Independent blocks, ``size`` per batch (one seed per batch: rows are independent)."""
    for first in range(0, len(blocks), size):
        group = blocks[first : first + size]
        if len(group) == 1:
            yield first, render_block(runtime, group[0], sampling, seed + group[0].index, frames(group))
            continue
        audios = runtime.render([_request(b) for b in group], sampling, seed + group[0].index, frames(group))
        for row, (block, samples) in enumerate(zip(group, audios, strict=True)):
            yield first + row, BlockAudio(Audio(samples, SAMPLE_RATE), estimate_turn_spans(samples, SAMPLE_RATE, block.turns))


def stream_block(runtime: Any, block: Block, sampling: Any, seed: int, max_frames: int) -> Iterator[np.ndarray]:
    """The block's audio in 8 s pieces (same samples as :func:`render_block`)."""
    samples = render_block(runtime, block, sampling, seed, max_frames).audio.samples
    step = 8 * SAMPLE_RATE
    for start in range(0, samples.shape[0], step):
        yield samples[start : start + step]


def v1_memory_model(config: Mapping[str, Any], codec_dir: Path, dtype: str) -> MemoryModel:
    """GPU bytes for a v1.0 block: LM weights in ``dtype`` + the codec in float32 + slack, and
    the KV cache per second of sequence (12.5 frames/s)."""
    language = config["language_config"]
    hidden, vocab = int(language["hidden_size"]), int(language["vocab_size"])
    heads = int(language["num_attention_heads"])
    kv = int(language.get("num_key_value_heads") or heads)
    head_dim = int(language.get("head_dim") or hidden // heads)
    layers, inter = int(language["num_hidden_layers"]), int(language["intermediate_size"])
    n_vq, rows = int(config["n_vq"]), int(config.get("audio_vocab_size", 1024)) + 1
    per_layer = hidden * head_dim * (2 * heads + 2 * kv) + 3 * hidden * inter + 2 * hidden + 2 * head_dim
    lm = 2 * vocab * hidden + layers * per_layer + hidden + 2 * n_vq * rows * hidden
    width = DTYPE_BYTES[dtype]
    fixed = lm * width + _codec_parameters(codec_dir) * 4 + OVERHEAD_BYTES
    per_second = kv_bytes_per_position(layers, kv, head_dim, width) * FRAME_RATE * KV_OVERHEAD
    return MemoryModel(fixed, per_second)


def _codec_parameters(codec_dir: Path) -> int:
    import torch

    from .codec import CodecConfig, MossAudioTokenizer

    raw = json.loads((codec_dir / "config.json").read_text(encoding="utf-8"))
    with torch.device("meta"):
        model = MossAudioTokenizer(CodecConfig.from_dict(raw))
    return sum(p.numel() for p in model.parameters())
