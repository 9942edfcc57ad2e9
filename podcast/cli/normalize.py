"""``podcast-gen normalize``: print a normalized script (plain text or JSON lines)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

__all__ = ["normalize_command"]


def normalize_command(
    file: str = typer.Argument("-", help="script file ([S1]…[S2]… form), or - for stdin"),
    profile: str = typer.Option(
        "podcast",
        "--profile",
        "-p",
        help="normalization profile (podcast, moss-v0.5, moss-v0.7, moss-v1.0, or one a plugin registers)",
    ),
    jsonl: bool = typer.Option(
        False, "--jsonl", help='read {"text": …} lines, write {"text": …, "normalized": …} lines'
    ),
    lexicon: Path | None = typer.Option(None, "--lexicon", help="pronunciation lexicon TOML"),
    language: str = typer.Option("en", "--language", "-l", help="en or zh"),
) -> None:
    """Print the normalized script."""
    from ..plugins import get_plugins
    from ..stages.normalize.textio import normalize_io

    normalize_io(file, get_plugins().profile(profile), language, lexicon, jsonl, sys.stdout)
