"""What the LLM writer modules share, in one leaf module: the options, the prompt budget
constants and the error for answers that stay unusable (no import circle between the writer,
its session and the long-document and resize steps)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from podcast import UpstreamError, option

__all__ = ["MAX_PROBLEMS_CHARS", "MIN_CONTEXT", "REPAIR_MARGIN", "RUNAWAY", "LLMOptions", "UnusableAnswer"]

MIN_CONTEXT = 6000
REPAIR_MARGIN = 1600  # characters kept free in every prompt for a repair round trip
MAX_PROBLEMS_CHARS = 600
# A script longer than this many times its target after the adjustment pass is refused: the
# model ran away (synthesizing it would take many times the asked length).
RUNAWAY = 2.0


@dataclass(frozen=True, slots=True)
class LLMOptions:
    """Options of the LLM writers (the key itself is never an option)."""

    model: str = option(
        "",
        "model name; empty = the provider's default (openai gpt-4.1-mini, gemini "
        "gemini-2.5-flash; a custom base URL: the first model the server lists)",
    )
    base_url: str = option(
        "", "API base URL; empty = OPENAI_BASE_URL (openai) or the provider's endpoint"
    )
    api_key_file: Path | None = option(
        None, "read the API key from this file instead of the environment"
    )
    temperature: float = option(0.8, "sampling temperature")
    max_tokens: int = option(8192, "most tokens in one answer")
    timeout: float = option(
        120.0,
        "seconds one request may take in all before it is retried (local servers: seconds without any new data "
        "once the answer has started; their whole request is bounded by first_byte_timeout)",
    )
    first_byte_timeout: float = option(
        1800.0,
        "local servers: seconds one request may take in all, the wait for the first token included (a CPU reads a "
        "long prompt slowly; not retried)",
    )
    context_tokens: int = option(
        0, "the server's context in tokens; 0 = ask a local server (Ollama, llama-server, vLLM, LM Studio)"
    )
    retries: int = option(3, "retries after 429/5xx answers, timeouts and dropped connections")
    backoff: float = option(
        2.0, "first retry delay in seconds, doubled each retry (a server's Retry-After wins)"
    )
    max_wait: float = option(60.0, "longest single wait between retries, in seconds")
    stream: bool = option(True, "stream answers (shows progress)")
    response_format: Literal["auto", "json_schema", "json_object", "text"] = option(
        "auto",
        "structured output: auto tries json_schema and falls back to plain JSON when the server refuses it",
    )
    context_chars: int = option(
        60000, "prompt budget in characters; longer documents are written by map-reduce"
    )
    price_input: float | None = option(
        None, "USD per million input tokens for the cost estimate (default: known prices)"
    )
    price_output: float | None = option(None, "USD per million output tokens for the cost estimate")


class UnusableAnswer(UpstreamError):
    """The model's answer stayed unusable after the repair round trip."""
