"""The main command end to end, offline: real ingest, offline writer, espeak, master, MP3."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from podcast.errors import EXIT_LOCKED
from podcast.models import Script
from tests.conftest import EXAMPLES, assert_one_line_error, clean_env, console_script

pytestmark = pytest.mark.slow


def _decoded_seconds(path: Path) -> float:
    import pedalboard.io

    with pedalboard.io.AudioFile(str(path)) as audio:
        return audio.frames / audio.samplerate


def _finished_clips(paths) -> list[Path]:
    """Clips under their final names (a killed run may leave a hidden ``.…part.wav``)."""
    return [p for p in paths if not p.name.startswith(".")]


def _make(run_cli, source: Path, out: Path, *extra: str):
    proc = run_cli(str(source), "-o", str(out), "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize(("doc", "language"), [("solar-sails.md", "en"), ("tea-history.zh.md", "zh")])
def test_main_command_makes_an_episode(run_cli, tmp_path, doc, language):
    summary = _make(run_cli, EXAMPLES / doc, tmp_path / "out", "-l", language, "--minutes", "2")
    audio = Path(summary["audio"])
    assert audio.suffix == ".mp3" and audio.parent == Path(summary["episode_dir"])
    seconds = _decoded_seconds(audio)
    assert seconds >= 30 and abs(seconds - summary["duration"]) < 0.2
    script = Script.parse(Path(summary["script"]).read_text(encoding="utf-8"), language)
    episode = json.loads((Path(summary["episode_dir"]) / "episode.json").read_text(encoding="utf-8"))["episode"]
    segments = episode["segments"]
    assert [s["turn"] for s in segments] == list(range(len(script.turns)))
    assert [s["speaker"] for s in segments] == [t.speaker for t in script.turns]
    assert all(a["end"] <= b["start"] for a, b in zip(segments, segments[1:]))
    assert segments[-1]["end"] <= seconds
    assert [r["kind"] for r in episode["records"]] == ["ingest", "write", "normalize", "synthesize", "master"]
    assert episode["warnings"] and "offline writer" in episode["warnings"][0]
    leftovers = [p.name for p in Path(summary["episode_dir"]).rglob(".*part*")]
    assert leftovers == []


def test_rerun_reuses_everything(run_cli, tmp_path):
    first = _make(run_cli, EXAMPLES / "solar-sails.md", tmp_path / "out", "--minutes", "1")
    again = _make(run_cli, EXAMPLES / "solar-sails.md", tmp_path / "out", "--minutes", "1")
    assert [s["cached"] for s in again["stages"]] == [False, True, True, True, True]
    assert again["audio"] == first["audio"]


def test_edited_script_resynthesizes_only_changed_turns(run_cli, tmp_path):
    first = _make(run_cli, EXAMPLES / "solar-sails.md", tmp_path / "out", "--minutes", "1")
    script_path = Path(first["script"])
    lines = script_path.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("[S2]"))
    lines[index] = "[S2]This line was edited by hand."
    script_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    again = _make(run_cli, EXAMPLES / "solar-sails.md", tmp_path / "out", "--minutes", "1")
    synth = next(s for s in again["stages"] if s["kind"] == "synthesize")
    assert synth["cached"] is False and synth["details"]["synthesized"] == 1
    assert synth["details"]["reused"] == synth["details"]["clips"] - 1


def test_killed_during_synthesis_then_resumed(tmp_path):
    out = tmp_path / "out"
    args = [*console_script(), str(EXAMPLES / "solar-sails.md"), "-o", str(out), "--minutes", "6", "--json", "--synth", "espeak"]
    proc = subprocess.Popen(args, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    clips: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        clips = _finished_clips(out.glob("*/clips/*.wav"))
        if len(clips) >= 3:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    episode_dir = next(out.iterdir())
    assert not (episode_dir / "episode.mp3").exists()
    done_before = len(_finished_clips(episode_dir.glob("clips/*.wav")))
    resumed = subprocess.run(args, env=clean_env(), capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    stages = {s["kind"]: s for s in json.loads(resumed.stdout)["stages"]}
    assert stages["write"]["cached"] is True
    assert stages["synthesize"]["details"]["reused"] >= done_before >= 3
    assert stages["synthesize"]["details"]["synthesized"] == stages["synthesize"]["details"]["clips"] - stages["synthesize"]["details"]["reused"]


def test_two_runs_on_one_episode(run_cli, tmp_path):
    from filelock import FileLock

    out = tmp_path / "out"
    first = _make(run_cli, EXAMPLES / "solar-sails.md", out, "--minutes", "1")
    lock = FileLock(str(Path(first["episode_dir"]) / ".lock"))
    with lock:  # what an overlapping run holds
        blocked = run_cli(str(EXAMPLES / "solar-sails.md"), "-o", str(out), "--minutes", "1", "--lock-timeout", "0.5")
    assert_one_line_error(blocked, EXIT_LOCKED, "another run is writing")

    args = [*console_script(), str(EXAMPLES / "solar-sails.md"), "-o", str(out), "--minutes", "2", "--json"]
    runs = [subprocess.Popen(args, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(240), p.stdout.read(), p.stderr.read()) for p in runs]
    assert [r[0] for r in results] == [0, 0], [r[2] for r in results]
    summaries = [json.loads(r[1]) for r in results]
    synth = [next(s for s in x["stages"] if s["kind"] == "synthesize") for x in summaries]
    # The runs never interleave: one synthesized, the other waited and reused all of it.
    assert sorted(s["cached"] for s in synth) == [False, True]
    assert summaries[0]["audio"] == summaries[1]["audio"]
    assert abs(_decoded_seconds(Path(summaries[0]["audio"])) - summaries[1]["duration"]) < 0.2
