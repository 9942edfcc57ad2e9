"""Natural offline voices (piper, kokoro) against espeak, measured in the same run.

Three parts (pick with ``--parts``, default all but ``long``):

* ``main``: the main job (``podcast-gen EXAMPLE -l LANG -o TMP``) on both bundled examples,
  once with the default voices (``auto``: Piper joe + Kokoro jf_alpha in English, Kokoro
  jm_kumo + jf_alpha in Mandarin) and once with ``--synth espeak``: wall time, peak RSS of the
  process, episode length, and the ratio natural / espeak.
* ``rtf``: real-time factor (wall and CPU) of each engine on the same turns of the English
  example, one child process per engine, model load excluded.
* ``cores``: kokoro on the same turns with 1 worker × 1 thread, 1 worker × 2 ONNX Runtime
  threads, and 2 workers × 1 thread (the engine's default on 2 cores).
* ``long``: a 10-minute episode spoken by kokoro alone (``--synth kokoro``, the example's
  script repeated): peak RSS of the whole main job (target < 600 MB) and wall time.

    python benchmarks/voices_bench.py [--parts main,rtf,cores,long] [--turns 8]

Targets (issue 12): the English main job ≤ 90 s and < 800 MB peak RSS on the 2-core machine;
a 10-minute kokoro episode < 600 MB peak RSS.  The machine is shared, so read the ratios.
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

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"en": ROOT / "examples" / "solar-sails.md", "zh": ROOT / "examples" / "tea-history.zh.md"}


def podcast_gen() -> list[str]:
    script = Path(sys.executable).with_name("podcast-gen")
    return [str(script)] if script.exists() else [sys.executable, "-m", "podcast"]


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run ``cmd``; ``(wall seconds, the child's own peak RSS in MB from wait4, stdout)``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])}… failed ({proc.returncode}): {err.read().strip()[-800:]}")
        return wall, usage.ru_maxrss / 1024, out.read()


def main_jobs(tmp: Path) -> None:
    print("main job (podcast-gen EXAMPLE -l LANG): natural voices vs espeak, same run")
    env = {k: v for k, v in os.environ.items() if k != "PODCAST_GEN_SYNTH"}  # auto: the default voices
    for language, example in EXAMPLES.items():
        rows = {}
        for label, extra in (("espeak", ["--synth", "espeak"]), ("natural", [])):
            out = tmp / f"{language}-{label}"
            cmd = [*podcast_gen(), str(example), "-l", language, "-o", str(out), "--json", *extra]
            wall, peak, stdout = run_measured(cmd, env)
            summary = json.loads(stdout)
            synth = next(s for s in summary["stages"] if s["kind"] == "synthesize")
            rows[label] = (wall, peak, summary["duration"], synth)
            voices = synth.get("details", {}).get("voices", "")
            print(
                f"  {language} {label:8s} wall {wall:6.1f} s  peak RSS {peak:6.0f} MB  episode {summary['duration']:6.1f} s"
                f"  synthesize {synth['elapsed']:6.1f} s ({synth['name']}{'; ' + str(voices) if voices else ''})"
            )
        (w0, p0, _, _), (w1, p1, _, _) = rows["espeak"], rows["natural"]
        print(f"  {language} natural/espeak: wall {w1 / w0:.1f}x, peak RSS {p1 / p0:.1f}x")


CHILD = r"""
import json, sys, time
from pathlib import Path
from podcast import EngineContext, Turn, Voice, peak_rss_mb
name, voice, texts_file, workers, threads, cache = sys.argv[1:7]
texts = json.loads(Path(texts_file).read_text())
from podcast.stages.synthesize.espeak import EspeakEngine
from podcast.stages.synthesize.kokoro import KokoroEngine, KokoroOptions
from podcast.stages.synthesize.piper import PiperEngine, PiperOptions
context = EngineContext(cache_dir=Path(cache) / name)
if name == "espeak":
    engine = EspeakEngine()
elif name == "piper":
    engine = PiperEngine(PiperOptions(workers=int(workers), threads=int(threads)), context)
else:
    engine = KokoroEngine(KokoroOptions(workers=int(workers), threads=int(threads)), context)
engine.load()
jobs = [(Turn("S2", t), Voice(voice or None)) for t in texts]
list(engine.synthesize_turns(jobs[:1], "en"))  # warm-up: first-call allocations, G2P init
wall, cpu = time.perf_counter(), time.process_time()
audio = sum(a.duration for _, a in engine.synthesize_turns(jobs, "en"))
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(json.dumps({"audio": audio, "wall": wall, "cpu": cpu,
                  "peak": peak_rss_mb()}))
"""


def turns_of_english_example(count: int) -> list[str]:
    text = EXAMPLES["en"].read_text(encoding="utf-8")
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", re.sub(r"^#.*$", "", text, flags=re.M)) if s.strip()]
    turns = [" ".join(sentences[i : i + 2]) for i in range(0, len(sentences), 2)]
    return turns[:count]


def engine_run(tmp: Path, name: str, voice: str, texts: list[str], workers: int, threads: int) -> dict[str, float]:
    texts_file = tmp / "texts.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    cmd = [sys.executable, "-c", CHILD, name, voice, str(texts_file), str(workers), str(threads), str(tmp / "cache")]
    _, _, out = run_measured(cmd)
    return json.loads(out.strip().splitlines()[-1])


def rtf(tmp: Path, count: int) -> None:
    texts = turns_of_english_example(count)
    print(f"real-time factor on {len(texts)} turns of the English example (model load excluded)")
    base = None
    for name, voice in (("espeak", ""), ("piper", "joe"), ("kokoro", "jf_alpha")):
        r = engine_run(tmp, name, voice, texts, 0, 1)
        wall_rtf, cpu_rtf = r["wall"] / r["audio"], r["cpu"] / r["audio"]
        base = base or cpu_rtf
        print(
            f"  {name:7s} audio {r['audio']:6.1f} s  RTF wall {wall_rtf:.3f}  CPU {cpu_rtf:.3f}"
            f" ({cpu_rtf / base:6.1f}x espeak's CPU)  peak RSS {r['peak']:.0f} MB"
        )


def cores(tmp: Path, count: int) -> None:
    texts = turns_of_english_example(count)
    print(f"kokoro on both cores: processes of work vs ONNX Runtime threads ({len(texts)} turns)")
    base = None
    for workers, threads in ((1, 1), (1, 2), (2, 1)):
        r = engine_run(tmp, "kokoro", "jf_alpha", texts, workers, threads)
        base = base or r["wall"]
        print(
            f"  workers {workers} × threads {threads}: wall {r['wall']:6.1f} s (RTF {r['wall'] / r['audio']:.3f},"
            f" {base / r['wall']:.2f}x of 1×1)  CPU {r['cpu']:6.1f} s  peak RSS {r['peak']:.0f} MB"
        )


def long_episode(tmp: Path) -> None:
    """A ~10-minute kokoro episode: the English example's script, repeated."""
    first = tmp / "en-first"
    run_measured([*podcast_gen(), str(EXAMPLES["en"]), "-l", "en", "-o", str(first), "--synth", "espeak", "--json"])
    script = next(first.rglob("script.txt")).read_text(encoding="utf-8")
    turns = [line for line in script.splitlines() if line.startswith("[S")]
    long_script = tmp / "ten-minutes.txt"
    long_script.write_text("\n".join(turns * 3) + "\n", encoding="utf-8")
    out = tmp / "long"
    cmd = [*podcast_gen(), str(long_script), "-l", "en", "-o", str(out), "--synth", "kokoro", "--json"]
    wall, peak, stdout = run_measured(cmd)
    duration = json.loads(stdout)["duration"]
    print(f"kokoro-only episode of {duration / 60:.1f} min: wall {wall:.0f} s (RTF {wall / duration:.2f}), peak RSS {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default="main,rtf,cores")
    parser.add_argument("--turns", type=int, default=8)
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="voices-bench-") as name:
        tmp = Path(name)
        if "main" in parts:
            main_jobs(tmp)
        if "rtf" in parts:
            rtf(tmp, args.turns)
        if "cores" in parts:
            cores(tmp, args.turns)
        if "long" in parts:
            long_episode(tmp)


if __name__ == "__main__":
    main()
