"""Benchmark the master stage: a 30-minute 24 kHz mono speech-like episode.

Measures master + encode + verify (MP3 128 kbps stereo; ``--mono`` adds the mono
deliverable) in a child process with single-threaded BLAS, its peak RSS, and — when an
ffmpeg binary is present — ``ffmpeg -af loudnorm`` one pass + LAME 128k stereo on the same
file, interleaved run by run so both sides see the same load; prints medians, the spread
and the per-run ratio.  Both sides get the same cores (all by default; ``--cores 0`` pins
both to one).

    python benchmarks/master_bench.py [--minutes 30] [--repeat 3] [--cores LIST] [--mono]
        [--hours 3] [--changed]

``--hours`` also runs ``podcast-gen master`` on a WAV that long and prints its peak RSS
(issue 18: flat, at most 400 MB, whatever the length).

Every master writes its reuse record (the stream and PCM digests, see
``stages/master/reuse.py``) into a fresh folder, as the master stage does in the episode
folder.  ``--changed`` also times one turn changed at ~70 % of the episode (other audio,
1.3 s longer): the changed episode mastered warm (in the folder where the unchanged one
was just mastered) and cold (in a fresh folder), interleaved run by run; prints both, the
ratio, the seconds of MP3 frames kept, and whether both decode to the same samples.

Targets (issue 10): the 30-minute stereo master ≤ 10 s and ≥ 3x faster than loudnorm +
encode in the same run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from podcast import peak_rss_mb
from podcast.testing import run_cli_measured

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


def changed_turn(
    audio: object, turns: list[tuple[float, float, str]], at: float = 0.7, longer: float = 1.3
) -> tuple[object, list[tuple[float, float, str]]]:
    """``audio`` and ``turns`` with the turn at ``at`` of the episode replaced by other
    speech-like audio ``longer`` seconds longer (everything after it moves)."""
    import numpy as np

    index = next(i for i, (a, _, _) in enumerate(turns) if a >= at * turns[-1][1])
    start, end, speaker = turns[index]
    a, b = round(start * RATE), round(end * RATE)
    other, _ = speech_like((end - start + longer) / 60.0 + 0.01, seed=99)
    level = float(np.abs(audio[0, a:b]).max()) / max(float(np.abs(other).max()), 1e-9)
    fresh = other[:, : round((end - start + longer) * RATE)] * np.float32(level)
    shift = fresh.shape[1] / RATE - (end - start)
    moved = [(x + shift, y + shift, who) for x, y, who in turns[index + 1 :]]
    joined = np.concatenate([audio[:, :a], fresh, audio[:, b:]], axis=1)
    return joined, [*turns[:index], (start, start + fresh.shape[1] / RATE, speaker), *moved]


def child(path: str, turns_path: str, mono: bool, reuse: str | None = None) -> None:
    """Run in the pinned child: read, master, encode, verify (the reuse record in
    ``reuse``); print figures as JSON."""
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
    name = Path(reuse).name if reuse else "mono" if mono else "stereo"
    out = Path(path).with_name(f"bench-{name}.mp3")
    options, tags = MasterOptions(mono=mono), Tags(title="bench")
    result = master_timeline(timeline, options, out, tags, reuse=Path(reuse) if reuse else None)
    elapsed = time.perf_counter() - start
    rss = peak_rss_mb()
    print(json.dumps({"seconds": elapsed, "rss_mb": rss, "report": result.report}))


def run_child(
    path: Path, turns: Path, mono: bool, cores: str | None, reuse: Path | None = None
) -> dict:
    """Master in a child process (a fresh reuse folder beside ``path`` unless ``reuse``)."""
    if reuse is None:
        reuse = Path(tempfile.mkdtemp(prefix="reuse-", dir=path.parent))
    command = [sys.executable, __file__, "--child", str(path), str(turns)]
    command += ["--child-reuse", str(reuse)]
    if cores:
        command = ["taskset", "-c", cores, *command]
    if mono:
        command.append("--child-mono")
    done = subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **THREADS}, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def loudnorm_seconds(path: Path, cores: str | None, mp3_kbps: int | None = None) -> float | None:
    """Wall time of one ``loudnorm`` pass (I -16, TP -1.5) to a null sink, or encoding to
    MP3 at ``mp3_kbps`` (stereo, like the default deliverable); ``None`` without ffmpeg."""
    binary = shutil.which("ffmpeg")
    if binary is None:
        return None
    sink = ["-f", "null", "-"]
    if mp3_kbps:
        out = str(path.with_suffix(".ln.mp3"))
        sink = ["-ac", "2", "-c:a", "libmp3lame", "-b:a", f"{mp3_kbps}k", "-y", out]
    command = [binary, "-nostdin", "-loglevel", "error", "-i", str(path)]
    command += ["-af", "loudnorm=I=-16:TP=-1.5:LRA=11", "-ar", "44100", *sink]
    if cores:
        command = ["taskset", "-c", cores, *command]
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, **THREADS})
    return time.perf_counter() - start


def long_master(hours: float, folder: Path, cores: str | None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of ``podcast-gen master`` on a WAV of ``hours``
    (24 kHz mono 16-bit speech-like audio, written a minute at a time)."""
    import soundfile as sf

    wav = folder / "long.wav"
    with sf.SoundFile(wav, "w", RATE, 1, "PCM_16") as out:
        for minute in range(round(hours * 60)):
            audio, _ = speech_like(1.0, seed=minute)
            out.write(audio[0])
    start = time.perf_counter()
    done, peak = run_cli_measured(
        ["master", str(wav), "-o", str(folder / "long.mp3")],
        env=THREADS,
        prefix=["taskset", "-c", cores] if cores else (),
        timeout=24 * 3600,
    )
    seconds = time.perf_counter() - start
    wav.unlink()
    if done.returncode:
        raise SystemExit(done.stderr)
    return seconds, peak


def one_turn_changed(
    wav: Path, repeat: int, cores: str | None
) -> tuple[list[float], list[float], float, bool]:
    """Warm and cold master seconds of the changed episode (see :func:`changed_turn`),
    the seconds reused by the last warm run, and whether warm and cold runs gave the same
    decoded samples and report figures."""
    import numpy as np

    from podcast.stages.master.codecs import read_any

    edited, edited_turns = wav.with_name("changed.wav"), wav.with_name("changed.json")
    warm, cold, same = [], [], True
    for run in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="warm-", dir=wav.parent))
        run_child(wav, wav.with_name("turns.json"), False, cores, folder)  # the last master
        hot = run_child(edited, edited_turns, False, cores, folder)
        fresh = Path(tempfile.mkdtemp(prefix="cold-", dir=wav.parent))
        scratch = run_child(edited, edited_turns, False, cores, fresh)
        warm.append(hot["seconds"])
        cold.append(scratch["seconds"])
        reports = [_figures(r["report"]) for r in (hot, scratch)]
        decoded = [read_any(wav.with_name(f"bench-{f.name}.mp3"))[0] for f in (folder, fresh)]
        same = same and reports[0] == reports[1] and np.array_equal(*decoded)
        print(
            f"one turn changed, run {run + 1}: warm {warm[-1]:.2f} s "
            f"({hot['report']['reused_seconds']:.0f} s kept), cold {cold[-1]:.2f} s",
            flush=True,
        )
    return warm, cold, hot["report"]["reused_seconds"], same


def _figures(report: dict) -> dict:
    """A mastering report without its timings and reuse figure."""
    attempts = [{k: v for k, v in a.items() if k != "seconds"} for a in report["attempts"]]
    rest = {k: v for k, v in report.items() if k not in ("attempts", "reused_seconds")}
    return {**rest, "attempts": attempts}


def spread(values: list[float]) -> str:
    """``median (min-max)`` of ``values``."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side (medians)")
    parser.add_argument("--cores", help="taskset CPU list for both sides [default: all]")
    parser.add_argument("--mono", action="store_true", help="also master a mono deliverable")
    parser.add_argument(
        "--hours", type=float, help="also time `podcast-gen master` on a WAV this long (RSS)"
    )
    parser.add_argument(
        "--changed", action="store_true", help="also time a master after one turn changed"
    )
    parser.add_argument("--child", nargs=2, metavar=("WAV", "TURNS"))
    parser.add_argument("--child-mono", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-reuse", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.child_mono, args.child_reuse)
        return
    import soundfile as sf

    modes = ("stereo", "mono") if args.mono else ("stereo",)
    ours: dict[str, list[dict]] = {mode: [] for mode in modes}
    baseline: list[float] = []
    with tempfile.TemporaryDirectory(prefix="master-bench-") as folder:
        wav, turns_file = Path(folder) / "in.wav", Path(folder) / "turns.json"
        audio, turns = speech_like(args.minutes)
        sf.write(wav, audio[0], RATE, subtype="FLOAT")
        turns_file.write_text(json.dumps(turns))
        if args.changed:
            edited, edited_turns = changed_turn(audio, turns)
            sf.write(wav.with_name("changed.wav"), edited[0], RATE, subtype="FLOAT")
            wav.with_name("changed.json").write_text(json.dumps(edited_turns))
            del edited
        del audio
        where = f"cores {args.cores}" if args.cores else f"all {os.cpu_count()} cores"
        print(f"input: {args.minutes:g} min mono at {RATE} Hz, {len(turns)} turns, {where}")
        for run in range(args.repeat):  # interleaved, so both sides see the same load
            for mode in modes:
                ours[mode].append(run_child(wav, turns_file, mode == "mono", args.cores))
            seconds = loudnorm_seconds(wav, args.cores, mp3_kbps=128)
            if seconds is not None:
                baseline.append(seconds)
            mine = ", ".join(f"{m} {ours[m][-1]['seconds']:.2f} s" for m in modes)
            print(f"run {run + 1}: {mine}; loudnorm + LAME {seconds or math.nan:.2f} s", flush=True)
        changed = one_turn_changed(wav, args.repeat, args.cores) if args.changed else None
        wav.unlink()
        long = long_master(args.hours, Path(folder), args.cores) if args.hours else None
    for mode, runs in ours.items():
        report = runs[-1]["report"]
        times = [r["seconds"] for r in runs]
        print(
            f"{mode:6s}: master + MP3 {report['bitrate_kbps']} kbps {spread(times)} s, "
            f"peak RSS {max(r['rss_mb'] for r in runs):.0f} MB, decoded I "
            f"{report['integrated']} LUFS, TP {report['true_peak']} dBTP, LRA {report['lra']} LU, "
            f"speakers {[v['loudness'] for v in report['speakers'].values()]}, "
            f"encodes {len(report['attempts'])}"
        )
        steps = report["attempts"][-1]["seconds"]
        before = runs[-1]["seconds"] - sum(sum(a["seconds"].values()) for a in report["attempts"])
        print(
            f"        last run's steps (s): imports+read+leveling {before:.2f}, "
            + ", ".join(f"{k} {v:.2f}" for k, v in steps.items())
        )
        if baseline:
            ratios = [b / t for b, t in zip(baseline, times, strict=True)]
            print(f"        speed-up over loudnorm + LAME 128k, per run: {spread(ratios)}x")
    if changed is not None:
        warm, cold, reused, same = changed
        print(
            f"one turn changed at 70 %: warm {spread(warm)} s, cold {spread(cold)} s, "
            f"warm/cold per run {spread([w / c for w, c in zip(warm, cold, strict=True)])}, "
            f"{reused:.1f} s of MP3 frames kept, same decoded samples and report: {same}"
        )
    if long is not None:
        print(
            f"podcast-gen master on a {args.hours:g}-hour WAV (24 kHz mono) to MP3 128k stereo: "
            f"{long[0]:.1f} s, peak RSS {long[1]:.0f} MB"
        )
    if baseline:
        print(f"ffmpeg loudnorm + LAME 128k stereo: {spread(baseline)} s")
    else:
        print("ffmpeg not found: loudnorm comparison skipped")


if __name__ == "__main__":
    main()
