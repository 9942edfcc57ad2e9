"""Join a rendering's clips into one audio file (the library side of ``podcast-gen synth``;
the command itself lives in :mod:`podcast.cli`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["join_clips"]


def join_clips(rendering: Any, output: Path, gap: float) -> float:
    """Concatenate the clips of ``rendering`` in order with ``gap`` seconds of silence between
    them and write ``output`` atomically; returns the duration in seconds."""
    import numpy as np

    from podcast import SynthesisError
    from podcast.audio import read_audio, resample, write_audio

    if rendering is None or not rendering.clips:
        raise SynthesisError("nothing was synthesized: the script has no turns")
    rate, pieces = rendering.sample_rate, []
    silence = np.zeros((1, int(round(max(gap, 0.0) * rate))), dtype=np.float32)
    for index, clip in enumerate(rendering.clips):
        samples, clip_rate = read_audio(clip.path)
        pieces += [silence] if index else []
        pieces.append(resample(samples.mean(axis=0, keepdims=True), clip_rate, rate))
    audio = np.concatenate(pieces, axis=1)
    write_audio(output, audio, rate, subtype="PCM_16" if output.suffix.lower() == ".wav" else None)
    return audio.shape[1] / rate
