"""``podcast-gen script SOURCE… [-o FILE]``: write the editable ``[S1]``/``[S2]`` script only.

The pipeline runs up to the write stage (so the episode folder and its cache are shared with
the main command); edit the file and pass it back as the main command's source to skip writing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .params import ConfigFile, Language, Minutes, Private, Rewrite, Sets, Sources, StageSel, Writer, build_config

__all__ = ["script"]

OutFile = Annotated[
    Path | None,
    typer.Option("-o", "--output", help="Script file to write [default: print to stdout]."),
]
Prompts = Annotated[
    Path | None,
    typer.Option(
        "--prompts-dir", help="Folder with your own prompt templates (write/<purpose>.<lang>.md)."
    ),
]


def script(
    sources: Sources,
    output: OutFile = None,
    language: Language = None,
    writer: Writer = None,
    minutes: Minutes = None,
    prompts_dir: Prompts = None,
    config_file: ConfigFile = None,
    sets: Sets = None,
    stage: StageSel = None,
    allow_private_urls: Private = False,
    rewrite: Rewrite = False,
) -> None:
    from ..api import make_episode
    from ..errors import OutputError
    from ..plugins import get_plugins
    from ..runfiles import atomic_write_text
    from ..writing import SCRIPT_FILE
    from .reporter import reporting

    overrides = {
        "language": language,
        "write": writer,
        "minutes": minutes,
        "prompts_dir": prompts_dir,
        "rewrite": rewrite or None,
    }
    config = build_config(config_file, sets, allow_private_urls, stage=stage, overrides=overrides)
    with reporting(quiet=False):
        episode = make_episode(sources, config, get_plugins(), until="write")
    text = episode.path(SCRIPT_FILE).read_text(encoding="utf-8")
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        atomic_write_text(output, text)
    except OSError as exc:
        raise OutputError(f"cannot write {output}: {exc.strerror or exc}") from None
    typer.echo(str(output))
