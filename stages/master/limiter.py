"""Vectorised look-ahead true-peak limiter.

The channel-linked gain needed at every sample (ceiling over the x4 true-peak envelope) is
min-filtered over ``[n - hold, n + attack)`` and smoothed by two running means whose joint
length is below ``attack``.  Every smoothed value is then a mean of minima over windows
that all contain ``n``, so it never exceeds the gain needed at ``n``: peaks are caught
without overshoot, the gain falls over ``attack`` seconds before a peak and recovers over
``attack`` after ``hold``.  The filters run on 16-sample blocks (a block needs what its
loudest sample needs) and the gain is ramped linearly between blocks.

The costly part, the true-peak envelope, is computed once per :class:`Limiter` (for a
long episode on another thread, chunk by chunk, while the first chunks are used); trying
another make-up gain (the chain re-measures loudness after limiting and corrects) only
re-runs the cheap filters.  Work goes in chunks, and chunks with nothing above the
ceiling are skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np

from .dsp import db_to_gain
from .peak import block_envelope

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
        floor = db_to_gain(ceiling_db - max_gain_db)
        self._error: BaseException | None = None
        if isinstance(x, np.ndarray) and x.shape[1] > CHUNK:
            # the envelope is computed on another core while the first chunks are used
            self._peaks = np.empty(-(-x.shape[1] // BLOCK), np.float32)
            self._done = 0  # samples whose envelope is known
            self._ready = threading.Condition()
            threading.Thread(target=self._fill, args=(floor,), daemon=True).start()
        else:
            self._peaks, self._done = _envelope(x, floor), x.shape[1]

    def _fill(self, floor: float) -> None:
        """Compute the envelope chunk by chunk on every core, telling waiters how far
        it is known (the chunks done from the start on)."""
        from .mp3split import on_every_core

        finished: dict[int, int] = {}

        def chunk(start: int) -> None:
            stop, own = _envelope_chunk(self.x, floor, start)
            self._peaks[start // BLOCK : -(-stop // BLOCK)] = own
            with self._ready:
                finished[start] = stop
                while self._done in finished:
                    self._done = finished.pop(self._done)
                self._ready.notify_all()

        try:
            errors = on_every_core(chunk, range(0, self.x.shape[1], CHUNK))
        except BaseException as exc:  # noqa: BLE001 - raised where the envelope is waited for
            errors = [exc]
        if errors:
            with self._ready:
                self._error, self._done = errors[0], self.x.shape[1]
                self._ready.notify_all()

    def _known(self, stop: int) -> None:
        """Wait until the envelope of samples ``[0, stop)`` is known."""
        if self._done < stop:
            with self._ready:
                self._ready.wait_for(lambda: self._done >= stop)
        if self._error is not None:
            raise self._error

    def covers(self, gain_db: float, ceiling_db: float) -> bool:
        """Whether :meth:`apply` is exact for this gain and ceiling."""
        return ceiling_db == self.ceiling_db and gain_db <= self.max_gain_db + 1e-9

    def apply(self, gain_db: float, out: np.ndarray | None = None) -> np.ndarray:
        """``x`` times ``gain_db``, limited; written to ``out`` (may be ``x`` itself) or to
        a new array, which is returned."""
        y = np.empty_like(self.x, dtype=np.float32) if out is None else out
        for start, stop, factor in self._factors(gain_db):
            np.multiply(self.x[:, start:stop], factor, out=y[:, start:stop])
        return y

    def chunks(self, gain_db: float) -> Iterator[np.ndarray]:
        """:meth:`apply` as consecutive float32 ``(channels, CHUNK)`` arrays, so that the
        limited episode is never held whole (a fresh episode-sized array costs more in
        page faults than the arithmetic)."""
        for start, stop, factor in self._factors(gain_db):
            yield np.multiply(self.x[:, start:stop], factor, dtype=np.float32)

    def _factors(self, gain_db: float) -> Iterator[tuple[int, int, np.ndarray | np.float32]]:
        """``(start, stop, factor)`` per chunk: the make-up gain, times the limiting gain
        curve where the chunk has anything to limit."""
        gain, ceiling = np.float32(db_to_gain(gain_db)), db_to_gain(self.ceiling_db)
        blocks = -(-(self._ahead + self._back) // BLOCK) + 4
        margin, n = blocks * BLOCK, self.x.shape[1]
        for start in range(0, n, CHUNK):  # CHUNK and margin are whole blocks: one grid
            stop = min(n, start + CHUNK)
            lo, hi = max(0, start - margin), min(n, stop + margin)
            self._known(hi)
            peaks = self._peaks[lo // BLOCK : -(-hi // BLOCK)] * gain
            if float(peaks.max(initial=0.0)) > ceiling:
                yield start, stop, self._smoothed(peaks, ceiling)[start - lo : stop - lo] * gain
            else:
                yield start, stop, gain

    def _smoothed(self, peaks: np.ndarray, ceiling: float) -> np.ndarray:
        """Per-sample gain from per-block envelope peaks.

        Work happens on blocks of BLOCK samples: a block's gain may not exceed what it or
        its left neighbour needs, so the linear ramp between two block gains (a convex
        combination) never exceeds what any sample on it needs.
        """
        need = np.minimum(1.0, ceiling / np.maximum(peaks, 1e-12)).astype(np.float32)
        need[1:] = np.minimum(need[1:], need[:-1])
        ahead, back = -(-self._ahead // BLOCK), -(-self._back // BLOCK)
        size, box = ahead + back, max(1, ahead // 2)
        # the min window of block j is [j - before, j + size - 1 - before] (kept from the
        # scipy.ndimage version this replaces, whose origin placed it so)
        before = size // 2 + size // 2 - ahead + 1
        held = running_min(need, before, size - 1 - before)
        smooth = np.minimum(trailing_mean(trailing_mean(held, box), box), need)
        following = np.append(smooth[1:], smooth[-1])
        ramp = np.arange(BLOCK, dtype=np.float32) / BLOCK
        return (smooth[:, np.newaxis] + (following - smooth)[:, np.newaxis] * ramp).ravel()


def running_min(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """Minimum of 1-D ``a`` over ``[i - before, i + after]`` for every ``i`` (the window
    clipped at the edges), in O(n) with block prefix and suffix minima (van Herk)."""
    size = before + after + 1
    count = -(-(a.size + size - 1) // size)
    padded = np.empty(count * size, dtype=a.dtype)
    padded[:before] = a[0]
    padded[before : before + a.size] = a
    padded[before + a.size :] = a[-1]
    blocks = padded.reshape(count, size)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[: a.size], prefix[size - 1 : size - 1 + a.size])


def trailing_mean(a: np.ndarray, size: int) -> np.ndarray:
    """Float32 mean of 1-D ``a`` over ``[i - size + 1, i]``, the first value repeated
    before the start (summed in float64)."""
    if size <= 1:
        return a.astype(np.float32, copy=True)
    sums = np.empty(a.size + size, dtype=np.float64)
    sums[0] = 0.0
    sums[1:size] = float(a[0]) * np.arange(1, size)
    np.cumsum(a, dtype=np.float64, out=sums[size:])
    sums[size:] += sums[size - 1]
    return ((sums[size:] - sums[: a.size]) / size).astype(np.float32)


def _envelope(x: np.ndarray, floor: float) -> np.ndarray:
    """Channel-linked true-peak maximum of ``x`` in each BLOCK of samples (exact wherever
    it may exceed ``floor``).  For ``x`` kept in a file (:class:`~.spill.Spill`) the
    envelope goes to a file beside it too."""
    from .spill import Spill

    spilled = isinstance(x, Spill)
    peaks = Spill(x.folder, None) if spilled else np.empty(-(-x.shape[1] // BLOCK), np.float32)
    for start in range(0, x.shape[1], CHUNK):
        stop, own = _envelope_chunk(x, floor, start)
        if spilled:
            peaks.append(own)
        else:
            peaks[start // BLOCK : -(-stop // BLOCK)] = own
    return peaks


def _envelope_chunk(x: np.ndarray, floor: float, start: int) -> tuple[int, np.ndarray]:
    """The end of the chunk of samples at ``start`` and its blocks' envelope, computed
    from the chunk and one block on either side."""
    n = x.shape[1]
    stop = min(n, start + CHUNK)
    lo, hi = max(0, start - BLOCK), min(n, stop + BLOCK)
    window = x[:, lo:hi]
    part = block_envelope(window[0], floor, BLOCK)
    for channel in window[1:]:
        np.maximum(part, block_envelope(channel, floor, BLOCK), out=part)
    first = (start - lo) // BLOCK
    return stop, part[first : first + -(-stop // BLOCK) - start // BLOCK]


def limit(x: np.ndarray, sample_rate: int, ceiling_db: float) -> np.ndarray:
    """Limit ``x`` in place at ``ceiling_db`` dBTP; returns ``x``."""
    return Limiter(x, sample_rate, ceiling_db).apply(0.0, out=x)
