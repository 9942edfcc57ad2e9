"""Interrupted runs: Ctrl-C exits 130 in one line, and a run killed anywhere resumes to the
uninterrupted run's episode, byte for byte (MP3, transcripts, chapters).

The runs are real processes of the installed console script on a short document (offline
writer, espeak, the standard master).  Kill points are drawn at random from the stages'
progress lines (ingest, normalize, synthesis, master); the seed is in every failure message
(``KILL_SEED=… pytest …`` repeats a draw).
"""

from __future__ import annotations

import os
import queue
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, clean_env, console_script

DELIVERABLES = ("episode.mp3", "episode.vtt", "episode.srt", "episode.transcript.json", "episode.chapters.json")
# (the stage line to wait for, or "" for the start; the longest extra delay in seconds)
KILL_POINTS = (("", 1.5), ("", 3.0), ("write", 0.3), ("normalize", 0.5), ("normalize", 1.5), ("normalize", 3.0),
               ("synthesize", 0.5), ("synthesize", 2.0), ("synthesize", 4.0), ("synthesize", 8.0))


def _source(folder: Path) -> Path:
    """The start of the bundled example: a few sections, about 20 turns."""
    text = (EXAMPLES / "solar-sails.md").read_text(encoding="utf-8")
    path = folder / "short.md"
    path.write_text(text[:1500].rsplit("\n", 1)[0] + "\n", encoding="utf-8")
    return path


def _command(source: Path, out: Path) -> list[str]:
    return [*console_script(), str(source), "-l", "en", "-o", str(out)]


def _start(source: Path, out: Path) -> tuple[subprocess.Popen[bytes], queue.Queue[str]]:
    proc = subprocess.Popen(
        _command(source, out), cwd=source.parent, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            lines.put(raw.decode("utf-8", "replace"))
        lines.put("")  # end of stream

    threading.Thread(target=pump, daemon=True).start()
    return proc, lines


def _wait_for(lines: queue.Queue[str], kind: str, limit: float = 180) -> list[str]:
    """Stderr lines up to the one saying stage ``kind`` finished (all of them when ``kind`` is
    empty or the stream ends first)."""
    seen: list[str] = []
    deadline = time.monotonic() + limit
    while kind and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if not line:
            break
        seen.append(line)
        if line.startswith("✓") and f" {kind}." in line:
            break
    return seen


def _episode(out: Path) -> Path:
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


def _clean_run(source: Path, out: Path) -> Path:
    proc = subprocess.run(_command(source, out), cwd=source.parent, env=clean_env(), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return _episode(out)


def _same_episode(reference: Path, resumed: Path, note: str) -> None:
    for name in DELIVERABLES:
        assert (resumed / name).read_bytes() == (reference / name).read_bytes(), f"{name} differs ({note})"
    assert not [p for p in resumed.rglob("*") if ".part" in p.name], note


@pytest.mark.slow
@pytest.mark.timeout(1200)  # dozens of real processes; a loaded 2-core machine is slow
def test_ctrl_c_during_synthesis_exits_130_and_the_next_run_resumes_exactly(tmp_path):
    source = _source(tmp_path)
    reference = _clean_run(source, tmp_path / "clean")
    out = tmp_path / "interrupted"
    proc, lines = _start(source, out)
    _wait_for(lines, "normalize")
    clips = lambda: list(out.glob("*/clips/*.wav"))  # noqa: E731
    deadline = time.monotonic() + 120
    while len(clips()) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    stderr = "".join(_wait_for(lines, "never", limit=5))
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "interrupted", stderr
    _same_episode(reference, _clean_run(source, out), "after Ctrl-C during synthesis")


@pytest.mark.slow
@pytest.mark.timeout(1200)  # dozens of real processes; a loaded 2-core machine is slow
def test_runs_killed_at_random_points_resume_to_the_uninterrupted_episode(tmp_path):
    seed = int(os.environ.get("KILL_SEED", time.time_ns() % 1_000_000))
    draw = random.Random(seed)
    source = _source(tmp_path)
    reference = _clean_run(source, tmp_path / "clean")
    out = tmp_path / "killed"
    kills = []
    for kind, longest in KILL_POINTS:
        proc, lines = _start(source, out)
        _wait_for(lines, kind)
        delay = draw.uniform(0.0, longest)
        time.sleep(delay)
        finished = proc.poll() is not None
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills.append(f"{kind or 'start'}+{delay:.2f}s{' (had finished)' if finished else ''}")
    _same_episode(reference, _clean_run(source, out), f"KILL_SEED={seed}, kills: {', '.join(kills)}")
