"""Vectorised look-ahead true-peak limiter.

The channel-linked gain needed at every sample (ceiling over the x4 true-peak envelope) is
min-filtered over ``[n - hold, n + attack)`` and smoothed by two running means whose joint
length is below ``attack``.  Every smoothed value is then a mean of minima over windows
that all contain ``n``, so it never exceeds the gain needed at ``n``: peaks are caught
without overshoot, the gain falls over ``attack`` seconds before a peak and recovers over
``attack`` after ``hold``.  The filters run on 16-sample blocks (a block needs what its
loudest sample needs) and the gain is ramped linearly between blocks.

The costly part, the true-peak envelope, is computed once per :class:`Limiter`; trying
another make-up gain (the chain re-measures loudness after limiting and corrects) only
re-runs the cheap filters.  Work goes in chunks, and chunks with nothing above the
ceiling are skipped.
"""

from __future__ import annotations

import numpy as np

from .dsp import db_to_gain
from .peak import PHASE_TAPS, peak_envelope

__all__ = ["Limiter", "limit"]

CHUNK = 1 << 21  # samples per chunk (about 44 s at 48 kHz); a multiple of BLOCK
BLOCK = 16  # the gain curve is computed per block of samples and ramped linearly between


class Limiter:
    """Limit ``x`` (float32 ``(channels, n)`` at ``sample_rate``) at ``ceiling_db`` dBTP for
    any make-up gain up to ``max_gain_db`` (the envelope skips blocks that could only
    exceed the ceiling with more gain than that)."""

    def __init__(
        self,
        x: np.ndarray,
        sample_rate: int,
        ceiling_db: float,
        max_gain_db: float = 0.0,
        attack: float = 0.01,
        hold: float = 0.03,
    ) -> None:
        self.x = x
        self.ceiling_db = ceiling_db
        self.max_gain_db = max_gain_db
        self._ahead = max(2, round(attack * sample_rate))
        self._back = round(hold * sample_rate)
        self.envelope = _envelope(x, db_to_gain(ceiling_db - max_gain_db))

    def covers(self, gain_db: float, ceiling_db: float) -> bool:
        """Whether :meth:`apply` is exact for this gain and ceiling."""
        return ceiling_db == self.ceiling_db and gain_db <= self.max_gain_db + 1e-9

    def apply(self, gain_db: float, out: np.ndarray | None = None) -> np.ndarray:
        """``x`` times ``gain_db``, limited; written to ``out`` (may be ``x`` itself) or to
        a new array, which is returned."""
        gain, ceiling = db_to_gain(gain_db), db_to_gain(self.ceiling_db)
        y = np.multiply(self.x, np.float32(gain), out=out)
        blocks = -(-(self._ahead + self._back) // BLOCK) + 4
        margin, n = blocks * BLOCK, y.shape[1]
        for start in range(0, n, CHUNK):  # CHUNK and margin are whole blocks: one grid
            stop = min(n, start + CHUNK)
            lo, hi = max(0, start - margin), min(n, stop + margin)
            peaks = _block_peaks(self.envelope[lo:hi]) * np.float32(gain)
            if float(peaks.max(initial=0.0)) > ceiling:
                y[:, start:stop] *= self._smoothed(peaks, ceiling)[start - lo : stop - lo]
        return y

    def _smoothed(self, peaks: np.ndarray, ceiling: float) -> np.ndarray:
        """Per-sample gain from per-block envelope peaks.

        Work happens on blocks of BLOCK samples: a block's gain may not exceed what it or
        its left neighbour needs, so the linear ramp between two block gains (a convex
        combination) never exceeds what any sample on it needs.
        """
        from scipy.ndimage import minimum_filter1d, uniform_filter1d

        need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12)).astype(np.float32)
        need[1:] = np.minimum(need[1:], need[:-1])
        ahead, back = -(-self._ahead // BLOCK), -(-self._back // BLOCK)
        size, box = ahead + back, max(1, ahead // 2)
        # window [j - back, j + ahead): scipy's origin is relative to the window's middle
        held = minimum_filter1d(need, size=size, origin=size // 2 - ahead + 1, mode="nearest")
        smooth = uniform_filter1d(held, size=box, origin=(box - 1) // 2, mode="nearest")
        smooth = np.minimum(
            uniform_filter1d(smooth, size=box, origin=(box - 1) // 2, mode="nearest"), need
        )
        following = np.append(smooth[1:], smooth[-1])
        ramp = np.arange(BLOCK, dtype=np.float32) / BLOCK
        return (smooth[:, np.newaxis] + (following - smooth)[:, np.newaxis] * ramp).ravel()


def _block_peaks(env: np.ndarray) -> np.ndarray:
    """Largest envelope value in each BLOCK of samples (the last block zero-padded)."""
    count = -(-env.size // BLOCK)
    padded = np.zeros(count * BLOCK, dtype=np.float32)
    padded[: env.size] = env
    return padded.reshape(count, BLOCK).max(axis=1)


def _envelope(x: np.ndarray, floor: float) -> np.ndarray:
    """Channel-linked true-peak envelope of ``x`` (exact wherever it may exceed ``floor``),
    computed in overlapping chunks."""
    n = x.shape[1]
    env = np.empty(n, dtype=np.float32)
    for start in range(0, n, CHUNK):
        stop = min(n, start + CHUNK)
        lo, hi = max(0, start - PHASE_TAPS), min(n, stop + PHASE_TAPS)
        part = peak_envelope(x[0, lo:hi], floor)
        for channel in x[1:]:
            np.maximum(part, peak_envelope(channel[lo:hi], floor), out=part)
        env[start:stop] = part[start - lo : stop - lo]
    return env


def limit(x: np.ndarray, sample_rate: int, ceiling_db: float) -> np.ndarray:
    """Limit ``x`` in place at ``ceiling_db`` dBTP; returns ``x``."""
    return Limiter(x, sample_rate, ceiling_db).apply(0.0, out=x)
