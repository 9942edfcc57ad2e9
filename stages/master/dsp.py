"""Signal processing for mastering: trim, high-pass, fades, gain ramps, compression and a
vectorised look-ahead true-peak limiter.

Audio is float32 ``(channels, n)`` at one sample rate unless a function says otherwise;
gains are linear factors unless named ``*_db``.  Functions that say "in place" modify their
argument to keep peak memory at one copy of the episode.
"""

from __future__ import annotations

import math

import numpy as np

from .peak import peak_envelope

__all__ = [
    "apply_fades",
    "compress",
    "db_to_gain",
    "highpass",
    "limit",
    "speech_bounds",
]

CHUNK = 1 << 21  # samples per limiter chunk (≈ 44 s at 48 kHz)


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
    from scipy.signal import butter, sosfilt

    sos = butter(2, cutoff, btype="highpass", fs=sample_rate, output="sos").astype(np.float32)
    return sosfilt(sos, x, axis=-1).astype(np.float32, copy=False)


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
    return plugin.process(x, float(sample_rate)).astype(np.float32, copy=False)


def limit(
    x: np.ndarray, sample_rate: int, ceiling_db: float, attack: float = 0.01, hold: float = 0.03
) -> np.ndarray:
    """Look-ahead true-peak limiter, in place; returns ``x``.

    The channel-linked gain needed at every sample (ceiling over the x4 true-peak envelope)
    is min-filtered over ``[n - hold, n + attack)`` and smoothed by two boxes whose joint
    length is below ``attack``, so the smoothed gain never exceeds the needed gain: peaks
    are caught without overshoot, gain falls over ``attack`` seconds before a peak and
    recovers over ``attack`` after ``hold``.  Work goes in chunks, and chunks with nothing
    above the ceiling are skipped.
    """
    ceiling = db_to_gain(ceiling_db)
    ahead, back = max(2, round(attack * sample_rate)), round(hold * sample_rate)
    margin = ahead + back + 2
    n = x.shape[1]
    saved = np.zeros((x.shape[0], 0), dtype=np.float32)  # unmodified samples left of the chunk
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        lo, hi = max(0, start - margin), min(n, stop + margin)
        window = np.concatenate([saved, x[:, start:hi]], axis=1)
        saved = x[:, max(0, stop - margin) : stop].copy()
        gain = _limiter_gain(window, ceiling, ahead, back)
        if gain is not None:
            x[:, start:stop] *= gain[start - lo : start - lo + stop - start]
    return x


def _limiter_gain(x: np.ndarray, ceiling: float, ahead: int, back: int) -> np.ndarray | None:
    """Smoothed gain for ``(channels, m)`` ``x``, or ``None`` when nothing exceeds ``ceiling``."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    env = peak_envelope(x[0], ceiling)
    for channel in x[1:]:
        np.maximum(env, peak_envelope(channel, ceiling), out=env)
    if float(env.max()) <= ceiling:
        return None
    need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12)).astype(np.float32)
    size = ahead + back
    # window [n - back, n + ahead): centred filters take origin relative to the middle
    held = minimum_filter1d(
        need, size=size, origin=(size // 2) - ahead + 1 if size > 1 else 0, mode="nearest"
    )
    box = max(1, ahead // 2)
    smooth = uniform_filter1d(held, size=box, origin=(box - 1) // 2, mode="nearest")
    smooth = uniform_filter1d(smooth, size=box, origin=(box - 1) // 2, mode="nearest")
    return np.minimum(smooth, need)  # guards against rounding in the running means


def gain_db(x: np.ndarray, db: float) -> np.ndarray:
    """Multiply by ``db`` decibels in place; returns ``x``."""
    if db != 0.0 and math.isfinite(db):
        x *= np.float32(db_to_gain(db))
    return x
