"""Build the golden data for the chain tests: ``python -m tests.master.make_golden`` (from
the repository root).

A small deterministic episode (three synthetic clips with DC offset, rumble, leading and
trailing silence and a 9 dB level difference between speakers) goes through the whole
chain to a WAV deliverable; the golden file keeps its segments, loudness figures and a
50 ms RMS envelope.  Regenerate only when a change to the chain is intended, and say why
in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "chain.json"
RATE = 24000


def golden_clips() -> list[tuple[str, str, np.ndarray]]:
    """Three turns: speech-like bursts padded with silence, a DC offset and 30 Hz rumble."""
    from tests.master.master_signals import speech_like

    turns = []
    specs = [
        ("S1", "Welcome to the test episode.", 2.5, 0.25),
        ("S2", "Yeah.", 0.6, 0.09),
        ("S2", "Here is a longer answer with several words in it.", 3.0, 0.09),
    ]
    for i, (speaker, text, seconds, level) in enumerate(specs):
        body = speech_like(seconds, RATE, seed=10 + i, level=level)
        t = np.arange(body.size) / RATE
        body = body + np.float32(0.003) + (0.002 * np.sin(2 * np.pi * 30 * t)).astype(np.float32)
        silence = np.zeros(round(0.2 * RATE), np.float32)
        turns.append((speaker, text, np.concatenate([silence, body, silence])))
    return turns


def envelope_db(audio: np.ndarray, rate: int, window: float = 0.05) -> list[float]:
    """RMS per ``window`` seconds in dBFS (floored at -90), rounded to 0.01 dB."""
    n = round(window * rate)
    count = audio.shape[-1] // n
    frames = audio[..., : count * n].reshape(-1, count, n)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=(0, 2)))
    return [round(float(v), 2) for v in np.maximum(20 * np.log10(np.maximum(rms, 1e-12)), -90.0)]


def run_chain(folder: Path) -> dict:
    """Master the golden episode into ``folder`` and summarise the result."""
    import soundfile as sf

    from podcast.stages.master.options import MasterOptions
    from podcast.stages.master.produce import master_episode
    from tests.master.master_signals import clip_episode

    episode = clip_episode(folder, golden_clips(), RATE)
    done = master_episode(episode, MasterOptions(format="wav", mono=True), folder, seed=7)
    audio, rate = sf.read(done.outputs.audio, dtype="float32", always_2d=True)
    report = done.outputs.report
    return {
        "rate": rate,
        "samples": audio.shape[0],
        "segments": [[s.turn, s.speaker, s.start, s.end] for s in done.segments],
        "integrated": report["integrated"],
        "true_peak": report["true_peak"],
        "speakers": {k: v["loudness"] for k, v in report["speakers"].items()},
        "envelope_db": envelope_db(audio.T, rate),
    }


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        data = run_chain(Path(folder))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {GOLDEN} ({len(data['envelope_db'])} envelope frames)")


if __name__ == "__main__":
    main()
