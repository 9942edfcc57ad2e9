"""Built-in script writers: ``offline`` and ``auto``.

``auto`` (the default) picks an LLM writer when its key is configured and otherwise falls
back to ``offline`` with a one-line warning that is also recorded in episode.json.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from podcast.hookspecs import hookimpl
from podcast.stage import Stage

from .offline import OfflineWriter

__all__ = ["AutoWriter", "OfflineWriter"]


class AutoWriter(Stage):
    """Pick a writer by the configured key (LLM writers), else ``offline``."""

    kind: ClassVar[str] = "write"
    name: ClassVar[str] = "auto"

    @classmethod
    def resolve(cls, plugins: Any, config: Any) -> tuple[str, str | None]:
        return "offline", "writer: no LLM key configured (OPENAI_API_KEY, GEMINI_API_KEY); using the offline writer"


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(OfflineWriter)
    register(AutoWriter)
