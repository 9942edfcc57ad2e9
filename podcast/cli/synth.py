"""``podcast-gen synth SCRIPT -o out.wav``: render an existing script with any synthesizer.

The script goes through the usual stages up to ``synthesize`` (script ingester → write, which
parses it → normalize → synthesize), in an episode folder under ``--output-dir`` — by default
podcast-gen's cache folder, so a rerun reuses every cached clip and nothing is left in the
current directory; the clips are then joined in order with ``--gap`` seconds of silence and
written atomically to ``-o``.  No mastering: use the main command for that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .params import ConfigFile, Json, Language, Sets, Synth, Voices, build_config

__all__ = ["synth"]

ScriptFile = Annotated[Path, typer.Argument(help="Script file: one [S1]…/[S2]… turn per line.", show_default=False)]
AudioOut = Annotated[
    Path, typer.Option("-o", "--output", help="Audio file to write (.wav, .flac, .ogg).", show_default=False)
]
Gap = Annotated[float, typer.Option("--gap", help="Seconds of silence between clips.")]
WorkDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        help="Folder for the episode folder and its clip cache [default: podcast-gen's cache, ~/.cache/podcast-gen/synth].",
    ),
]


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
    from ..api import make_episode
    from ..errors import InputError
    from ..kit.files import podcast_cache
    from ..plugins import get_plugins
    from ..stages.synthesize.join import join_clips
    from .reporter import reporting

    if not script.is_file():
        raise InputError(f"no such script file: {script}")
    overrides = {"language": language, "synthesize": synthesizer, "output": work or podcast_cache() / "synth"}
    config = build_config(config_file, sets, False, voices=voice, overrides=overrides)
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
