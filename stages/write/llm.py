"""LLM script writers: ``openai`` (OpenAI or any OpenAI-compatible base URL) and ``gemini``.

One run is a :class:`~.session.Session`: it asks for the whole script in one call when the
document fits the prompt budget (``context_chars``) and otherwise map-reduces it
(:mod:`.longdoc`); every answer is parsed and validated, with one repair round trip on problems
and a clear :class:`~podcast.errors.UpstreamError` after that.  When the result misses the
``--minutes`` budget by more than ±20 % one extend/shorten pass follows (:mod:`.resize`).
Calls, tokens, estimated cost and the length estimate go into episode.json; the API key goes
nowhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from podcast import ConfigError, Document, Script, Speaker, StageContext

from .base import ReportingWriter
from .llmbase import MIN_CONTEXT, LLMOptions, UnusableAnswer
from .prompting import PromptBook
from .providers import GEMINI, OPENAI, Endpoint, Provider, safe_url
from .session import Session

__all__ = ["GeminiWriter", "LLMOptions", "LLMWriter", "OpenAIWriter", "Session", "UnusableAnswer"]


class LLMWriter(ReportingWriter):
    """Base of writers that talk to an OpenAI-compatible chat-completions API."""

    provider: ClassVar[Provider] = OPENAI
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = LLMOptions

    @classmethod
    def unavailable(cls, options: Any, config: Any, env: Mapping[str, str]) -> str | None:
        """No key in the environment and no key file or base URL configured."""
        provider = cls.provider
        names = [provider.key_env, *([provider.base_url_env] if provider.base_url_env else [])]
        if any(env.get(name) for name in names) or options.api_key_file or options.base_url:
            return None
        return f"no LLM key configured ({', '.join(names)})"

    def check(self, ctx: StageContext) -> None:
        if self.options.context_chars < MIN_CONTEXT:
            raise ConfigError(
                f"stages.write.{self.name}.context_chars must be at least {MIN_CONTEXT}"
            )
        # A missing key is refused before ingest runs (the endpoint is resolved again per run).
        Endpoint.resolve(self.provider, self.options.base_url, self.options.api_key_file)

    def cache_salt(self, ctx: StageContext) -> str:
        """Also the endpoint (not the key) and the prompt templates change the script."""
        prompts = [
            PromptBook.for_context(lang, ctx).fingerprint()
            for lang in ("en", "zh")
        ]
        url = self.options.base_url or _env_url(self.provider)
        return f"{super().cache_salt(ctx)}|{safe_url(url)}|{prompts}"

    def write(
        self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext
    ) -> Script:
        session = Session.open(self.provider, self.options, language, speakers, ctx)
        try:
            return session.write(document)
        finally:
            self.report.details.update(session.details())
            self.report.warnings.extend(session.warnings)


class OpenAIWriter(LLMWriter):
    """Script by OpenAI or any OpenAI-compatible server (OPENAI_API_KEY / OPENAI_BASE_URL)."""

    name: ClassVar[str] = "openai"
    provider: ClassVar[Provider] = OPENAI
    rank: ClassVar[int] = 100


class GeminiWriter(LLMWriter):
    """Script by Google Gemini through its OpenAI-compatible endpoint (GEMINI_API_KEY)."""

    name: ClassVar[str] = "gemini"
    provider: ClassVar[Provider] = GEMINI
    rank: ClassVar[int] = 90


def _env_url(provider: Provider) -> str:
    import os

    return (
        os.environ.get(provider.base_url_env, "") if provider.base_url_env else ""
    ) or provider.base_url
