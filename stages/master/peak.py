"""True peak (ITU-R BS.1770-4 Annex 2): x4 polyphase interpolation, then the largest |x|.

The interpolator is a 49-tap Kaiser-windowed sinc whose zero phase is the identity, so the
sample peak is a lower bound of the true peak, and each other phase (12 taps) can raise a
sample's neighbourhood by at most the L1 norm of its taps.  That bound lets the meter skip
every 1024-sample block whose neighbourhood cannot beat the best peak found so far: blocks
are visited loudest first, and on speech most of them are never oversampled.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["PHASE_TAPS", "TruePeakMeter", "peak_envelope", "true_peak"]

PHASE_TAPS = 12  # taps per polyphase branch; windows of 12 input samples give 3 new points
_HALF = 5  # a window starting at sample r interpolates between r + 5 and r + 6
BLOCK = 1024
GROUP = 64  # blocks oversampled per vectorised batch


@functools.cache
def _phase_matrix() -> tuple[np.ndarray, float]:
    """``(12, 3)`` float32 taps of the three non-trivial phases (¼, ½, ¾ of a sample after
    the window's 6th sample) and the largest L1 norm among them (the overshoot bound)."""
    n = np.arange(4 * PHASE_TAPS + 1) - 2 * PHASE_TAPS
    h = np.sinc(n / 4.0) * np.kaiser(n.size, 7.0)
    rows = [h[44 - 4 * i + p] for p in (1, 2, 3) for i in range(PHASE_TAPS)]
    taps = np.array(rows, dtype=np.float64).reshape(3, PHASE_TAPS)
    taps /= taps.sum(axis=1, keepdims=True)  # unity DC gain in every phase
    return np.ascontiguousarray(taps.T, dtype=np.float32), float(np.abs(taps).sum(axis=1).max())


def _phases(windows: np.ndarray) -> np.ndarray:
    """``(k, m + 11)`` float32 samples → ``(3, k, m)`` interpolated values (¼, ½, ¾ of a
    sample after each window's 6th sample), as 12 multiply-adds per phase on cache-sized
    arrays (faster than a matrix product over strided windows)."""
    matrix, _ = _phase_matrix()
    k, m = windows.shape[0], windows.shape[1] - PHASE_TAPS + 1
    out = np.empty((3, k, m), dtype=np.float32)
    scratch = np.empty((k, m), dtype=np.float32)
    for phase in range(3):
        np.multiply(windows[:, :m], matrix[0, phase], out=out[phase])
        for tap in range(1, PHASE_TAPS):
            np.multiply(windows[:, tap : tap + m], matrix[tap, phase], out=scratch)
            out[phase] += scratch
    return out


def _block_bounds(x: np.ndarray) -> np.ndarray:
    """Upper bound of |interpolated| over each BLOCK of window starts in padded ``x``."""
    _, l1 = _phase_matrix()
    count = max(0, (x.size - PHASE_TAPS + 1 + BLOCK - 1) // BLOCK)
    padded = np.zeros((count + 1) * BLOCK, dtype=np.float32)
    padded[: x.size] = np.abs(x[: padded.size])
    peaks = padded.reshape(-1, BLOCK).max(axis=1)
    return np.maximum(peaks[:-1], peaks[1:]) * l1  # a block's windows reach into the next


def _block_windows(x: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    """``(k, BLOCK + 11)`` slices of ``x`` (zero-padded at the end) starting at each block."""
    need = (int(blocks.max()) + 1) * BLOCK + PHASE_TAPS
    if need > x.size:
        x = np.concatenate([x, np.zeros(need - x.size, dtype=np.float32)])
    index = blocks[:, np.newaxis] * BLOCK + np.arange(BLOCK + PHASE_TAPS - 1)
    return x[index]


def _group_values(x: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window starts ``(k, BLOCK)`` of the blocks in ``group`` and the largest |value| each
    window interpolates (between samples ``start + 5`` and ``start + 6`` of ``x``)."""
    values = np.abs(_phases(_block_windows(x, group)))
    best = np.maximum(np.maximum(values[0], values[1]), values[2])
    starts = group[:, np.newaxis] * BLOCK + np.arange(BLOCK)
    return starts, best


def _group_peak(x: np.ndarray, group: np.ndarray, last: int) -> float:
    """Largest interpolated |value| over the blocks in ``group``, windows past ``last`` ignored."""
    complete = group[(group + 1) * BLOCK - 1 <= last]
    best = 0.0
    if complete.size:
        values = _phases(_block_windows(x, complete))
        best = max(float(values.max()), -float(values.min()))
    partial = group[(group + 1) * BLOCK - 1 > last]
    if partial.size:
        starts, values = _group_values(x, partial)
        values = values[starts <= last]
        best = max(best, float(values.max()) if values.size else 0.0)
    return best


def _padded_peak(x: np.ndarray, best: float) -> float:
    """Largest interpolated |value| in 1-D ``x`` (whole windows only) if it beats ``best``."""
    bounds = _block_bounds(x)
    order = np.argsort(bounds)[::-1]
    order = order[bounds[order] > best]
    last = x.size - PHASE_TAPS  # the last window start that lies wholly inside x
    for start in range(0, order.size, GROUP):
        group = order[start : start + GROUP]
        group = group[bounds[group] > best]
        if not group.size:
            break
        best = max(best, _group_peak(x, group, last))
    return best


def true_peak(x: np.ndarray) -> float:
    """True peak (linear, not dB) of float ``(channels, n)`` or ``(n,)`` audio, the signal
    taken as silent before and after."""
    meter = TruePeakMeter(1, np.atleast_2d(x).shape[0])
    meter.feed(np.atleast_2d(x))
    return meter.result()


class TruePeakMeter:
    """Streaming true-peak meter: keeps the last 11 samples of each channel between calls."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self._tails = np.zeros((channels, PHASE_TAPS - 1), dtype=np.float32)
        self._best = 0.0

    def feed(self, block: np.ndarray) -> None:
        """Add float ``(channels, n)`` samples."""
        x = np.asarray(block, dtype=np.float32)
        if x.shape[1] == 0:
            return
        self._best = max(self._best, float(x.max()), -float(x.min()))  # phase 0: identity
        joined = np.concatenate([self._tails, x], axis=1)
        rows = (
            joined[:1] if joined.shape[0] == 2 and np.array_equal(joined[0], joined[1]) else joined
        )
        for channel in rows:  # identical stereo channels (a duplicated mono master) once
            self._best = _padded_peak(channel, self._best)
        self._tails = joined[:, -(PHASE_TAPS - 1) :].copy()

    def result(self) -> float:
        """Largest true peak so far (linear), including the fade-out into silence."""
        flush = np.concatenate([self._tails, np.zeros_like(self._tails)], axis=1)
        best = self._best
        for channel in flush:
            best = _padded_peak(channel, best)
        return best


def peak_envelope(x: np.ndarray, floor: float) -> np.ndarray:
    """Per-sample true-peak envelope of 1-D ``x`` (silence assumed around it): ``env[n]``
    is the largest |value| of the reconstructed signal within one sample of ``n``
    (≥ |x[n]|).  Blocks whose bound stays at or below ``floor`` are not oversampled; there
    ``env`` is just |x| (a limiter with ceiling ``floor`` needs nothing more)."""
    x = np.asarray(x, dtype=np.float32)
    env = np.abs(x)
    padded = np.concatenate([np.zeros(_HALF, np.float32), x, np.zeros(PHASE_TAPS, np.float32)])
    bounds = _block_bounds(padded)
    hot = np.flatnonzero(bounds > floor)
    for start in range(0, hot.size, GROUP):
        starts, values = _group_values(padded, hot[start : start + GROUP])
        # window r interpolates between x[r] and x[r + 1]: both neighbours see the value
        for index in (starts, starts + 1):
            keep = index < x.size
            env[index[keep]] = np.maximum(env[index[keep]], values[keep])
    return env
