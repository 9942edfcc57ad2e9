"""Remote synthesizers: ``sglang`` (MOSS-TTSD on SGLang servers, blocks in parallel across
servers) and ``openai-speech`` (any OpenAI-compatible ``/v1/audio/speech`` endpoint).

Both are thin HTTP clients (stdlib only) on the pipeline's engine interface: the pipeline
packs, caches and resamples; :mod:`.pool` spreads requests with bounded concurrency,
retries and failover.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .openai_speech import OpenAISpeechEngine
from .sglang import SglangEngine

__all__ = ["OpenAISpeechEngine", "SglangEngine"]


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    register(SglangEngine)
    register(OpenAISpeechEngine)
