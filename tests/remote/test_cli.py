"""Acceptance through the real console script: two SGLang-protocol servers, one killed mid-run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from .remote_fakes import LINES, REFS, speak


def _inputs(tmp_path: Path) -> list[str]:
    """The script file and --voice flags (references made with espeak)."""
    voices = []
    for speaker, text in REFS.items():
        samples, rate = speak(f"[{speaker}]{text}")
        sf.write(tmp_path / f"{speaker}.wav", samples, rate)
        voices += ["--voice", f"{speaker}={tmp_path / speaker}.wav:{text}"]
    script = tmp_path / "episode.txt"
    script.write_text(
        "# Remote\n" + "\n".join(f"[S{1 + i % 2}]{line}" for i, line in enumerate(LINES)) + "\n"
    )
    return [
        str(script),
        "-l",
        "en",
        "--synth",
        "sglang",
        "--set",
        "synthesize.sglang.block_seconds=7",
        "--json",
        *voices,
    ]


def _make(run_cli, args: list[str], out: Path, *urls: str, until: tuple[str, ...] = ()) -> dict:
    proc = run_cli(
        "make",
        *args,
        *until,
        "-o",
        str(out),
        "--set",
        f"synthesize.sglang.urls={','.join(urls)}",
        "--set",
        "synthesize.sglang.concurrency=1",
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _clips(result: dict) -> list[np.ndarray]:
    episode_dir = Path(result["episode_dir"])
    clips = json.loads((episode_dir / "episode.json").read_text())["episode"]["rendering"]["clips"]
    return [sf.read(str(episode_dir / c["path"]), dtype="float32")[0] for c in clips]


def test_episode_survives_a_server_killed_mid_run_and_matches_one_server(
    run_cli, servers, tmp_path
):
    args = _inputs(tmp_path)
    alone = servers(prompt_text="".join(f"[{s}]{t}" for s, t in REFS.items()))
    single = _make(run_cli, args, tmp_path / "single", alone.url, until=("--until", "synthesize"))
    # The steady server is slow, so the dying one surely answers a block, then takes another.
    dying = servers(prompt_text=alone.behaviour.prompt_text, die_on=2, delay=0.02)
    steady = servers(prompt_text=alone.behaviour.prompt_text, delay=0.4)
    pair = _make(run_cli, args, tmp_path / "pair", dying.url, steady.url)
    assert (
        len(alone.requests) == 4
        and not dying.alive
        and len(dying.requests) == 2
        and len(steady.requests) == 3
    )
    synth = next(s for s in pair["stages"] if s["kind"] == "synthesize")
    assert synth["name"] == "sglang" and synth["details"]["synthesized"] == 4
    first, second = _clips(single), _clips(pair)
    assert len(first) == 4 and all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert pair["report"]["passed"] and Path(pair["audio"]).stat().st_size > 0
