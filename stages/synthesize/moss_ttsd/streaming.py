"""Streaming synthesis: audio arrives every few seconds while the LM is still generating.

The generation loop runs in a worker thread and hands each step's delayed token row to the
caller through a queue.  Rows are de-delayed as soon as a frame is complete (frame ``t``
needs row ``t + 7``), frames go into the codec's incremental windowed decoder
(:class:`~.xy_tokenizer.windowing.WindowedDecoder`) and every piece it releases is yielded.

Unlike the reference ``AudioIteratorStreamer`` (hard cuts every 20 s, no left context, and
a prompt that is silently dropped), each window is decoded with 20 frames of left context,
the speakers' 20 s reference prefix and a 0.1 s crossfade, so the concatenated pieces are
sample-identical to the one-shot :meth:`Runtime.decode` of the same codes: no audible seams.
With the default plan a piece arrives every 85 frames (6.8 s of audio).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch

from .generate import Decoder, GenerationConfig
from .runtime import Runtime
from .voices import Reference
from .xy_tokenizer.windowing import WindowPlan

__all__ = ["Dedelayer", "stream_audio"]

_DONE = object()


class Dedelayer:
    """Turns delayed token rows ``[C]`` into complete code frames ``[C]`` (0..1023).

    Stops for good at the first frame that is not all speech codes (EOS flush, padding), the
    same cut as :attr:`GenerationResult.codes`.
    """

    def __init__(self, channels: int, offset: int, codebook: int) -> None:
        self.channels, self.offset, self.codebook = channels, offset, codebook
        self.rows: list[np.ndarray] = []
        self.emitted = 0
        self.ended = False

    def push(self, row: np.ndarray) -> np.ndarray:
        """Add one row; returns the frames ``[k, C]`` completed by it (k is 0 or 1)."""
        self.rows.append(row)
        ready = len(self.rows) - (self.channels - 1)
        frames = []
        while not self.ended and self.emitted < ready:
            t = self.emitted
            frame = np.array([self.rows[t + j][j] for j in range(self.channels)], dtype=np.int64)
            frame[0] -= self.offset
            if ((frame < 0) | (frame >= self.codebook)).any():
                self.ended = True
                break
            frames.append(frame)
            self.emitted += 1
        return np.stack(frames) if frames else np.zeros((0, self.channels), dtype=np.int64)


class _ReportingDecoder(Decoder):
    """The generation loop, also putting each step's tokens (row 0) on a queue."""

    def __init__(self, lm: Any, rows: queue.Queue) -> None:
        super().__init__(lm)
        self._rows = rows

    def _apply_rules(
        self, s: int, tokens: torch.Tensor, tail: torch.Tensor, state: Any, at_max: bool
    ) -> torch.Tensor:
        tokens = super()._apply_rules(s, tokens, tail, state, at_max)
        self._rows.put(tokens[0].cpu().numpy())
        return tokens


def _generate_in_thread(
    runtime: Runtime, item: np.ndarray, config: GenerationConfig, rows: queue.Queue
) -> threading.Thread:
    from .processor import left_pad

    def work() -> None:
        try:
            batch = left_pad([item], runtime.text_pad)
            _ReportingDecoder(runtime.lm, rows).generate(
                batch.input_ids, batch.attention_mask, config
            )
            rows.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            rows.put(exc)

    thread = threading.Thread(target=work, name="moss-ttsd-generate", daemon=True)
    thread.start()
    return thread


def _frames(runtime: Runtime, item: np.ndarray, config: GenerationConfig) -> Iterator[np.ndarray]:
    """Complete code frames ``[k, 8]`` as the worker generates them."""
    rows: queue.Queue = queue.Queue()
    thread = _generate_in_thread(runtime, item, config, rows)
    cfg = runtime.lm.config
    dedelay = Dedelayer(cfg.channels, cfg.speech_offset, cfg.speech_pad_token)
    try:
        while (row := rows.get()) is not _DONE:
            if isinstance(row, BaseException):
                raise row
            frames = dedelay.push(row)
            if frames.shape[0]:
                yield frames
    finally:
        thread.join()


def stream_audio(
    runtime: Runtime,
    item: np.ndarray,
    config: GenerationConfig,
    reference: Reference | None,
    plan: WindowPlan | None = None,
) -> Iterator[np.ndarray]:
    """Generate from the delayed grid ``item`` and yield float32 audio pieces ``(m,)`` at the
    codec rate; their concatenation equals ``runtime.decode(codes, reference)`` for v0.7."""
    decoder = runtime.codec.windowed_decoder(
        runtime.reference_codes(reference), plan or WindowPlan()
    )
    for frames in _frames(runtime, item, config):
        piece = decoder.push(torch.from_numpy(frames))
        if piece.shape[-1]:
            yield piece.float().cpu().numpy()
    tail = decoder.finish()
    if tail.shape[-1]:
        yield tail.float().cpu().numpy()


def concatenate(pieces: Sequence[np.ndarray]) -> np.ndarray:
    """Join streamed pieces (float32 ``(n,)``)."""
    return (
        np.concatenate(list(pieces)).astype(np.float32) if pieces else np.zeros(0, dtype=np.float32)
    )
