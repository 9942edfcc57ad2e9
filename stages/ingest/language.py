"""Guessing a document's language (``en`` or ``zh``) from its script.

Used when the user gave no ``-l``.  Chinese text is mostly Han characters; English text
has none.  Mixed text (a Chinese article quoting English product names, an English page
with a few Chinese words) is decided by the share of Han characters among all letters,
counting each Han character as a word's worth of content.
"""

from __future__ import annotations

__all__ = ["ZH_THRESHOLD", "cjk_ratio", "guess_language"]

# A Han character carries roughly as much content as a short English word (~4 letters),
# so 0.2 of letters being Han already means Chinese is the main language.
ZH_THRESHOLD = 0.2
_SAMPLE = 20000


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK Unified Ideographs
        or 0x3400 <= code <= 0x4DBF  # Extension A
        or 0xF900 <= code <= 0xFAFF  # Compatibility Ideographs
        or 0x20000 <= code <= 0x2FA1F  # Extensions B+ and supplement
    )


def cjk_ratio(text: str) -> float:
    """Share of Han characters among the letters of ``text`` (0.0 when it has no letters)."""
    han = letters = 0
    for char in text[:_SAMPLE]:
        if char.isalpha():
            letters += 1
            han += _is_han(char)
    return han / letters if letters else 0.0


def guess_language(text: str, default: str = "en") -> str:
    """``"zh"`` when Han characters make up at least :data:`ZH_THRESHOLD` of the letters,
    otherwise ``"en"``; ``default`` when the text has no letters at all."""
    if not any(char.isalpha() for char in text[:_SAMPLE]):
        return default
    return "zh" if cjk_ratio(text) >= ZH_THRESHOLD else "en"
