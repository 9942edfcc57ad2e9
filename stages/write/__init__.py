"""Built-in script writers: ``openai``, ``gemini``, ``offline`` and ``auto``, plus the
``podcast-gen script`` command.

``auto`` (the default) picks ``openai`` when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set
(or the openai writer has a key file or base URL configured), ``gemini`` when
``GEMINI_API_KEY`` is set, and otherwise falls back to ``offline`` with a one-line warning
that is also recorded in episode.json.  Nothing heavy is imported here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from podcast.hookspecs import hookimpl
from podcast.stage import Stage

from .llamacpp import LlamaCppWriter
from .llm import GeminiWriter, OpenAIWriter
from .offline import OfflineWriter

__all__ = ["AutoWriter", "GeminiWriter", "LlamaCppWriter", "OfflineWriter", "OpenAIWriter"]

NO_KEY_NOTE = (
    "writer: no LLM key configured (OPENAI_API_KEY, OPENAI_BASE_URL, GEMINI_API_KEY); "
    "using the offline writer"
)


class AutoWriter(Stage):
    """Pick a writer by the configured key (openai, then gemini), else ``offline``."""

    kind: ClassVar[str] = "write"
    name: ClassVar[str] = "auto"

    @classmethod
    def resolve(
        cls, plugins: Any, config: Any, env: Mapping[str, str] | None = None
    ) -> tuple[str, str | None]:
        env = os.environ if env is None else env
        if env.get("OPENAI_API_KEY") or env.get("OPENAI_BASE_URL") or _configured(config, "openai"):
            return "openai", None
        if env.get("GEMINI_API_KEY") or _configured(config, "gemini"):
            return "gemini", None
        return "offline", NO_KEY_NOTE


def _configured(config: Any, name: str) -> bool:
    options = config.options_for("write", name)
    return bool(options.get("api_key_file") or options.get("base_url"))


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(OfflineWriter)
    register(OpenAIWriter)
    register(GeminiWriter)
    register(LlamaCppWriter)
    register(AutoWriter)


@hookimpl
def register_commands(app: Any) -> None:
    from .commands import register

    register(app)
