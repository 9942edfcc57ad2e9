"""True peak (ITU-R BS.1770-4 Annex 2): x4 polyphase interpolation, then the largest |x|.

The interpolator is a 49-tap Kaiser-windowed sinc whose zero phase is the identity, so the
sample peak is a lower bound of the true peak, and each other phase (12 taps) can raise a
sample's neighbourhood by at most the L1 norm of its taps.  That bound lets the meter skip
every 1024-sample block whose neighbourhood cannot beat the best peak found so far: blocks
are visited loudest first, and on speech most of them are never oversampled.  The
limiter's envelope uses the same bound on 256-sample blocks (about half as many samples
oversampled on speech) and keeps only each 16-sample run's maximum.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["PHASE_TAPS", "TruePeakMeter", "block_envelope", "true_peak"]

PHASE_TAPS = 12  # taps per polyphase branch; windows of 12 input samples give 3 new points
_HALF = 5  # a window starting at sample r interpolates between r + 5 and r + 6
BLOCK = 1024  # window starts per bound (meter); a power of two
GROUP = 64  # blocks oversampled per vectorised batch
ENVELOPE_BLOCK = 256  # finer bounds for the limiter: half as many samples oversampled


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


@functools.cache
def _folded_taps() -> tuple[tuple[float, ...], tuple[float, ...], tuple[float, ...]]:
    """The phases folded about the window's middle.  The ½ phase is symmetric and the ¾
    phase mirrors the ¼ phase, so with ``s_k = x_k + x_(11-k)`` and ``d_k = x_k - x_(11-k)``
    (k < 6): ½ = Σ c_k s_k, ¼ = A + B and ¾ = A - B with A = Σ a_k s_k, B = Σ b_k d_k."""
    matrix, _ = _phase_matrix()
    quarter, half = matrix[:, 0].astype(np.float64), matrix[:, 1].astype(np.float64)
    mirror = quarter[::-1]
    a = (quarter + mirror)[: PHASE_TAPS // 2] / 2.0
    b = (quarter - mirror)[: PHASE_TAPS // 2] / 2.0
    c = (half + half[::-1])[: PHASE_TAPS // 2] / 2.0
    return tuple(map(float, a)), tuple(map(float, b)), tuple(map(float, c))


def _window_peaks(windows: np.ndarray) -> np.ndarray:
    """``(k, m + 11)`` float32 samples → ``(k, m)`` largest |interpolated value| of each
    window (¼, ½ and ¾ of a sample after its 6th sample).  Folding the symmetric taps
    (see :func:`_folded_taps`) and ``max(|A + B|, |A - B|) = |A| + |B|`` take 53 array
    operations per window instead of 77, each on cache-sized arrays (faster than a matrix
    product over strided windows)."""
    a, b, c = _folded_taps()
    k, m = windows.shape[0], windows.shape[1] - PHASE_TAPS + 1
    even, odd, half = (np.zeros((k, m), dtype=np.float32) for _ in range(3))
    pair, scratch = np.empty((k, m), dtype=np.float32), np.empty((k, m), dtype=np.float32)
    for tap in range(PHASE_TAPS // 2):
        near, far = windows[:, tap : tap + m], windows[:, PHASE_TAPS - 1 - tap :][:, :m]
        np.add(near, far, out=pair)
        even += np.multiply(pair, np.float32(a[tap]), out=scratch)
        half += np.multiply(pair, np.float32(c[tap]), out=scratch)
        np.subtract(near, far, out=pair)
        odd += np.multiply(pair, np.float32(b[tap]), out=scratch)
    np.abs(even, out=even)
    even += np.abs(odd, out=odd)
    return np.maximum(even, np.abs(half, out=half), out=even)


def _block_bounds(x: np.ndarray, size: int = BLOCK) -> np.ndarray:
    """Upper bound of |interpolated| over each ``size`` window starts in padded ``x``."""
    _, l1 = _phase_matrix()
    count = max(0, (x.size - PHASE_TAPS + 1 + size - 1) // size)
    padded = np.zeros((count + 1) * size, dtype=np.float32)
    np.abs(x[: padded.size], out=padded[: min(x.size, padded.size)])
    peaks = run_max(padded, size)
    return np.maximum(peaks[:-1], peaks[1:]) * l1  # a block's windows reach into the next


def _block_windows(x: np.ndarray, blocks: np.ndarray, size: int = BLOCK) -> np.ndarray:
    """``(k, size + 11)`` slices of ``x`` (zero-padded at the end) starting at each block."""
    need = (int(blocks.max()) + 1) * size + PHASE_TAPS
    if need > x.size:
        x = np.concatenate([x, np.zeros(need - x.size, dtype=np.float32)])
    index = blocks[:, np.newaxis] * size + np.arange(size + PHASE_TAPS - 1)
    return x[index]


def _group_values(
    x: np.ndarray, group: np.ndarray, size: int = BLOCK
) -> tuple[np.ndarray, np.ndarray]:
    """Window starts ``(k, size)`` of the blocks in ``group`` and the largest |value| each
    window interpolates (between samples ``start + 5`` and ``start + 6`` of ``x``)."""
    best = _window_peaks(_block_windows(x, group, size))
    starts = group[:, np.newaxis] * size + np.arange(size)
    return starts, best


def _group_peak(x: np.ndarray, group: np.ndarray, last: int) -> float:
    """Largest interpolated |value| over the blocks in ``group``, windows past ``last`` ignored."""
    complete = group[(group + 1) * BLOCK - 1 <= last]
    best = 0.0
    if complete.size:
        best = float(_window_peaks(_block_windows(x, complete)).max())
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
        # the best peak found by any meter measuring another part of the same signal:
        # blocks that cannot beat it are skipped (only the overall maximum is wanted)
        self.shared = [0.0]
        self.sample_peak = 0.0  # largest |sample| so far (phase 0 of the interpolator)

    def feed(self, block: np.ndarray, same: bool | None = None) -> None:
        """Add float ``(channels, n)`` samples; ``same`` says whether a stereo block holds
        identical channels (checked when ``None``), which are then measured once."""
        x = np.asarray(block, dtype=np.float32)
        if x.shape[1] == 0:
            return
        if same is None:
            same = x.shape[0] == 2 and bool(np.array_equal(x[0], x[1]))
        rows = range(1) if same else range(x.shape[0])
        for c in rows:
            self.sample_peak = max(self.sample_peak, float(x[c].max()), -float(x[c].min()))
        self._best = max(self._best, self.sample_peak, self.shared[0])
        head = min(PHASE_TAPS - 1, x.shape[1])
        for c in rows:
            # windows that start in the previous block, then those wholly inside this one
            seam = np.concatenate([self._tails[c], x[c, :head]])
            self._best = _padded_peak(seam, self._best)
            self._best = _padded_peak(x[c], self._best)
        self.shared[0] = max(self.shared[0], self._best)
        keep = PHASE_TAPS - 1
        for c in range(x.shape[0]):
            recent = x[0 if same else c, -keep:]
            self._tails[c] = np.concatenate([self._tails[c], recent])[-keep:]

    def prime(self, block: np.ndarray) -> None:
        """Take the last samples of ``block`` as the signal before the next :meth:`feed`
        without measuring anything."""
        keep = PHASE_TAPS - 1
        x = np.asarray(block, dtype=np.float32)
        for c in range(self._tails.shape[0]):
            recent = x[min(c, x.shape[0] - 1), -keep:]
            self._tails[c] = np.concatenate([self._tails[c], recent])[-keep:]

    def merge(self, later: TruePeakMeter) -> None:
        """Continue with ``later``, a meter primed with this one's last samples that
        measured what followed them: the peaks so far become the larger of both."""
        self._best = max(self._best, later._best)
        self.sample_peak = max(self.sample_peak, later.sample_peak)
        self._tails = later._tails.copy()

    def result(self) -> float:
        """Largest true peak so far (linear), including the fade-out into silence."""
        flush = np.concatenate([self._tails, np.zeros_like(self._tails)], axis=1)
        best = self._best
        for channel in flush:
            best = _padded_peak(channel, best)
        return best


def run_max(a: np.ndarray, run: int) -> np.ndarray:
    """Largest value of each ``run`` consecutive elements of 1-D ``a`` (``run`` a power of
    two dividing ``a.size``).  Short runs go by halving, several times faster than
    ``reshape(-1, run).max(axis=1)``, which wins from 256 on."""
    if run >= 256:
        return a.reshape(-1, run).max(axis=1)
    while run > 1:
        a = np.maximum(a[0::2], a[1::2])
        run //= 2
    return a


def block_envelope(x: np.ndarray, floor: float, block: int) -> np.ndarray:
    """Largest true-peak envelope value of 1-D ``x`` (silence assumed around it) in each
    run of ``block`` samples (the last run zero-padded).  The envelope at sample ``n`` is
    the largest |value| of the reconstructed signal within one sample of ``n`` (≥ |x[n]|).
    Runs of ENVELOPE_BLOCK samples whose bound stays at or below ``floor`` are not
    oversampled; there the result is just the sample peak (a limiter with ceiling ``floor``
    needs nothing more).  ``block`` must be a power of two dividing ENVELOPE_BLOCK."""
    x = np.asarray(x, dtype=np.float32)
    count = -(-x.size // block)
    mag = np.zeros(count * block, dtype=np.float32)
    np.abs(x, out=mag[: x.size])
    peaks = run_max(mag, block)
    padded = np.concatenate([np.zeros(_HALF, np.float32), x, np.zeros(PHASE_TAPS, np.float32)])
    hot = np.flatnonzero(_block_bounds(padded, ENVELOPE_BLOCK) > floor)
    batch = GROUP * BLOCK // ENVELOPE_BLOCK  # the same number of samples per batch
    for start in range(0, hot.size, batch):
        group = hot[start : start + batch]
        starts, values = _group_values(padded, group, ENVELOPE_BLOCK)
        _spread(peaks, starts, values, x.size, block)
    return peaks


def _spread(peaks: np.ndarray, starts: np.ndarray, values: np.ndarray, n: int, block: int) -> None:
    """Raise ``peaks`` (per run of ``block`` samples) by the interpolated ``values`` of the
    windows at ``starts`` (``(k, BLOCK)``, whole runs): window ``r`` lies between samples
    ``r`` and ``r + 1``, so it counts for both samples' runs; samples from ``n`` on do not
    exist."""
    if int(starts[:, -1].max()) + 1 >= n:
        values = np.where(starts < n, values, np.float32(0.0))
    index = (starts[:, ::block] // block).ravel()
    own = index < peaks.size
    best = run_max(values.ravel(), block)
    peaks[index[own]] = np.maximum(peaks[index[own]], best[own])
    # a run's last window also reaches the first sample of the next run
    spill = (index + 1) * block < n
    last = values[:, block - 1 :: block].ravel()
    peaks[index[spill] + 1] = np.maximum(peaks[index[spill] + 1], last[spill])
