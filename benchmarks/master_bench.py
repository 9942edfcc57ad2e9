"""Benchmark the master stage on one core: a 30-minute 24 kHz mono speech-like episode.

Measures master + encode (MP3, stereo default and mono) in a child process pinned to one
core with single-threaded BLAS, its peak RSS, and — when an ffmpeg binary is present —
``ffmpeg -af loudnorm`` one pass on the same file in the same run, printing the ratio.

    python benchmarks/master_bench.py [--minutes 30] [--core 0]

Targets (issue 5): master + MP3 encode ≤ 10 s, ≥ 3x faster than loudnorm, peak RSS ≤ 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATE = 24000
THREADS = {
    k: "1"
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")
}


def speech_like(minutes: float, seed: int = 0) -> tuple[object, list[tuple[float, float, str]]]:
    """Float32 ``(1, n)`` speech-like audio (band-limited noise with a syllable-rate
    envelope and pauses) of two speakers 6 dB apart, and their ``(start, end, speaker)`` turns."""
    import numpy as np
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * RATE)
    noise = sosfilt(
        butter(2, [120, 4000], "bandpass", fs=RATE, output="sos"), rng.standard_normal(n)
    ).astype(np.float32)
    t = np.arange(n, dtype=np.float32) / RATE
    envelope = (0.55 + 0.45 * np.sin(2 * np.pi * 4.3 * t + 2 * np.sin(2 * np.pi * 0.37 * t))) ** 2
    audio, turns, cursor, who = noise * envelope, [], 0.3, 0
    level = {"S1": 0.25, "S2": 0.125}
    mask = np.zeros(n, dtype=np.float32)
    while cursor < minutes * 60 - 2:
        length = float(rng.uniform(2.0, 14.0))
        end = min(cursor + length, minutes * 60 - 1)
        speaker = ("S1", "S2")[who]
        mask[int(cursor * RATE) : int(end * RATE)] = level[speaker]
        turns.append((cursor, end, speaker))
        cursor, who = end + float(rng.uniform(0.25, 0.5)), 1 - who
    return (audio * mask)[np.newaxis], turns


def child(path: str, turns_path: str, mono: bool) -> None:
    """Run in the pinned child: read, master, encode, verify; print figures as JSON."""
    import numpy as np
    import soundfile as sf

    from podcast.stages.master.assemble import Placed, Timeline
    from podcast.stages.master.options import MasterOptions
    from podcast.stages.master.produce import master_timeline
    from podcast.stages.master.tags import Tags

    start = time.perf_counter()
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    turns = json.loads(Path(turns_path).read_text())
    placed = tuple(Placed(i, who, a, b) for i, (a, b, who) in enumerate(turns))
    timeline = Timeline(np.ascontiguousarray(data.T), rate, placed)  # (n, 1).T: no copy
    del data
    out = Path(path).with_name(f"bench-{'mono' if mono else 'stereo'}.mp3")
    result = master_timeline(timeline, MasterOptions(mono=mono), out, Tags(title="bench"))
    elapsed = time.perf_counter() - start
    rss = peak_rss_mb()
    print(json.dumps({"seconds": elapsed, "rss_mb": rss, "report": result.report}))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ``ru_maxrss`` would include the parent's
    pages when the child was started by vfork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_child(core: int, path: Path, turns: Path, mono: bool) -> dict:
    command = [
        "taskset",
        "-c",
        str(core),
        sys.executable,
        __file__,
        "--child",
        str(path),
        str(turns),
    ]
    if mono:
        command.append("--mono")
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **THREADS}, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def loudnorm_seconds(core: int, path: Path, mp3_kbps: int | None = None) -> float | None:
    """Wall time of one ``loudnorm`` pass (I -16, TP -1.5) to a null sink, or encoding to
    MP3 at ``mp3_kbps`` (stereo, like the default deliverable); ``None`` without ffmpeg."""
    binary = shutil.which("ffmpeg")
    if binary is None:
        return None
    sink = ["-f", "null", "-"]
    if mp3_kbps:
        sink = [
            "-ac",
            "2",
            "-c:a",
            "libmp3lame",
            "-b:a",
            f"{mp3_kbps}k",
            "-y",
            str(path.with_suffix(".ln.mp3")),
        ]
    command = [
        binary,
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-af",
        "loudnorm=I=-16:TP=-1.5:LRA=11",
    ]
    start = time.perf_counter()
    subprocess.run(
        ["taskset", "-c", str(core), *command, "-ar", "44100", *sink],
        check=True,
        env={**os.environ, **THREADS},
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--child", nargs=2, metavar=("WAV", "TURNS"))
    parser.add_argument("--mono", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.mono)
        return
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="master-bench-") as folder:
        wav, turns_file = Path(folder) / "in.wav", Path(folder) / "turns.json"
        audio, turns = speech_like(args.minutes)
        sf.write(wav, audio[0], RATE, subtype="FLOAT")
        turns_file.write_text(json.dumps(turns))
        del audio
        print(
            f"input: {args.minutes:g} min mono at {RATE} Hz, {len(turns)} turns, core {args.core}"
        )
        results = {
            mode: run_child(args.core, wav, turns_file, mode == "mono")
            for mode in ("stereo", "mono")
        }
        baseline = loudnorm_seconds(args.core, wav)
        baseline_mp3 = loudnorm_seconds(args.core, wav, mp3_kbps=128)
    for mode, figures in results.items():
        report = figures["report"]
        line = (
            f"{mode:6s}: master + MP3 {report['bitrate_kbps']} kbps {figures['seconds']:.2f} s "
            f"({args.minutes * 60 / figures['seconds']:.0f}x real time), "
            f"peak RSS {figures['rss_mb']:.0f} MB, decoded I {report['integrated']} LUFS, "
            f"TP {report['true_peak']} dBTP, LRA {report['lra']} LU, "
            f"speakers {[v['loudness'] for v in report['speakers'].values()]}, "
            f"encodes {len(report['attempts'])}"
        )
        if baseline is not None and baseline_mp3 is not None:
            line += (
                f", {baseline / figures['seconds']:.2f}x loudnorm's speed (no encode), "
                f"{baseline_mp3 / figures['seconds']:.2f}x loudnorm + LAME 128k stereo"
            )
        steps = report["attempts"][-1]["seconds"]
        before = figures["seconds"] - sum(sum(a["seconds"].values()) for a in report["attempts"])
        print(line)
        print(
            f"        steps (s): imports+read+leveling {before:.2f}, "
            + ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        )
    if baseline is None or baseline_mp3 is None:
        print("ffmpeg not found: loudnorm comparison skipped")
    else:
        print(f"ffmpeg loudnorm one pass: {baseline:.2f} s to null, {baseline_mp3:.2f} s to MP3")


if __name__ == "__main__":
    main()
