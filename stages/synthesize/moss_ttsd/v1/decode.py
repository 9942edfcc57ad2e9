"""From generated rows to audio: de-delay, split at all-pad frames, decode, drop the prompt.

``rows`` are what :func:`.generate.generate` returns for one row (from the assistant turn's
``<|audio_start|>`` on). Frame t of codebook k sits in row t + k; frames whose codes are all pad
separate segments (the ``<|audio_start|>`` row itself is one). The first segment starts with the
prompt's frames, which are cut off after decoding.

The reference cuts the first segment at ``len * prompt_rows / segment_frames`` where
``prompt_rows`` also counts the ``<|audio_start|>`` row, which drops one newly generated frame;
``exact_trim=True`` (the default here) cuts at the prompt's own frame count. ``exact_trim=False``
reproduces the reference for the parity tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .codec import MossAudioTokenizer

__all__ = ["Decoded", "decode_rows", "de_delay", "segments"]

CHUNK_FRAMES = 100  # the reference always decodes with chunk_duration = 8 s (100 frames)


@dataclass(frozen=True, slots=True)
class Decoded:
    """Audio of every segment (24 kHz float32), the first without its prompt part."""

    segments: tuple[np.ndarray, ...]
    bounds: tuple[tuple[int, int], ...]
    untrimmed_first: np.ndarray | None


def de_delay(rows: np.ndarray, n: int) -> np.ndarray:
    """Audio columns ``[R, n]`` (delay pattern) -> frames ``[R - n + 1, n]``."""
    frames = rows.shape[0] - n + 1
    return np.stack([rows[k : k + frames, k] for k in range(n)], axis=1)


def segments(frames: np.ndarray, pad: int) -> list[tuple[int, int]]:
    """``[start, end)`` of each run of frames that are not all pad."""
    real = ~(frames == pad).all(axis=1)
    bounds, start = [], None
    for t, is_real in enumerate(real):
        if is_real and start is None:
            start = t
        elif not is_real and start is not None:
            bounds.append((start, t))
            start = None
    if start is not None:
        bounds.append((start, len(real)))
    return bounds


def decode_rows(
    codec: MossAudioTokenizer, rows: np.ndarray, prompt_rows: int, pad: int, exact_trim: bool = True
) -> Decoded:
    """Decode the audio of one generated row set (see the module docstring)."""
    n = rows.shape[1] - 1
    frames = de_delay(rows[:, 1:], n)
    bounds = segments(frames, pad)
    audio = []
    for start, end in bounds:
        codes = torch.from_numpy(np.ascontiguousarray(frames[start:end].T))[:, None, :]
        audio.append(codec.decode(codes, chunk_frames=CHUNK_FRAMES)[0, 0].float().cpu().numpy())
    untrimmed = audio[0] if audio else None
    if audio:
        start, end = bounds[0]
        prompt_frames = max(0, prompt_rows - start) if exact_trim else prompt_rows
        audio[0] = audio[0][int(len(audio[0]) * prompt_frames / (end - start)) :]
    return Decoded(tuple(audio), tuple(bounds), untrimmed)
