"""``podcast-gen synth SCRIPT -o out.wav``: render an existing script with any synthesizer.

The script goes through the usual stages up to ``synthesize`` (script ingester → write, which
parses it → normalize → synthesize), inside the episode folder under ``--output-dir`` (so a
rerun reuses every cached clip); the clips are then joined in order with ``--gap`` seconds of
silence and written atomically to ``-o``.  No mastering: use the main command for that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from podcast.cli.params import ConfigFile, Json, Language, Sets, Synth, Voices

__all__ = ["join_clips", "register", "synth"]


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to ``app``."""
    app.command(
        "synth", help="Render an existing [S1]/[S2] script file to one audio file (no mastering)."
    )(synth)


ScriptFile = Annotated[Path, typer.Argument(help="Script file: one [S1]…/[S2]… turn per line.", show_default=False)]
AudioOut = Annotated[Path, typer.Option("-o", "--output", help="Audio file to write (.wav, .flac, .ogg).", show_default=False)]
Gap = Annotated[float, typer.Option("--gap", help="Seconds of silence between clips.")]
WorkDir = Annotated[Path | None, typer.Option("--output-dir", help="Folder for the episode folder and its clip cache [default: ./podcasts].")]


def synth(
    script: ScriptFile,
    output: AudioOut,
    synthesizer: Synth = None,
    language: Language = None,
    gap: Gap = 0.25,
    work: WorkDir = None,
    config_file: ConfigFile = None,
    sets: Sets = None,
    voice: Voices = None,
    as_json: Json = False,
) -> None:
    from podcast.api import make_episode
    from podcast.cli.reporter import reporting
    from podcast.plugins import get_plugins
    from podcast.config import load_config
    from podcast.errors import InputError

    if not script.is_file():
        raise InputError(f"no such script file: {script}")
    overrides = {"language": language, "synthesize": synthesizer, "output": work}
    config = load_config(config_file, sets=sets or [], voices=voice or [], overrides=overrides)
    with reporting():
        episode = make_episode([str(script)], config, get_plugins(), until="synthesize")
    duration = join_clips(episode.rendering, output, gap)
    summary = {
        "ok": True,
        "audio": str(output),
        "duration": round(duration, 3),
        "engine": episode.rendering.engine,
        "clips": len(episode.rendering.clips),
        "episode_dir": str(episode.run_dir),
        "warnings": list(episode.warnings),
    }
    typer.echo(json.dumps(summary, ensure_ascii=False) if as_json else str(output))


def join_clips(rendering: Any, output: Path, gap: float) -> float:
    """Concatenate the clips of ``rendering`` in order with ``gap`` seconds of silence between
    them and write ``output`` atomically; returns the duration in seconds."""
    import numpy as np

    from podcast.audio import read_audio, resample, write_audio
    from podcast.errors import SynthesisError

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
