"""Where each turn is inside rendered audio, and how long text takes to say.

Dialogue engines often report no alignment.  :func:`estimate_turn_spans` first splits the
duration in proportion to each turn's spoken weight (characters; CJK characters count as
three Latin ones, as they take about that long to say), then moves every inner boundary to
the quietest 40 ms frame within ``search`` seconds of its estimate: speaker changes almost
always fall into a pause, so the snapped boundary lands between words instead of inside
one.  Boundaries stay ordered and each turn keeps at least one frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models import Turn

if TYPE_CHECKING:
    import numpy as np

__all__ = ["CHARS_PER_SECOND", "estimate_seconds", "estimate_turn_spans", "proportional_spans", "text_weight"]

FRAME_SECONDS = 0.04
SEARCH_SECONDS = 0.6
CJK_WEIGHT = 3.0
#: Speaking rates used to estimate durations before synthesis (characters per second).
CHARS_PER_SECOND = {"en": 14.0, "zh": 4.5}


def estimate_seconds(text: str, language: str) -> float:
    """Rough speech duration of ``text`` in seconds (for block packing and generation budgets)."""
    return len(text) / CHARS_PER_SECOND.get(language, CHARS_PER_SECOND["en"])


def text_weight(text: str) -> float:
    """Spoken weight of ``text``: letters and digits count 1, CJK characters 3, others 0.3."""
    weight = 0.0
    for char in text:
        if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff":
            weight += CJK_WEIGHT
        elif char.isalnum():
            weight += 1.0
        else:
            weight += 0.3
    return max(weight, 1.0)


def proportional_spans(turns: Sequence[Turn], duration: float) -> tuple[tuple[float, float], ...]:
    """Split ``duration`` seconds across ``turns`` in proportion to their text length."""
    weights = [max(len(t.text), 1) for t in turns]
    total, start, spans = float(sum(weights)), 0.0, []
    for weight in weights:
        end = start + duration * weight / total
        spans.append((start, end))
        start = end
    return tuple(spans)


def _frame_energy(samples: np.ndarray, rate: int) -> np.ndarray:
    import numpy as np

    size = max(int(FRAME_SECONDS * rate), 1)
    frames = samples[: samples.shape[0] // size * size].reshape(-1, size).astype(np.float64)
    return np.sqrt((frames**2).mean(axis=1)) if frames.size else np.zeros(0)


def estimate_turn_spans(
    samples: np.ndarray, rate: int, turns: Sequence[Turn], search: float = SEARCH_SECONDS
) -> tuple[tuple[float, float], ...]:
    """``(start, end)`` seconds per turn of mono ``samples`` ``(n,)`` at ``rate`` Hz, with
    inner boundaries snapped to the quietest frame within ``search`` seconds."""
    import numpy as np

    duration = samples.shape[0] / rate
    weights = np.array([text_weight(t.text) for t in turns])
    bounds = np.concatenate([[0.0], np.cumsum(weights) / weights.sum() * duration])
    energy = _frame_energy(samples, rate)
    if energy.size > len(turns) and search > 0:
        reach = max(int(search / FRAME_SECONDS), 1)
        floor = 0
        for i in range(1, len(turns)):
            guess = int(bounds[i] / FRAME_SECONDS)
            lo = max(guess - reach, floor + 1)
            hi = min(guess + reach, energy.size - (len(turns) - i))
            if lo <= hi:
                best = lo + int(np.argmin(energy[lo : hi + 1]))
                bounds[i], floor = (best + 0.5) * FRAME_SECONDS, best
    bounds = np.minimum(np.maximum.accumulate(bounds), duration)
    bounds[-1] = duration
    return tuple((float(a), float(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
