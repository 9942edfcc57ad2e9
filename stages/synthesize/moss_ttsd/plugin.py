"""Plugin module of the ``moss-ttsd`` synthesizer (listed in ``DEFAULT_PLUGINS``).

Importing it is cheap: the engine module imports torch only when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .engine import MossTTSDEngine

__all__ = ["register_synthesizers"]


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    register(MossTTSDEngine)
