"""Episode length: how many words (English) or characters (Chinese) fill ``--minutes``.

Speaking rates are the usual podcast figures: about 150 words a minute in English and about
250 Han characters a minute in Mandarin.  Writers use :func:`target_units` as the budget they
ask for and :func:`length_details` as the estimate recorded in episode.json.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from podcast import Script

__all__ = [
    "TOLERANCE",
    "UNITS_PER_MINUTE",
    "count_units",
    "length_details",
    "script_units",
    "target_units",
    "unit_name",
    "within",
]

UNITS_PER_MINUTE = {"en": 150, "zh": 250}
TOLERANCE = 0.2  # the result is accepted within ±20 % of the target
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")


def unit_name(language: str) -> str:
    """``characters`` for Chinese, ``words`` otherwise."""
    return "characters" if language == "zh" else "words"


def count_units(texts: str | Iterable[str], language: str) -> int:
    """Words (en) or spoken units (zh: Han characters plus embedded Latin words) in ``texts``."""
    text = texts if isinstance(texts, str) else "\n".join(texts)
    if language == "zh":
        return len(_HAN.findall(text)) + len(_LATIN_WORD.findall(text))
    return len(text.split())


def target_units(minutes: float, language: str) -> int:
    """The length budget for ``minutes`` of speech (at least 1)."""
    return max(1, round(minutes * UNITS_PER_MINUTE.get(language, UNITS_PER_MINUTE["en"])))


def script_units(script: Script) -> int:
    """Length of a script's spoken text (tags and chapter titles excluded)."""
    return count_units((t.text for t in script.turns), script.language)


def within(units: int, target: int, tolerance: float = TOLERANCE) -> bool:
    """Whether ``units`` is within ``±tolerance`` of ``target``."""
    return abs(units - target) <= tolerance * target


def length_details(script: Script, minutes: float | None) -> dict[str, Any]:
    """The length estimate for episode.json: units, unit name, estimated minutes, target."""
    units = script_units(script)
    rate = UNITS_PER_MINUTE.get(script.language, UNITS_PER_MINUTE["en"])
    details: dict[str, Any] = {
        "turns": len(script.turns),
        "units": units,
        "unit": unit_name(script.language),
        "estimated_minutes": round(units / rate, 2),
    }
    if minutes:
        target = target_units(minutes, script.language)
        details.update(
            target_minutes=minutes, target_units=target, length_ratio=round(units / target, 3)
        )
    return details
