"""Prompt assembly for MOSS-TTSD v0.5/v0.7: text layout, delay pattern, left padding, de-delay.

Token grid convention: a prompt is an int64 array ``[rows, channels]``. Text tokens sit in
column 0 with the other columns set to the speech pad (1024); prompt-audio frames follow, with
codebook 0 in column 0 offset by :data:`~.config.SPEECH_OFFSET`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .config import DEFAULT_TEXT_PAD, SPEECH_OFFSET

#: System prompt used by the reference inference scripts.
SYSTEM_PROMPT = (
    "You are a speech synthesizer that generates natural, realistic, and human-like "
    "conversational audio from dialogue text."
)
SPEECH_PAD = 1024
CHANNELS = 8


class TextTokenizer(Protocol):
    """What the processor needs from a tokenizer (an HF tokenizer satisfies it)."""

    pad_token_id: int | None

    def encode(self, text: str) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class Batch:
    """A left-padded batch ready for generation.

    ``input_ids`` ``[B, T, C]`` int64, ``attention_mask`` ``[B, T]`` int64 (0 on padding),
    ``position_ids`` ``[B, T]`` int64 (``cumsum(mask) - 1``, padding set to 1).
    """

    input_ids: np.ndarray
    attention_mask: np.ndarray
    position_ids: np.ndarray


def speaker_tags_to_tokens(text: str) -> str:
    """``[S1]``/``[S2]`` → ``<speaker1>``/``<speaker2>`` (after normalisation)."""
    return text.replace("[S1]", "<speaker1>").replace("[S2]", "<speaker2>")


def dialogue_text(
    prompt_text: str, text: str, normalize: Callable[[str], str] | None = None
) -> str:
    """Transcript of the prompt followed by the script, normalised as one string, tags mapped."""
    full = prompt_text + text if prompt_text else text
    if normalize is not None:
        full = normalize(full)
    return speaker_tags_to_tokens(full)


def prompt_string(text: str, system_prompt: str = SYSTEM_PROMPT) -> str:
    """The exact string the reference tokenises (style block, text block, speech opener)."""
    return (
        f"<|begin_of_style|>{system_prompt}<|end_of_style|>\n"
        f"<|begin_of_text|>{text}<|end_of_text|>\n<|begin_of_speech|>"
    )


def text_rows(token_ids: Sequence[int], channels: int = CHANNELS, pad: int = SPEECH_PAD) -> np.ndarray:
    """Text ids in column 0, the other columns ``pad``: ``[n, channels]`` int64."""
    rows = np.full((len(token_ids), channels), pad, dtype=np.int64)
    rows[:, 0] = np.asarray(token_ids, dtype=np.int64)
    return rows


def append_codes(rows: np.ndarray, codes: np.ndarray | None, offset: int = SPEECH_OFFSET) -> np.ndarray:
    """Append prompt-audio codes ``[frames, channels]`` (column 0 gets ``+offset``)."""
    if codes is None or len(codes) == 0:
        return rows
    frames = np.array(codes, dtype=np.int64, copy=True)
    if frames.shape[1] != rows.shape[1]:
        raise ValueError(f"codes must be [frames, {rows.shape[1]}], got {frames.shape}")
    frames[:, 0] += offset
    return np.concatenate([rows, frames], axis=0)


def delay(rows: np.ndarray, text_pad: int = DEFAULT_TEXT_PAD, pad: int = SPEECH_PAD) -> np.ndarray:
    """Delay pattern: channel k shifted down by k rows; ``channels - 1`` rows are added.

    Column 0's tail is ``text_pad``; the other empty cells are ``pad``.
    """
    n, channels = rows.shape
    out = np.full((n + channels - 1, channels), pad, dtype=np.int64)
    out[:, 0] = text_pad
    for k in range(channels):
        out[k : n + k, k] = rows[:, k]
    return out


def undelay(generated: np.ndarray, offset: int = SPEECH_OFFSET) -> np.ndarray:
    """Inverse of :func:`delay` on a generated stream ``[B, steps, C]`` → ``[B, steps-C+1, C]``.

    ``frame[t, j] = generated[t + j, j]``; column 0 has ``offset`` subtracted.
    """
    channels = generated.shape[-1]
    frames = max(generated.shape[1] - channels + 1, 0)
    out = np.stack([generated[:, j : j + frames, j] for j in range(channels)], axis=-1)
    out[..., 0] -= offset
    return out


def left_pad(
    prompts: Sequence[np.ndarray], text_pad: int = DEFAULT_TEXT_PAD, pad: int = SPEECH_PAD
) -> Batch:
    """Left-pad delayed prompts to one length with ``(text_pad, pad, ...)`` rows."""
    length = max(p.shape[0] for p in prompts)
    channels = prompts[0].shape[1]
    ids = np.full((len(prompts), length, channels), pad, dtype=np.int64)
    ids[:, :, 0] = text_pad
    mask = np.zeros((len(prompts), length), dtype=np.int64)
    for b, prompt in enumerate(prompts):
        ids[b, length - prompt.shape[0] :] = prompt
        mask[b, length - prompt.shape[0] :] = 1
    positions = np.where(mask == 1, np.cumsum(mask, axis=1) - 1, 1)
    return Batch(ids, mask, positions.astype(np.int64))


def build_prompt(
    tokenizer: TextTokenizer,
    text: str,
    codes: np.ndarray | None,
    system_prompt: str = SYSTEM_PROMPT,
) -> np.ndarray:
    """Undelayed prompt rows for one item: tokenised template + prompt-audio codes."""
    ids = tokenizer.encode(prompt_string(text, system_prompt))
    return append_codes(text_rows(ids), codes)


def last_speech_frame(frames: np.ndarray, pad: int = SPEECH_PAD) -> int:
    """Index of the last frame whose channel 1 is not ``pad`` (``-1`` if none)."""
    valid = np.nonzero(frames[:, 1] != pad)[0]
    return int(valid[-1]) if len(valid) else -1


def valid_prefix(frames: np.ndarray, codebook_size: int = SPEECH_PAD) -> int:
    """Length of the longest prefix whose codes all lie in ``[0, codebook_size)``."""
    bad = np.nonzero(((frames < 0) | (frames >= codebook_size)).any(axis=1))[0]
    return int(bad[0]) if len(bad) else len(frames)
