"""Test signals for the master stage: BS.1770 tone sequences, speech-like noise, espeak
speech and episode builders.  Everything is generated; nothing is read from the network."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from podcast.models import Chapter, Clip, Document, Episode, Rendering, Script, Speaker, Turn


def tone(
    seconds: float, dbfs: float, rate: int, freq: float = 1000.0, phase_deg: float = 0.0
) -> np.ndarray:
    """A sine of peak level ``dbfs`` (float32, 1-D)."""
    t = np.arange(round(seconds * rate)) / rate
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t + np.deg2rad(phase_deg))).astype(
        np.float32
    )


def sequence(parts: Sequence[tuple[float, float]], rate: int, stereo: bool = True) -> np.ndarray:
    """Concatenated 1 kHz tones ``(seconds, dbfs)``; ``(2, n)`` identical channels or ``(1, n)``."""
    mono = np.concatenate([tone(s, db, rate) for s, db in parts])
    return np.stack([mono, mono]) if stereo else mono[np.newaxis]


def faded(x: np.ndarray, rate: int, seconds: float = 0.05) -> np.ndarray:
    """Linear fades on both ends (avoids the edge transient's spurious true peak)."""
    n = round(seconds * rate)
    ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = x.copy()
    out[..., :n] *= ramp
    out[..., -n:] *= ramp[::-1]
    return out


def speech_like(seconds: float, rate: int, seed: int = 0, level: float = 0.2) -> np.ndarray:
    """Band-limited noise with a syllable-rate envelope (float32, 1-D): a stand-in for speech
    with a realistic crest factor."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = round(seconds * rate)
    noise = sosfilt(
        butter(2, [150, min(4000, rate * 0.45)], "bandpass", fs=rate, output="sos"),
        rng.standard_normal(n),
    )
    t = np.arange(n) / rate
    envelope = (0.55 + 0.45 * np.sin(2 * np.pi * 4.3 * t + 2 * np.sin(2 * np.pi * 0.37 * t))) ** 2
    return (level * noise * envelope).astype(np.float32)


def espeak(text: str, speaker: str = "S1", language: str = "en") -> tuple[np.ndarray, int]:
    """Real espeak-ng speech for ``text`` (float32, 1-D) and its rate."""
    from podcast.models import Voice
    from podcast.stages.synthesize.espeak import EspeakEngine

    audio = EspeakEngine().synthesize_turn(Turn(speaker, text), Voice(), language)
    return np.asarray(audio.samples, dtype=np.float32).reshape(-1), audio.sample_rate


def clip_episode(
    run_dir: Path,
    turns: Sequence[tuple[str, str, np.ndarray]],
    rate: int,
    chapters: Sequence[Chapter] = (),
    title: str = "Test episode",
) -> Episode:
    """An episode whose rendering is one WAV clip per turn ``(speaker, text, audio)``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, (_, _, audio) in enumerate(turns):
        path = run_dir / f"turn{i:03d}.wav"
        sf.write(path, audio, rate, subtype="FLOAT")
        clips.append(Clip(path, rate, (i,), ((0.0, audio.size / rate),)))
    speakers = (Speaker("S1", "Alice"), Speaker("S2", "Bob"))
    script = Script("en", tuple(Turn(s, t) for s, t, _ in turns), speakers, tuple(chapters), title)
    document = Document(
        "https://example.org/article",
        "url",
        "An article",
        (),
        "en",
        {"url": "https://example.org/article", "author": "Ada", "date": "2026-01-02"},
    )
    return Episode(
        ("https://example.org/article",),
        "en",
        run_dir,
        document,
        script,
        None,
        Rendering("test", rate, tuple(clips)),
    )
