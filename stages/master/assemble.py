"""Join synthesized clips into one timeline: trim each clip to its speech, high-pass, fade
its edges, insert natural gaps between turns, and level the speakers against each other.

The timeline is float32 ``(1, n)`` (TTS is mono; stereo clips are averaged) at the
rendering's sample rate.  :class:`Placed` records where each turn landed, in seconds.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from .dsp import apply_fades, db_to_gain, highpass, speech_bounds
from .meter import LoudnessMeter
from .reuse import quantized

__all__ = [
    "GapPolicy",
    "Placed",
    "Timeline",
    "assemble",
    "gap_before",
    "is_backchannel",
    "level_speakers",
]

_WORD = re.compile(r"[A-Za-z0-9'\u2019]+|[\u3400-\u9fff\uf900-\ufaff]")
RAMP = 0.005  # seconds of gain ramp where two speakers' turns touch inside one clip


@dataclass(frozen=True, slots=True)
class Placed:
    """Turn ``turn`` by ``speaker`` occupies ``[start, end)`` seconds of the timeline."""

    turn: int
    speaker: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class GapPolicy:
    """Silence between turns, in seconds: ``gap`` ± uniform ``jitter`` (seeded), and
    ``backchannel_gap`` ± half the jitter before short replies such as "Yeah." or "嗯。"."""

    gap: float = 0.4
    jitter: float = 0.08
    backchannel_gap: float = 0.2
    lead_in: float = 0.3
    tail: float = 1.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Timeline:
    """The joined episode: float32 ``(1, n)`` audio at ``sample_rate`` and its turns."""

    audio: np.ndarray
    sample_rate: int
    placed: tuple[Placed, ...]


@dataclass(frozen=True, slots=True)
class ClipIn:
    """One clip to place: its file, its turns (index, speaker, text) and their spans."""

    path: Path
    turns: tuple[tuple[int, str, str], ...]
    spans: tuple[tuple[float, float], ...]


def is_backchannel(text: str) -> bool:
    """Whether ``text`` is a short reply (at most two words or two CJK characters)."""
    return 0 < len(_WORD.findall(text)) <= 2


def gap_before(text: str, policy: GapPolicy, rng: random.Random) -> float:
    """Seconds of silence to insert before a turn whose text is ``text``."""
    if is_backchannel(text):
        return max(0.05, policy.backchannel_gap + rng.uniform(-0.5, 0.5) * policy.jitter)
    return max(0.05, policy.gap + rng.uniform(-1.0, 1.0) * policy.jitter)


def _load(path: Path, sample_rate: int) -> np.ndarray:
    """A clip as float32 ``(1, n)`` at ``sample_rate``."""
    from podcast.audio import read_audio, resample, to_mono

    audio, rate = read_audio(path)
    mono = to_mono(audio)[np.newaxis]
    return resample(mono, rate, sample_rate) if rate != sample_rate else mono


def _frames(path: Path, sample_rate: int) -> int:
    import soundfile as sf

    info = sf.info(str(path))
    return math.ceil(info.frames * sample_rate / info.samplerate) + 16


def _prepare(
    clip: ClipIn, sample_rate: int, highpass_hz: float, fade: float, trim_db: float
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Trim, high-pass and fade one clip; return it and its turn spans shifted to match."""
    audio = _load(clip.path, sample_rate)
    start, stop = speech_bounds(audio, sample_rate, trim_db) if trim_db > 0 else (0, audio.shape[1])
    audio = highpass(np.ascontiguousarray(audio[:, start:stop]), sample_rate, highpass_hz)
    apply_fades(audio, sample_rate, fade)
    length, offset = audio.shape[1] / sample_rate, start / sample_rate
    if len(clip.turns) == 1:
        return audio, [(0.0, length)]  # the whole trimmed clip is the turn
    return audio, [
        (min(max(a - offset, 0.0), length), min(max(b - offset, 0.0), length))
        for a, b in clip.spans
    ]


def assemble(
    clips: Sequence[ClipIn],
    sample_rate: int,
    policy: GapPolicy,
    highpass_hz: float = 70.0,
    fade: float = 0.008,
    trim_db: float = 55.0,
) -> Timeline:
    """Place ``clips`` one after another with gaps; see the module docstring."""
    rng = random.Random(policy.seed)
    gaps = [policy.lead_in] + [gap_before(c.turns[0][2], policy, rng) for c in clips[1:]]
    capacity = (
        sum(_frames(c.path, sample_rate) for c in clips)
        + round((sum(gaps) + policy.tail) * sample_rate)
        + 1
    )
    out = np.zeros((1, capacity), dtype=np.float32)
    cursor, placed = 0, []
    for clip, gap in zip(clips, gaps, strict=True):
        cursor += round(gap * sample_rate)
        audio, spans = _prepare(clip, sample_rate, highpass_hz, fade, trim_db)
        out[:, cursor : cursor + audio.shape[1]] = audio
        base = cursor / sample_rate
        placed += [
            Placed(i, who, base + a, base + b)
            for (i, who, _), (a, b) in zip(clip.turns, spans, strict=True)
        ]
        cursor += audio.shape[1]
    end = cursor + round(policy.tail * sample_rate)
    return Timeline(out[:, :end], sample_rate, tuple(placed))


def speaker_loudness(
    audio: np.ndarray, sample_rate: int, placed: Sequence[Placed]
) -> dict[str, float]:
    """Gated integrated loudness (LUFS) of each speaker over all their turns together
    (the speakers measured at the same time, a core each)."""
    from concurrent.futures import ThreadPoolExecutor

    from .mp3split import parallel_workers

    turns: dict[str, list[Placed]] = {}
    for turn in placed:
        turns.setdefault(turn.speaker, []).append(turn)

    def measure(own: list[Placed]) -> float:
        meter = LoudnessMeter(sample_rate, audio.shape[0], true_peak=False)
        for turn in own:
            meter.feed(audio[:, round(turn.start * sample_rate) : round(turn.end * sample_rate)])
        return meter.result().integrated

    with ThreadPoolExecutor(max(1, min(len(turns), parallel_workers()))) as pool:
        return dict(zip(turns, pool.map(measure, turns.values()), strict=True))


def level_speakers(
    audio: np.ndarray, sample_rate: int, placed: Sequence[Placed], max_gain_db: float = 15.0
) -> dict[str, dict[str, float]]:
    """Bring every speaker to the mean loudness of all speakers with one static gain each
    (clamped to ±``max_gain_db``, on the :data:`~.reuse.GRID_DB` grid), in place.  Returns ``{speaker: {"loudness", "gain_db"}}``
    (loudness before leveling)."""
    levels = speaker_loudness(audio, sample_rate, placed)
    finite = [v for v in levels.values() if math.isfinite(v)]
    if len(finite) < 2:
        return {who: {"loudness": v, "gain_db": 0.0} for who, v in levels.items()}
    reference = sum(finite) / len(finite)
    gains = {  # on the grid of every gain the chain decides (see .reuse)
        who: (
            quantized(max(-max_gain_db, min(max_gain_db, reference - v)))
            if math.isfinite(v)
            else 0.0
        )
        for who, v in levels.items()
    }
    _apply_turn_gains(audio, sample_rate, placed, gains)
    return {who: {"loudness": levels[who], "gain_db": gains[who]} for who in levels}


def _apply_turn_gains(
    audio: np.ndarray, sample_rate: int, placed: Sequence[Placed], gains: dict[str, float]
) -> None:
    """Piecewise gain: constant over each turn, linear ramps across the gaps between turns
    (short ramps where turns touch), the first and last gains held to the edges."""
    points: list[tuple[int, float]] = []
    for turn in sorted(placed, key=lambda p: p.start):
        g = db_to_gain(gains[turn.speaker])
        ramp = min(RAMP, (turn.end - turn.start) / 4)
        points += [
            (round((turn.start + ramp) * sample_rate), g),
            (round((turn.end - ramp) * sample_rate), g),
        ]
    points = [(0, points[0][1]), *points, (audio.shape[1], points[-1][1])]
    for (a, ga), (b, gb) in pairwise(points):
        if b <= a:
            continue
        if ga == gb:
            audio[:, a:b] *= np.float32(ga)
        else:
            audio[:, a:b] *= np.linspace(ga, gb, b - a, endpoint=False, dtype=np.float32)
