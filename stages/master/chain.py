"""The loudness chain and the encode-decode-verify loop.

``pre`` is the leveled mix (float32 ``(c, n)`` at its own rate).  Each attempt applies the
integrated-loudness gain, limits true peaks at ``ceiling``, re-measures and corrects what the
limiter cost, then resamples to the delivery rate while encoding (soxr, block by block) and
measures the *decoded* deliverable.  The limited master is rendered chunk by chunk, once for
the re-measure and once into the encoder, and never held whole.  A miss adjusts gain or ceiling and encodes again, at
most twice.  Loudness is computed on the channels the listener gets: a mono master
delivered as identical L/R is 3.01 LU louder than the same master measured as mono.  A
mono master carried in joint-stereo MP3 frames (see :mod:`.mp3stereo`) is measured by
decoding the mono stream the file carries, as two identical channels: the file decodes to
those samples on both channels (tested against decoding the file itself), for half the
decoding work; the full decoded length, loudness, true peak and LRA are still measured.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .codecs import CODEC_LOSS_DB, Encoding, encode_parts, measure_file
from .limiter import Limiter
from .meter import Loudness, LoudnessMeter
from .reuse import quantized

__all__ = ["Attempt", "Delivery", "Targets", "deliver", "layout_offset", "loudness"]

RETRIES = 2
CEILING_STEP = 0.5  # dB lower ceiling for each true-peak miss
HEADROOM_DB = 3.0  # make-up gain the limiter's envelope allows beyond the first guess


@dataclass(frozen=True, slots=True)
class Targets:
    """Delivery targets: integrated loudness (LUFS), true-peak maximum (dBTP), the limiter's
    margin below it (dB), and the loudness tolerance (LU) that triggers a re-encode."""

    lufs: float
    true_peak: float = -1.0
    margin: float = 0.5
    tolerance: float = 0.5


@dataclass(frozen=True, slots=True)
class Attempt:
    """One encode: gain (after the post-limiter correction) and ceiling used, and the
    decoded file's measurement."""

    gain_db: float
    ceiling_db: float
    decoded: Loudness
    seconds: tuple[float, float, float] = (0.0, 0.0, 0.0)  # master, encode, decode + measure
    reused: float = 0.0  # seconds of MP3 frames kept from the previous master

    def passes(self, targets: Targets) -> bool:
        """Decoded loudness within tolerance and true peak at or below the maximum."""
        return (
            abs(self.decoded.integrated - targets.lufs) <= targets.tolerance
            and self.decoded.true_peak <= targets.true_peak + 1e-6
        )


def layout_offset(master_channels: int, out_channels: int) -> float:
    """LU to add to a measurement of the master to get the deliverable's loudness: +3.01
    when one channel is duplicated to two, 0 otherwise (downmixes are measured as mono)."""
    return 10.0 * math.log10(2.0) if master_channels == 1 and out_channels == 2 else 0.0


def loudness(x: np.ndarray, rate: int, block: int = 1 << 20) -> float:
    """Integrated loudness of ``(c, n)`` audio, read slice by slice (an array or a
    :class:`~.spill.Spill`)."""
    meter = LoudnessMeter(rate, x.shape[0], true_peak=False)
    for start in range(0, x.shape[1], block):
        meter.feed(x[:, start : start + block])
    return meter.result().integrated


def _hops(parts: Iterable[np.ndarray], rate: int, channels: int) -> tuple[np.ndarray, float]:
    """100 ms K-weighted energies of consecutive ``(channels, k)`` ``parts`` and their
    integrated loudness (one filter pass)."""
    meter = LoudnessMeter(rate, channels, true_peak=False)
    for part in parts:
        meter.feed(part)
    return meter.hop_energies(), meter.result().integrated


def _render(
    pre: np.ndarray, rate: int, gain: float, ceiling: float, target: float
) -> tuple[Limiter, float, np.ndarray]:
    """Gain and limit, then re-measure once and correct what the limiter cost (0.2-0.6 LU)
    with a corrected gain, on the :data:`~.reuse.GRID_DB` grid (so that a small change of
    the episode usually leaves every sample elsewhere as it was, see :mod:`.reuse`).
    Returns the limiter and gain that render the master (chunk by chunk, see
    :meth:`Limiter.chunks`) and the master's hop energies."""
    limiter = Limiter(pre, rate, ceiling, gain + HEADROOM_DB)
    hops, level = _hops(limiter.chunks(gain), rate, pre.shape[0])
    miss = target - level
    final = quantized(gain + miss) if math.isfinite(miss) else quantized(gain)
    if not limiter.covers(final, ceiling):
        limiter = Limiter(pre, rate, ceiling, final + HEADROOM_DB)
    hops = hops * 10.0 ** ((final - gain) / 10.0)
    return limiter, final, hops


@dataclass(frozen=True, slots=True)
class Delivery:
    """The final PCM master's shape (channels and samples at the master rate; the master
    itself is rendered chunk by chunk into the encoder, never held whole), its 100 ms
    K-weighted hop energies (for per-speaker figures) and every encode attempt; the last
    attempt is the file on disk."""

    channels: int
    samples: int
    hops: np.ndarray
    attempts: tuple[Attempt, ...]


def deliver(
    pre: np.ndarray,
    rate: int,
    enc: Encoding,
    targets: Targets,
    path: Path,
    finish: Callable[[Path], None] | None = None,
    estimate: float | None = None,
    reuse: Path | None = None,
) -> Delivery:
    """Master ``pre`` and write it to ``path`` (which should be a temporary name).

    ``finish`` runs after each encode (tagging) before the file is measured.  ``estimate``
    is the caller's idea of ``pre``'s loudness (saves a measuring pass; the post-limiter
    re-measure corrects it).  A miss on the decoded file moves the PCM target by the miss
    (and lowers the ceiling after a true-peak miss) and encodes again, at most twice.
    ``reuse``: a folder where MP3 frames of the previous master are kept and reused where
    the PCM is the same (see :mod:`.reuse`; the file decodes to the same samples).
    """
    offset = layout_offset(pre.shape[0], enc.channels)
    target = targets.lufs - offset + CODEC_LOSS_DB.get(enc.format, 0.0)  # as the PCM master reads
    start = estimate if estimate is not None else loudness(pre, rate)
    ceiling = targets.true_peak - targets.margin
    attempts: list[Attempt] = []
    while True:
        hops, attempt = _attempt(pre, rate, enc, path, finish, start, target, ceiling, reuse)
        attempts.append(attempt)
        silent = not math.isfinite(start)
        if attempt.passes(targets) or len(attempts) > RETRIES or silent:
            return Delivery(pre.shape[0], pre.shape[1], hops, tuple(attempts))
        target, ceiling = _adjust(attempt, targets, target, ceiling)


def _attempt(
    pre: np.ndarray,
    rate: int,
    enc: Encoding,
    path: Path,
    finish: Callable[[Path], None] | None,
    start: float,
    target: float,
    ceiling: float,
    reuse: Path | None = None,
) -> tuple[np.ndarray, Attempt]:
    """Render to the PCM ``target``, encode, tag, decode and measure; timed (the final
    render streams into the encoder, so its few tenths of a second count as encoding)."""
    clock = [time.perf_counter()]
    finite = math.isfinite(start)
    gain = target - start if finite else 0.0
    limiter, final, hops = _render(pre, rate, gain, ceiling, target if finite else -math.inf)
    clock.append(time.perf_counter())
    frames = encode_parts(
        limiter.chunks(final), pre.shape[0], rate, path, enc, pre.shape[1], reuse
    )
    try:
        if finish is not None:
            finish(path)
        clock.append(time.perf_counter())
        decoded = measure_file(path, frames)
    finally:
        if frames is not None:
            frames.close()
    clock.append(time.perf_counter())
    seconds = (clock[1] - clock[0], clock[2] - clock[1], clock[3] - clock[2])
    reused = frames.reused if frames is not None else 0.0
    return hops, Attempt(final, ceiling, decoded, seconds, reused)


def _adjust(
    attempt: Attempt, targets: Targets, target: float, ceiling: float
) -> tuple[float, float]:
    """New PCM target and ceiling after a miss on the decoded file."""
    decoded = attempt.decoded
    if decoded.true_peak > targets.true_peak:
        ceiling -= max(CEILING_STEP, decoded.true_peak - targets.true_peak)
    if math.isfinite(decoded.integrated):
        target += targets.lufs - decoded.integrated
    return target, ceiling


def attempt_report(attempts: list[Attempt]) -> list[dict[str, Any]]:
    """JSON-ready summary of every encode attempt."""
    return [
        {
            "gain_db": round(a.gain_db, 2),
            "ceiling_dbtp": round(a.ceiling_db, 2),
            **a.decoded.as_dict(),
            "seconds": dict(
                zip(("master", "encode", "verify"), (round(t, 3) for t in a.seconds), strict=True)
            ),
        }
        for a in attempts
    ]
