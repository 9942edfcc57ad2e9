"""Normalize a script file or JSON lines with one profile (the library side of
``podcast-gen normalize``; the command itself lives in :mod:`podcast.cli`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from podcast import ConfigError, InputError

__all__ = ["normalize_io"]

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
    source: str, chosen: Any, language: str, lexicon: Path | None, jsonl: bool, out: IO[str]
) -> None:
    """Normalize ``source`` (a path or ``-``) with the profile ``chosen`` and write it to ``out``."""
    from .lexicon import load_lexicon

    if language not in LANGUAGES:
        raise ConfigError(f"unknown language {language!r}; use en or zh")
    lex = load_lexicon(lexicon) if lexicon else None

    def normalize(text: str) -> str:
        return chosen.normalize(text, language, lex) if lex else chosen.normalize(text, language)

    if jsonl:
        stream = sys.stdin if source == "-" else _read(source).splitlines()
        _jsonl(stream, normalize, out)
    else:
        out.write(normalize(_read(source)) + "\n")
