"""Windowed decoding with left context and linear crossfades (MOSS-TTSD v0.7 decode path).

The v0.7 "prompt-augmented decode" cuts the generated codes into windows of ``window`` frames
every ``stride`` frames, prepends the (20 s) prompt codes to each, decodes, drops the prompt's
audio and keeps, per window, the frames after ``left_context`` (the first window keeps from 0):

* first window: frames [0, keep + left_context);
* last window with fewer than ``keep + left_context`` frames remaining: [left_context, end);
* otherwise: [left_context, left_context + keep);
* every window but the last carries ``crossfade`` extra samples that are linearly crossfaded
  with the start of the next kept segment.

:class:`WindowedDecoder` does this incrementally: :meth:`WindowedDecoder.push` accepts new
frames and returns the audio that is final, :meth:`WindowedDecoder.finish` flushes the rest. The
concatenation of everything it returns is sample-identical to the one-shot decode, so a streaming
engine can emit audio every ``stride`` frames (6.8 s by default) with inaudible seams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import torch

__all__ = ["DEFAULT_PLAN", "Crossfader", "WindowPlan", "WindowedDecoder", "iter_windowed_decode"]

#: codes [T, nq] -> waveform [T * samples_per_frame]
DetokenizeFn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """Window geometry in code frames (12.5 frames/s) plus the crossfade length in seconds.

    Defaults are the v0.7 reference: 10 s windows (125 frames), stride 85, left context 20,
    keep 85, 0.1 s crossfade.
    """

    window: int = 125
    stride: int = 85
    left_context: int = 20
    keep: int = 85
    crossfade_seconds: float = 0.1

    def __post_init__(self) -> None:
        if not (self.stride > 0 and 0 <= self.left_context < self.window and self.keep > 0):
            raise ValueError(f"invalid window plan {self}")

    def kept_frames(
        self, index: int, start: int, length: int, total: int | None
    ) -> tuple[int, int]:
        """Kept frame range (relative to the window start) of window ``index``.

        ``total`` is the stream length when known (None while more frames may come).
        """
        if index == 0:
            return 0, min(self.keep + self.left_context, length)
        left = min(self.left_context, length)
        is_last = total is not None and start + length >= total
        if is_last and total - start < self.keep + self.left_context:
            return left, length
        return left, min(self.left_context + self.keep, length)


#: The v0.7 reference geometry (125/85/20/85 frames, 0.1 s crossfade).
DEFAULT_PLAN = WindowPlan()


class Crossfader:
    """Streams the result of concatenating segments with linear crossfades.

    Equivalent to joining all segments at once where each join mixes the last ``n`` samples
    so far (fading 1 -> 0) with the first ``n`` samples of the next (0 -> 1),
    ``n = min(crossfade, len(output so far), len(next))``. Holds back ``crossfade`` samples.
    """

    def __init__(self, crossfade: int) -> None:
        self.crossfade = max(0, crossfade)
        self._tail: torch.Tensor | None = None

    def push(self, segment: torch.Tensor) -> torch.Tensor:
        """Add a 1-D segment; returns the samples that can no longer change."""
        if self._tail is None:
            pending = segment
        else:
            n = min(self.crossfade, self._tail.shape[-1], segment.shape[-1])
            pending = torch.cat([self._tail, segment]) if n == 0 else self._mix(segment, n)
        cut = max(0, pending.shape[-1] - self.crossfade)
        self._tail = pending[cut:]
        return pending[:cut]

    def _mix(self, segment: torch.Tensor, n: int) -> torch.Tensor:
        tail = self._tail
        fade_out = torch.linspace(1.0, 0.0, steps=n, dtype=tail.dtype, device=tail.device)
        fade_in = torch.linspace(0.0, 1.0, steps=n, dtype=segment.dtype, device=segment.device)
        mixed = tail[-n:] * fade_out + segment[:n] * fade_in
        return torch.cat([tail[:-n], mixed, segment[n:]])

    def finish(self) -> torch.Tensor:
        """The held-back tail (empty if nothing was pushed)."""
        tail, self._tail = self._tail, None
        return tail if tail is not None else torch.zeros(0)


class WindowedDecoder:
    """Incremental windowed decode of a single code stream (see module docstring).

    Args:
        detokenize: decodes codes [T, nq] to waveform [T * samples_per_frame].
        samples_per_frame: output samples per code frame (2560 at 32 kHz, 1920 at 24 kHz).
        output_sample_rate: output rate in Hz (sets the crossfade length in samples).
        prompt_codes: [P, nq] codes prepended to every window (their audio is dropped), or None.
        plan: window geometry.
    """

    def __init__(
        self,
        detokenize: DetokenizeFn,
        samples_per_frame: int,
        output_sample_rate: int,
        prompt_codes: torch.Tensor | None = None,
        plan: WindowPlan = DEFAULT_PLAN,
    ) -> None:
        self._detokenize = detokenize
        self._spf = samples_per_frame
        self._prompt = prompt_codes
        self.plan = plan
        self._frames: list[torch.Tensor] = []
        self._count = 0
        self._next = 0  # index of the next window to decode
        self._fader = Crossfader(round(plan.crossfade_seconds * output_sample_rate))

    def push(self, frames: torch.Tensor) -> torch.Tensor:
        """Append code frames [k, nq]; returns the newly final waveform samples (maybe empty)."""
        if frames.shape[0]:
            self._frames.append(frames)
            self._count += frames.shape[0]
        out = []
        # A window is final once a frame beyond it exists: it is then known not to be the last.
        while self._next * self.plan.stride + self.plan.window < self._count:
            out.append(self._decode_window(None))
        return _join(out)

    def finish(self) -> torch.Tensor:
        """Decode the remaining windows knowing the stream has ended; returns the last samples."""
        out = []
        while self._next * self.plan.stride < self._count:
            out.append(self._decode_window(self._count))
        out.append(self._fader.finish())
        return _join(out)

    def _codes(self) -> torch.Tensor:
        if len(self._frames) > 1:
            self._frames = [torch.cat(self._frames)]
        return self._frames[0]

    def _decode_window(self, total: int | None) -> torch.Tensor:
        index, plan = self._next, self.plan
        self._next += 1
        start = index * plan.stride
        chunk = self._codes()[start : start + plan.window]
        length = chunk.shape[0]
        if self._prompt is not None:
            chunk = torch.cat([self._prompt.to(chunk), chunk])
        drop = 0 if self._prompt is None else self._prompt.shape[0] * self._spf
        audio = self._detokenize(chunk)[drop:]
        first, last = plan.kept_frames(index, start, length, total)
        is_last = total is not None and start + length >= total
        margin = 0 if is_last else self._fader.crossfade
        segment = audio[first * self._spf : min(audio.shape[-1], last * self._spf + margin)]
        if segment.shape[-1] == 0:
            return segment
        return self._fader.push(segment)


def _join(parts: list[torch.Tensor]) -> torch.Tensor:
    parts = [p for p in parts if p.shape[-1]]
    if not parts:
        return torch.zeros(0)
    return torch.cat([p.to(parts[0].device) for p in parts])


def iter_windowed_decode(
    decoder: WindowedDecoder, stream: Iterable[torch.Tensor]
) -> Iterator[torch.Tensor]:
    """Feed ``stream`` (code frames [k, nq] per item) to ``decoder``; yield non-empty pieces."""
    for frames in stream:
        piece = decoder.push(frames)
        if piece.shape[-1]:
            yield piece
    piece = decoder.finish()
    if piece.shape[-1]:
        yield piece
