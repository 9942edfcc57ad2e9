"""Shared command-line parameters and config building for built-in and plugin commands.

Plugin commands (``register_commands``) import these so every command spells the same
option the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = [
    "ALLOW_PRIVATE",
    "ConfigFile",
    "Json",
    "Language",
    "Minutes",
    "Output",
    "Private",
    "Rewrite",
    "Sets",
    "Sources",
    "StageSel",
    "Synth",
    "Voices",
    "Writer",
    "build_config",
]

Sources = Annotated[
    list[str],
    typer.Argument(
        help="A web address, PDF, text or Markdown file, script file, or - to read standard input.",
        metavar="SOURCE...",
        show_default=False,
    ),
]
Language = Annotated[
    str | None, typer.Option("-l", "--language", metavar="en|zh", help="Episode language (guessed from the source when omitted).")
]
Output = Annotated[
    Path | None,
    typer.Option(
        "-o", "--output", metavar="FOLDER", help="Folder that holds one sub-folder per episode [default: ./podcasts]."
    ),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", metavar="FILE", help="Settings file to read [default: ./podcast.toml if present].")
]
Sets = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KIND.NAME.KEY=VALUE",
        help="Set one stage option, e.g. synthesize.espeak.rate=150 (repeatable; see `podcast-gen stages --options`).",
    ),
]
StageSel = Annotated[
    list[str] | None, typer.Option("--stage", metavar="KIND=NAME", help="Choose which implementation runs a step (repeatable).")
]
Voices = Annotated[
    list[str] | None, typer.Option(
        "--voice",
        metavar="S1=VOICE",
        help='Voice of one speaker: S1=PRESET, or S1=ref.wav:"exact words spoken in it" for cloning engines (repeatable).',
    )
]
Json = Annotated[
    bool,
    typer.Option(
        "--json", help="Print one JSON object on standard output (also when the run fails), and nothing else there."
    ),
]
Private = Annotated[
    bool,
    typer.Option("--allow-private-urls", help="Allow URLs that resolve to private, loopback or link-local addresses."),
]
ALLOW_PRIVATE = "ingest.url.allow_private=true"
Writer = Annotated[str | None, typer.Option("--writer", metavar="NAME", help="Script writer: auto, offline, openai, gemini, …")]
Synth = Annotated[str | None, typer.Option("--synth", metavar="NAME", help="Speech engine: auto, espeak, moss-ttsd, …")]
Rewrite = Annotated[
    bool,
    typer.Option(
        "--rewrite", help="Let the writer replace a script.txt you edited (your version is kept as script.<n>.txt)."
    ),
]
Minutes = Annotated[
    float | None,
    typer.Option("--minutes", metavar="MINUTES", help="Target episode length [default: 8]."),
]


def build_config(config_file: Path | None, sets: list[str] | None, allow_private: bool, **kwargs: Any) -> Any:
    """Load the run's config from ``--config``, ``--set``, ``--allow-private-urls`` and other flags."""
    from ..config import load_config

    extra = [ALLOW_PRIVATE] if allow_private else []
    return load_config(
        config_file,
        sets=[*extra, *(sets or [])],
        stages=kwargs.pop("stage", None) or (),
        voices=kwargs.pop("voices", None) or (),
        **kwargs,
    )
