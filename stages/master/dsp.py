"""Signal processing for mastering: trim, high-pass, fades, gain and compression (the
limiter lives in :mod:`.limiter`).

Audio is float32 ``(channels, n)`` at one sample rate unless a function says otherwise;
gains are linear factors unless named ``*_db``.  Functions that say "in place" modify their
argument to keep peak memory at one copy of the episode.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "Highpass",
    "apply_fades",
    "compress",
    "db_to_gain",
    "highpass",
    "speech_bounds",
]


def db_to_gain(db: float) -> float:
    """Linear amplitude factor of ``db`` decibels."""
    return 10.0 ** (db / 20.0)


def speech_bounds(
    x: np.ndarray, sample_rate: int, below_peak_db: float = 55.0, margin: float = 0.03
) -> tuple[int, int]:
    """``(start, end)`` sample indices of the speech in ``(channels, n)`` ``x``: the first and
    last 5 ms frame whose peak is within ``below_peak_db`` of the clip's peak, widened by
    ``margin`` seconds.  A silent clip returns ``(0, n)``."""
    frame = max(1, round(0.005 * sample_rate))
    mag = np.abs(x).max(axis=0)
    count = mag.size // frame
    if count == 0 or mag.max() <= 0:
        return 0, x.shape[1]
    frames = mag[: count * frame].reshape(count, frame).max(axis=1)
    loud = np.flatnonzero(frames >= mag.max() * db_to_gain(-below_peak_db))
    pad = round(margin * sample_rate)
    start = max(0, int(loud[0]) * frame - pad)
    last = int(loud[-1]) + 1
    end = x.shape[1] if last == count else min(x.shape[1], last * frame + pad)
    return start, end


def highpass(x: np.ndarray, sample_rate: int, cutoff: float) -> np.ndarray:
    """2nd-order Butterworth high-pass at ``cutoff`` Hz (removes DC and rumble); returns
    float32 ``(channels, n)``.  ``cutoff <= 0`` returns ``x`` unchanged."""
    if cutoff <= 0:
        return x
    from .iir import butter_highpass_sos, sosfilt_inplace

    y = np.array(x, dtype=np.float32, order="C")  # filtered in place
    state = np.zeros((y.shape[0], 1, 2), dtype=np.float32)
    sosfilt_inplace(butter_highpass_sos(cutoff, sample_rate).astype(np.float32), y, state)
    return y


class Highpass:
    """:func:`highpass` block by block: the filter state carries over, so the blocks come
    out exactly as the whole signal filtered at once would."""

    def __init__(self, sample_rate: int, cutoff: float, channels: int) -> None:
        from .iir import butter_highpass_sos

        sos = butter_highpass_sos(cutoff, sample_rate) if cutoff > 0 else None
        self._sos = sos.astype(np.float32) if sos is not None else None
        self._state = np.zeros((channels, 1, 2), dtype=np.float32)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Float32 ``(channels, n)`` ``x`` filtered (a new array)."""
        y = np.array(x, dtype=np.float32, order="C")
        if self._sos is not None:
            from .iir import sosfilt_inplace

            sosfilt_inplace(self._sos, y, self._state)
        return y


def raised_cosine(length: int) -> np.ndarray:
    """A float32 fade-in ramp of ``length`` samples from 0 towards 1 (half a cosine period)."""
    phase = (np.arange(length, dtype=np.float64) + 0.5) / max(length, 1)
    return (0.5 - 0.5 * np.cos(np.pi * phase)).astype(np.float32)


def apply_fades(x: np.ndarray, sample_rate: int, seconds: float) -> np.ndarray:
    """Raised-cosine fade-in and fade-out of ``seconds`` on both edges, in place; returns ``x``."""
    length = min(round(seconds * sample_rate), x.shape[1] // 2)
    if length > 0:
        ramp = raised_cosine(length)
        x[:, :length] *= ramp
        x[:, -length:] *= ramp[::-1]
    return x


def compress(x: np.ndarray, sample_rate: int, threshold_db: float, ratio: float) -> np.ndarray:
    """Light feed-forward compression (pedalboard ``Compressor``, 10 ms attack, 150 ms
    release).  ``ratio <= 1`` returns ``x`` unchanged."""
    if ratio <= 1.0:
        return x
    from pedalboard import Compressor

    plugin = Compressor(threshold_db=threshold_db, ratio=ratio, attack_ms=10.0, release_ms=150.0)
    if isinstance(x, np.ndarray):
        return plugin.process(x, float(sample_rate)).astype(np.float32, copy=False)
    from .spill import Spill  # audio kept in a file: compressed block by block into another

    out, block = Spill(x.folder, x.shape[0]), 1 << 20
    for start in range(0, x.shape[1], block):
        part = x[:, start : start + block]
        out.append(plugin.process(part, float(sample_rate), reset=False))
    return out
