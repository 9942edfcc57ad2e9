"""``podcast-gen master`` streams: its peak memory does not grow with the length of the
input (measured in a child process, VmHWM), and stays under 400 MB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from podcast.testing import run_cli_measured

from .master_signals import speech_like

RATE = 24000
LIMIT_MB = 400


def long_wav(path: Path, minutes: float) -> Path:
    """Speech-like audio with pauses, written a minute at a time (the test itself must
    not hold it whole)."""
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16") as out:
        for minute in range(int(minutes)):
            talk = speech_like(60.0, RATE, seed=minute, level=0.3)
            talk[np.arange(talk.size) % (7 * RATE) < RATE // 3] = 0.0  # a pause every 7 s
            out.write(talk)
    return path


def peak_mb(source: Path, out: Path) -> float:
    done, peak = run_cli_measured(["master", str(source), "-o", str(out), "--mono"], env={"OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr
    return peak


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_length(tmp_path: Path) -> None:
    short = peak_mb(long_wav(tmp_path / "short.wav", 2), tmp_path / "short.mp3")
    long = peak_mb(long_wav(tmp_path / "long.wav", 24), tmp_path / "long.mp3")
    # held whole, 22 more minutes at 24 kHz would cost 127 MB as float32 alone
    assert long - short < 64, (short, long)
    assert long < LIMIT_MB, long
    assert sf.info(str(tmp_path / "long.mp3")).duration > 24 * 60 - 1
