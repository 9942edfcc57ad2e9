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
    list[str], typer.Argument(help="URL, PDF, text/Markdown file, script file, or - for stdin.", show_default=False)
]
Language = Annotated[
    str | None, typer.Option("-l", "--language", help="Episode language: en or zh (guessed when omitted).")
]
Output = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Folder that holds one sub-folder per episode [default: ./podcasts]."),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="podcast.toml to read [default: ./podcast.toml if present].")
]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Stage option KIND.NAME.KEY=VALUE (repeatable).")]
StageSel = Annotated[
    list[str] | None, typer.Option("--stage", help="Choose an implementation: KIND=NAME (repeatable).")
]
Voices = Annotated[
    list[str] | None, typer.Option("--voice", help='Voice per speaker: S1=PRESET or S1=ref.wav:"exact transcript".')
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout and nothing else there.")]
Private = Annotated[
    bool,
    typer.Option("--allow-private-urls", help="Allow URLs that resolve to private, loopback or link-local addresses."),
]
ALLOW_PRIVATE = "ingest.url.allow_private=true"
Writer = Annotated[str | None, typer.Option("--writer", help="Script writer: auto, offline, openai, gemini, …")]
Synth = Annotated[str | None, typer.Option("--synth", help="Synthesizer: auto, espeak, moss-ttsd, …")]
Rewrite = Annotated[
    bool,
    typer.Option(
        "--rewrite", help="Let the writer replace a script.txt you edited (your version is kept as script.<n>.txt)."
    ),
]
Minutes = Annotated[float | None, typer.Option("--minutes", help="Target episode length in minutes [default: 8].")]


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
