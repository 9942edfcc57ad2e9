"""ITU-R BS.1770-4 / EBU R128 loudness meter: integrated loudness (both gates), momentary
and short-term maxima, loudness range (EBU Tech 3342) and true peak (x4 oversampling).

The meter is streaming: :class:`LoudnessMeter` takes ``(channels, n)`` float32 blocks of any
size, keeps only 100 ms energy sums between calls, so a 30-minute episode needs a few
megabytes of state.  K-weighting uses De Man's closed-form biquads, valid at any sample rate
(they equal the standard's 48 kHz coefficients there).  Channel weights follow BS.1770:
1.0 for L, R, C and 1.41 for the surround channels of a 5-channel layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .iir import sosfilt_inplace
from .peak import TruePeakMeter

__all__ = [
    "Loudness",
    "LoudnessMeter",
    "gated_loudness",
    "k_weighting_sos",
    "measure",
    "region_loudness",
]

ABSOLUTE_GATE = -70.0
RELATIVE_GATE_I = -10.0
RELATIVE_GATE_LRA = -20.0
OFFSET = -0.691
SURROUND_WEIGHTS = (1.0, 1.0, 1.0, 1.41, 1.41)
DENORMAL_GUARD = np.float32(1e-20)  # DC added before K-weighting; see LoudnessMeter._k_weighted


@dataclass(frozen=True, slots=True)
class Loudness:
    """One measurement.  Loudness in LUFS (``-inf`` when no block passes the gates), peaks in
    dBTP/dBFS, ``lra`` in LU, ``duration`` in seconds."""

    integrated: float
    true_peak: float
    sample_peak: float
    lra: float
    max_momentary: float
    max_short_term: float
    duration: float

    def as_dict(self, digits: int = 2) -> dict[str, float | None]:
        """Rounded values for reports; ``-inf`` becomes ``None`` (JSON has no infinity)."""
        return {k: (round(v, digits) if math.isfinite(v) else None) for k, v in self._items()}

    def _items(self) -> list[tuple[str, float]]:
        names = (
            "integrated",
            "true_peak",
            "sample_peak",
            "lra",
            "max_momentary",
            "max_short_term",
            "duration",
        )
        return [(n, float(getattr(self, n))) for n in names]


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The two K-weighting biquads (high shelf, then RLB high-pass) as a ``(2, 6)`` SOS array
    for ``sample_rate`` Hz, from De Man's closed-form parameters."""
    k = math.tan(math.pi * 1681.974450955533 / sample_rate)
    q = 0.7071752369554196
    vh = 10.0 ** (3.999843853973347 / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / q + k * k) / a0,
    ]
    k = math.tan(math.pi * 38.13547087602444 / sample_rate)
    q = 0.5003270373238773
    a0 = 1.0 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]
    return np.array([shelf, highpass], dtype=np.float64)


def _to_lufs(power: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return OFFSET + 10.0 * np.log10(power)


class LoudnessMeter:
    """Streaming BS.1770-4 meter for ``channels`` channels at ``sample_rate`` Hz.

    Feed float ``(channels, n)`` (or ``(n,)`` for mono) blocks with :meth:`feed`, then call
    :meth:`result`.  ``true_peak=False`` skips the x4 oversampling (the costly part).
    """

    def __init__(self, sample_rate: int, channels: int = 1, true_peak: bool = True) -> None:
        if channels < 1 or channels > len(SURROUND_WEIGHTS):
            raise ValueError(
                f"the meter supports 1 to {len(SURROUND_WEIGHTS)} channels, got {channels}"
            )
        self.sample_rate = sample_rate
        self.channels = channels
        self.hop = round(sample_rate / 10)  # 100 ms: blocks are 4 hops, short-term windows 30
        self._sos = k_weighting_sos(sample_rate).astype(np.float32)
        self._zi = np.zeros((channels, self._sos.shape[0], 2), dtype=np.float32)
        self._weights = np.array(SURROUND_WEIGHTS[:channels], dtype=np.float64)
        self._partial = 0.0  # energy of the incomplete hop so far
        self._partial_n = 0  # samples in it
        self._hops: list[np.ndarray] = []
        self._samples = 0
        self._peak = TruePeakMeter(sample_rate, channels) if true_peak else None
        self._sample_peak = 0.0

    def prime(self, block: np.ndarray) -> None:
        """Run ``block`` through the filters without measuring it: a meter that starts
        in the middle of a signal then continues as one that had measured from the start
        would (the K-weighting and true-peak interpolation state come from the signal)."""
        x = np.asarray(block, dtype=np.float32)
        x = x[np.newaxis] if x.ndim == 1 else x
        if x.shape[1] == 0:
            return
        same = same_channels(x)
        self._k_weighted(x, same)
        if self._peak is not None:
            self._peak.prime(x)

    def share_peaks(self, other: LoudnessMeter) -> None:
        """Let this meter and ``other``, measuring two parts of one signal, skip what
        cannot beat the largest true peak either has found (only the maximum is kept)."""
        if self._peak is not None and other._peak is not None:
            other._peak.shared = self._peak.shared

    def merge(self, later: LoudnessMeter) -> None:
        """Take in what ``later`` measured on the samples that follow this meter's (this
        meter must have stopped on a 100 ms boundary, ``later`` primed up to it)."""
        if self._partial_n:
            raise ValueError("the earlier meter must stop on a 100 ms boundary")
        self._hops += later._hops  # energy sums per hop, in order
        self._partial, self._partial_n = later._partial, later._partial_n
        self._samples += later._samples
        self._sample_peak = max(self._sample_peak, later._sample_peak)
        if self._peak is not None and later._peak is not None:
            self._peak.merge(later._peak)

    def summary(self) -> tuple[np.ndarray, int, float, float]:
        """What :meth:`merge` takes from this meter, stopped on a 100 ms boundary: the
        hop energy sums, the samples measured, the sample peak and the true peak (rebuilt
        by :meth:`from_summary`; the filter states are not kept)."""
        if self._partial_n:
            raise ValueError("a meter is summarised on a 100 ms boundary")
        sums = np.concatenate(self._hops) if self._hops else np.zeros(0)
        best = self._peak._best if self._peak is not None else 0.0
        return sums, self._samples, self._sample_peak, best

    @classmethod
    def from_summary(
        cls, sample_rate: int, channels: int, summary: tuple[np.ndarray, int, float, float]
    ) -> LoudnessMeter:
        """A meter that measured what :meth:`summary` describes (to :meth:`merge` with)."""
        sums, samples, sample_peak, best = summary
        meter = cls(sample_rate, channels)
        meter._hops = [np.array(sums, dtype=np.float64)]
        meter._samples, meter._sample_peak = int(samples), float(sample_peak)
        if meter._peak is not None:
            meter._peak._best, meter._peak.sample_peak = float(best), float(sample_peak)
        return meter

    def feed(self, block: np.ndarray) -> None:
        """Add ``block``: float ``(channels, n)`` or ``(n,)`` samples in [-1, 1] full scale."""
        x = np.asarray(block, dtype=np.float32)
        x = x[np.newaxis] if x.ndim == 1 else x
        if x.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {x.shape[0]}")
        if x.shape[1] == 0:
            return
        self._samples += x.shape[1]
        same = same_channels(x)  # a mono master delivered as L = R: every pass on one channel
        if self._peak is not None:
            self._peak.feed(x, same)
            self._sample_peak = self._peak.sample_peak
        else:
            rows = x[:1] if same else x
            self._sample_peak = max(self._sample_peak, float(rows.max()), -float(rows.min()))
        self._add_energy(self._k_weighted(x, same), same)

    def _k_weighted(self, x: np.ndarray, same: bool) -> np.ndarray:
        """K-filtered copy of ``x`` (only its first channel when both are ``same``; that
        channel's filter state then carries on for both).

        The input gets a DC offset of 1e-20 (-400 dBFS), which the filter's high-pass
        removes: without it the filter state decays into subnormal floats in every pause,
        and subnormal arithmetic made the filter 2-3x slower on speech."""
        rows = x[:1] if same else x
        filtered = np.empty(rows.shape, dtype=np.float32)  # C order: the kernel needs it
        np.add(rows, DENORMAL_GUARD, out=filtered)
        state = self._zi[:1] if same else self._zi
        sosfilt_inplace(self._sos, filtered, state)
        if same:
            self._zi[1:] = self._zi[:1]
        return filtered

    def _energy(self, filtered: np.ndarray, same: bool) -> np.ndarray:
        """Channel-weighted energy of each row of ``filtered`` ``(c, k, m)``, float64 ``(k,)``;
        float32 products are summed per hop in SIMD lanes (relative error about 1e-6)."""
        per_channel = np.einsum("ckm,ckm->ck", filtered, filtered).astype(np.float64)
        if same:
            return 2.0 * per_channel[0]
        return self._weights @ per_channel

    def _add_energy(self, filtered: np.ndarray, same: bool) -> None:
        """Add K-filtered ``(c, n)`` samples to the 100 ms hop energies."""
        n, head = filtered.shape[1], min(self.hop - self._partial_n, filtered.shape[1])
        self._partial += float(self._energy(filtered[:, np.newaxis, :head], same)[0])
        self._partial_n += head
        if self._partial_n < self.hop:
            return
        self._hops.append(np.array([self._partial]))
        whole = head + (n - head) // self.hop * self.hop
        if whole > head:
            rows = filtered[:, head:whole].reshape(filtered.shape[0], -1, self.hop)
            self._hops.append(self._energy(rows, same))
        self._partial = float(self._energy(filtered[:, np.newaxis, whole:], same)[0])
        self._partial_n = n - whole

    def hop_energies(self) -> np.ndarray:
        """Mean-square K-weighted power of each complete 100 ms hop so far (channel-weighted)."""
        if not self._hops:
            return np.zeros(0)
        if len(self._hops) > 1:
            self._hops = [np.concatenate(self._hops)]
        return self._hops[0] / self.hop

    def result(self) -> Loudness:
        """Everything measured so far."""
        hops = self.hop_energies()
        momentary = _windowed(hops, 4)
        short = _windowed(hops, 30)
        tp = self._peak.result() if self._peak is not None else self._sample_peak
        return Loudness(
            integrated=gated_loudness(momentary),
            true_peak=_db(tp),
            sample_peak=_db(self._sample_peak),
            lra=loudness_range(short),
            max_momentary=float(_to_lufs(momentary.max())) if momentary.size else -math.inf,
            max_short_term=float(_to_lufs(short.max())) if short.size else -math.inf,
            duration=self._samples / self.sample_rate,
        )


def same_channels(x: np.ndarray) -> bool:
    """Whether ``(2, n)`` ``x`` holds the same samples in both channels."""
    return x.shape[0] == 2 and bool(np.array_equal(x[0], x[1]))


def _db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def _windowed(hops: np.ndarray, width: int) -> np.ndarray:
    """Mean power of every run of ``width`` consecutive hops (step one hop)."""
    if hops.size < width:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(hops)])
    return (csum[width:] - csum[:-width]) / width


def gated_loudness(block_power: np.ndarray) -> float:
    """Integrated loudness (LUFS) of 400 ms block powers with the absolute (-70 LUFS) and
    relative (-10 LU) gates; ``-inf`` when no block passes."""
    gated = block_power[_to_lufs(block_power) >= ABSOLUTE_GATE]
    if not gated.size:
        return -math.inf
    threshold = float(_to_lufs(gated.mean())) + RELATIVE_GATE_I
    gated = gated[_to_lufs(gated) > threshold]
    return float(_to_lufs(gated.mean())) if gated.size else -math.inf


def loudness_range(short_power: np.ndarray) -> float:
    """EBU Tech 3342 LRA (LU) from 3 s short-term powers on a 10 Hz grid: gates -70 LUFS and
    -20 LU, then the 95th minus the 10th percentile; 0 when nothing passes."""
    levels = _to_lufs(short_power)
    kept = short_power[levels >= ABSOLUTE_GATE]
    if not kept.size:
        return 0.0
    threshold = float(_to_lufs(kept.mean())) + RELATIVE_GATE_LRA
    levels = _to_lufs(kept)
    levels = levels[levels >= threshold]
    if not levels.size:
        return 0.0
    low, high = np.percentile(levels, [10.0, 95.0])
    return float(high - low)


def measure(
    audio: np.ndarray, sample_rate: int, true_peak: bool = True, block: int = 1 << 20
) -> Loudness:
    """Measure ``(channels, n)`` or ``(n,)`` float audio at ``sample_rate`` Hz in one call.

    :raises ValueError: audio shorter than one 400 ms gating block.
    """
    x = np.asarray(audio)
    x = x[np.newaxis] if x.ndim == 1 else x
    if x.shape[1] < round(0.4 * sample_rate):
        raise ValueError(
            f"audio of {x.shape[1] / sample_rate:.3f} s is shorter than one 400 ms block"
        )
    meter = LoudnessMeter(sample_rate, x.shape[0], true_peak=true_peak)
    for start in range(0, x.shape[1], block):
        meter.feed(x[:, start : start + block])
    return meter.result()


def region_loudness(
    hops: np.ndarray, hop_seconds: float, regions: list[tuple[float, float]]
) -> float:
    """Gated integrated loudness (LUFS) of the 400 ms blocks lying wholly inside
    ``regions`` (``(start, end)`` seconds), from a meter's :meth:`LoudnessMeter.hop_energies`."""
    inside = np.zeros(hops.size, dtype=np.float64)
    for start, end in regions:
        inside[
            math.ceil(start / hop_seconds - 1e-9) : max(0, math.floor(end / hop_seconds + 1e-9))
        ] = 1.0
    whole = _windowed(inside, 4) > 0.999
    return gated_loudness(_windowed(hops, 4)[whole]) if whole.any() else -math.inf
