"""LLM providers reached through the official ``openai`` client.

``openai`` covers OpenAI itself and any OpenAI-compatible server (Ollama, vLLM, llama.cpp
server, LM Studio) chosen by base URL; ``gemini`` uses Google's OpenAI-compatible endpoint.
Keys come from the environment or a key file and live only in memory: nothing here puts a
key into options, records, artifacts or messages.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from podcast import ConfigError

__all__ = [
    "GEMINI",
    "OPENAI",
    "PRICES",
    "Endpoint",
    "Provider",
    "estimate_cost",
    "is_local",
    "price_of",
    "safe_url",
]

OPENAI_URL = "https://api.openai.com/v1"
GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
NO_KEY = "no-key"  # local servers need no key, but the client insists on a non-empty one

# USD per million (input, output) tokens; used only for the cost *estimate* in episode.json.
PRICES: Mapping[str, tuple[float, float]] = {
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gemini-2.5-pro": (1.25, 10.0),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
}


@dataclass(frozen=True, slots=True)
class Provider:
    """Where a writer's requests go by default and which variables configure it."""

    name: str
    key_env: str
    base_url: str
    base_url_env: str | None
    default_model: str
    list_models: bool = False  # on a custom base URL, use the first model the server lists


OPENAI = Provider(
    "openai", "OPENAI_API_KEY", OPENAI_URL, "OPENAI_BASE_URL", "gpt-4.1-mini", list_models=True
)
GEMINI = Provider("gemini", "GEMINI_API_KEY", GEMINI_URL, None, "gemini-2.5-flash")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A resolved endpoint.  ``key`` is secret: it is excluded from ``repr`` and never recorded."""

    provider: Provider
    base_url: str
    key: str

    def __repr__(self) -> str:
        return f"Endpoint({self.provider.name!r}, {safe_url(self.base_url)!r})"

    @property
    def custom(self) -> bool:
        """True for a base URL other than the provider's own (a self-hosted server)."""
        return self.base_url.rstrip("/") != self.provider.base_url.rstrip("/")

    @classmethod
    def resolve(
        cls,
        provider: Provider,
        base_url: str,
        key_file: Path | None,
        env: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """Pick the base URL (option, env, default) and the key (key file, env)."""
        env = os.environ if env is None else env
        url = (
            base_url
            or (env.get(provider.base_url_env, "") if provider.base_url_env else "")
            or provider.base_url
        )
        key = _read_key(key_file) if key_file else env.get(provider.key_env, "").strip()
        endpoint = cls(provider, url, key or NO_KEY)
        if not key and not endpoint.custom:
            raise ConfigError(
                f"writer {provider.name} needs {provider.key_env} "
                "(or an api_key_file option, or a base URL of a local server)"
            )
        return endpoint


def _read_key(path: Path) -> str:
    try:
        key = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the API key file {path}: {exc.strerror or exc}") from None
    if not key:
        raise ConfigError(f"the API key file {path} is empty")
    return key


def safe_url(url: str) -> str:
    """``url`` without user info, query or fragment (safe to log and record)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def is_local(url: str) -> bool:
    """Whether ``url`` points at this machine (no price applies)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "127.0.0.1", "::1", "0.0.0.0"} or host.endswith(".local")


def price_of(
    model: str, override: tuple[float | None, float | None] = (None, None)
) -> tuple[float, float] | None:
    """USD per million (input, output) tokens for ``model``: the options, else the table
    (longest matching name prefix, so ``gpt-4.1-mini-2025-04-14`` is found), else ``None``."""
    if override[0] is not None and override[1] is not None:
        return override[0], override[1]
    name = model.lower().removeprefix("models/")
    matches = [k for k in PRICES if name == k or name.startswith(k + "-")]
    return PRICES[max(matches, key=len)] if matches else None


def estimate_cost(
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    override: tuple[float | None, float | None] = (None, None),
) -> float | None:
    """Estimated USD for the tokens used, or ``None`` when the model's price is unknown."""
    price = price_of(model, override)
    if price is None:
        return None
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6, 6)
