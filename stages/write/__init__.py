"""Built-in script writers: ``openai``, ``gemini``, ``llamacpp`` and ``offline``.

``--writer auto`` (the default) is the pipeline's selection policy (:mod:`podcast.selection`):
``openai`` (rank 100) when ``OPENAI_API_KEY`` or ``OPENAI_BASE_URL`` is set or the openai
writer has a key file or base URL configured, else ``gemini`` (rank 90) when
``GEMINI_API_KEY`` or its options are set, else ``offline`` (rank 10) with a one-line note
that is also recorded in episode.json.  ``llamacpp`` (rank 0) runs only when asked for by name.
Nothing heavy is imported here.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .llamacpp import LlamaCppWriter
from .llm import GeminiWriter, OpenAIWriter
from .offline import OfflineWriter

__all__ = ["GeminiWriter", "LlamaCppWriter", "OfflineWriter", "OpenAIWriter"]


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(OfflineWriter)
    register(OpenAIWriter)
    register(GeminiWriter)
    register(LlamaCppWriter)
