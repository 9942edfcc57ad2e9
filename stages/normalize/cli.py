"""``podcast-gen normalize``: print a normalized script (plain text or JSON lines).

The command only parses arguments; :func:`normalize_io` does the work so it can be
tested and reused without Typer.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import typer

from podcast.errors import ConfigError, InputError

__all__ = ["normalize_command", "normalize_io", "register"]

LANGUAGES = ("en", "zh")


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {source}: {exc}") from None


def _jsonl(lines: Iterable[str], normalize: Any, out: IO[str]) -> None:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
        except (ValueError, KeyError, TypeError):
            raise InputError(
                f'line {number}: expected a JSON object with a "text" string'
            ) from None
        item["normalized"] = normalize(str(text))
        out.write(json.dumps(item, ensure_ascii=False) + "\n")
        out.flush()


def normalize_io(
    source: str, profile: str, language: str, lexicon: Path | None, jsonl: bool, out: IO[str]
) -> None:
    """Normalize ``source`` (a path or ``-``) with ``profile`` and write it to ``out``."""
    from .lexicon import load_lexicon
    from .stage import resolve_profile

    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}; use en or zh")
    chosen = resolve_profile(profile)
    lex = load_lexicon(lexicon) if lexicon else None

    def normalize(text: str) -> str:
        return chosen.normalize(text, language, lex) if lex else chosen.normalize(text, language)

    if jsonl:
        stream = sys.stdin if source == "-" else _read(source).splitlines()
        _jsonl(stream, normalize, out)
    else:
        out.write(normalize(_read(source)) + "\n")


def normalize_command(
    file: str = typer.Argument("-", help="script file ([S1]…[S2]… form), or - for stdin"),
    profile: str = typer.Option(
        "podcast",
        "--profile",
        "-p",
        help="normalization profile (podcast, moss-v0.5, moss-v0.7, moss-v1.0, …)",
    ),
    jsonl: bool = typer.Option(
        False, "--jsonl", help='read {"text": …} lines, write {"text": …, "normalized": …} lines'
    ),
    lexicon: Path | None = typer.Option(None, "--lexicon", help="pronunciation lexicon TOML"),
    language: str = typer.Option("en", "--language", "-l", help="en or zh"),
) -> None:
    """Print the normalized script."""
    normalize_io(file, profile, language, lexicon, jsonl, sys.stdout)


def register(app: typer.Typer) -> None:
    """Add the ``normalize`` command to ``app``."""
    app.command("normalize")(normalize_command)
