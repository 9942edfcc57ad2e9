"""Signs that a (small) model did not write a conversation, said as warnings.

Two failures are common with models of a few billion parameters: copying the prompt's example
turns ("what S1 says") instead of writing, and reading the source out line by line. Neither is
an error (the episode is made), but the user should know, and that a larger model helps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from podcast import Script

__all__ = ["EXAMPLE_PHRASES", "copied_share", "honesty_warnings"]

#: Placeholder phrases of the format examples in the prompts (both languages).
EXAMPLE_PHRASES = ("what S1 says", "what S2 says", "chapter title if a new topic starts", "S1 说的话", "S2 说的话")
WINDOW = 8  # words (characters for Chinese) in a copied run
COPIED_SHARE = 0.6


def _units(text: str, language: str) -> list[str]:
    if language == "zh":
        return [c for c in text if not c.isspace() and c not in "，。！？、；：“”‘’（）《》"]
    return re.findall(r"[\w']+", text.lower())


def _windows(units: list[str]) -> set[tuple[str, ...]]:
    return {tuple(units[i : i + WINDOW]) for i in range(max(len(units) - WINDOW + 1, 0))}


def copied_share(script_text: str, source: str, language: str) -> float:
    """Share of the script's word windows that appear verbatim in the source (0..1)."""
    ours = _units(script_text, language)
    if len(ours) < WINDOW:
        return 0.0
    theirs = _windows(_units(source, language))
    windows = [tuple(ours[i : i + WINDOW]) for i in range(len(ours) - WINDOW + 1)]
    return sum(w in theirs for w in windows) / len(windows)


def honesty_warnings(script: Script, source: str, model: str) -> list[str]:
    """Warnings for the user (empty when the script looks written)."""
    text = " ".join(t.text for t in script.turns)
    warnings = []
    copied = [p for p in EXAMPLE_PHRASES if p.lower() in text.lower()]
    if copied:
        warnings.append(
            f"writer: {model} copied the prompt's example turns ({_quote(copied)}) instead of writing the "
            "conversation; use a larger instruct model (7B or more)"
        )
    share = copied_share(text, source, script.language)
    if share >= COPIED_SHARE:
        warnings.append(
            f"writer: {share:.0%} of the script is the source read out word for word ({model} did not turn it "
            "into a conversation); use a larger instruct model (7B or more)"
        )
    return warnings


def _quote(items: Iterable[str]) -> str:
    return ", ".join(f'"{i}"' for i in items)
