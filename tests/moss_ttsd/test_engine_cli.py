"""``podcast-gen synth SCRIPT -o out.wav`` with espeak and with the tiny moss-ttsd folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import soundfile as sf

from tests.conftest import assert_one_line_error, clean_env

from .engine_helpers import tiny_folders  # noqa: F401

SCRIPT = "# Synth test\n[S1]Welcome to the show.\n[S2]Thanks for having me.\n[S1]Let us begin.\n"


def _script(tmp_path: Path) -> Path:
    path = tmp_path / "episode.script.txt"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def test_synth_with_espeak(run_cli: Any, tmp_path: Path) -> None:
    script = _script(tmp_path)
    proc = run_cli(
        "synth", str(script), "--synth", "espeak", "-o", "out.wav", "--output-dir", "work", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    info = sf.info(str(tmp_path / "out.wav"))
    assert summary["engine"] == "espeak" and summary["clips"] == 3
    assert info.samplerate == 22050 and info.subtype == "PCM_16"
    assert abs(info.duration - summary["duration"]) < 1e-3 and info.duration > 2 * 0.25 + 1.0
    again = run_cli(
        "synth",
        str(script),
        "--synth",
        "espeak",
        "-o",
        "out2.wav",
        "--output-dir",
        "work",
        "--json",
    )
    synth_stage = [
        s
        for s in json.loads(_episode_json(tmp_path))["episode"]["records"]
        if s["kind"] == "synthesize"
    ]
    assert again.returncode == 0 and synth_stage[-1]["cached"]
    assert not list(tmp_path.glob(".*.part*"))


def _episode_json(tmp_path: Path) -> str:
    (folder,) = (tmp_path / "work").iterdir()
    return (folder / "episode.json").read_text(encoding="utf-8")


def test_synth_with_tiny_moss_ttsd(run_cli: Any, tmp_path: Path, tiny_folders: dict) -> None:
    prefix = "synthesize.moss-ttsd."
    sets = {
        "model_dir": tiny_folders["model"],
        "codec_dir": tiny_folders["codec"],
        "device": "cpu",
        "dtype": "fp32",
        "max_new_tokens": 60,
        "carry_seconds": 0,
    }
    args = [a for k, v in sets.items() for a in ("--set", f"{prefix}{k}={v}")]
    voices = [
        a
        for s in ("S1", "S2")
        for a in ("--voice", f"{s}={tiny_folders[s.lower()]}:{tiny_folders['texts'][s]}")
    ]
    proc = run_cli(
        "synth",
        str(_script(tmp_path)),
        "--synth",
        "moss-ttsd",
        "-o",
        "moss.wav",
        "--output-dir",
        "work",
        "--json",
        *args,
        *voices,
        env=_env(),
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    info = sf.info(str(tmp_path / "moss.wav"))
    assert summary["engine"] == "moss-ttsd" and info.samplerate == 32000 and info.duration > 0.05
    assert json.loads(_episode_json(tmp_path))["episode"]["normalized"] is not None


def test_moss_v07_without_voice_is_one_clear_line(
    run_cli: Any, tmp_path: Path, tiny_folders: dict
) -> None:
    args = [
        "--set",
        f"synthesize.moss-ttsd.model_dir={tiny_folders['model']}",
        "--set",
        f"synthesize.moss-ttsd.codec_dir={tiny_folders['codec']}",
        "--set",
        "synthesize.moss-ttsd.device=cpu",
    ]
    proc = run_cli(
        "synth",
        str(_script(tmp_path)),
        "--synth",
        "moss-ttsd",
        "-o",
        "x.wav",
        "--output-dir",
        "work",
        "--json",
        *args,
        env=_env(),
    )
    assert_one_line_error(proc, 5, "reference voice", "--voice S1=ref.wav")
    assert not (tmp_path / "x.wav").exists()


def _env() -> dict[str, str]:
    return clean_env(OMP_NUM_THREADS="1")


def test_moss_refusals_come_before_any_work(run_cli: Any, tmp_path: Path, tiny_folders: dict) -> None:
    """Missing weights or voices stop the main command before ingest writes anything."""
    from tests.conftest import EXAMPLES

    source = str(EXAMPLES / "solar-sails.md")
    missing = run_cli(source, "--synth", "moss-ttsd", "-o", "out", "--set", f"synthesize.moss-ttsd.model_dir={tmp_path / 'nowhere'}", env=_env())
    assert_one_line_error(missing, 5, "moss-ttsd cannot run", "nowhere")
    no_voice = run_cli(
        source, "--synth", "moss-ttsd", "-o", "out",
        "--set", f"synthesize.moss-ttsd.model_dir={tiny_folders['model']}",
        "--set", f"synthesize.moss-ttsd.codec_dir={tiny_folders['codec']}",
        "--set", "synthesize.moss-ttsd.device=cpu", env=_env(),
    )
    assert_one_line_error(no_voice, 5, "reference voice for S1, S2")
    assert not (tmp_path / "out").exists()
