"""Prompt templates as files: ``<dir>/write/<purpose>.<language>.md``.

Search order (first hit wins): the user's override directory (``prompts_dir`` in podcast.toml),
directories registered by plugins through ``register_prompt_dirs``, then the built-in
``podcast.prompts`` package.  A language without its own file falls back to English.
Templates use ``$name`` placeholders (:class:`string.Template`); write ``$$`` for a dollar sign.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from podcast import ConfigError, StageContext, content_hash

__all__ = ["PURPOSES", "PromptBook"]

STAGE = "write"
PHRASES = "phrases"
PURPOSES = (
    "system",
    "script",
    "format",
    "repair",
    "resize",
    "notes",
    "condense",
    "outline",
    "segment",
)


@dataclass(slots=True)
class PromptBook:
    """Looks up and fills prompt templates for one language."""

    language: str
    dirs: Sequence[Path] = ()
    _cache: dict[str, tuple[str, str]] = field(default_factory=dict)
    _phrases: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_context(cls, language: str, ctx: StageContext) -> PromptBook:
        """The book for a run: the user's directory, then the directories plugins of the run's
        registry add, then built-ins."""
        dirs = [ctx.config.prompts_dir] if ctx.config.prompts_dir else []
        plugin_dirs = ctx.plugins.prompt_dirs() if ctx.plugins is not None else []
        return cls(language, (*dirs, *plugin_dirs))

    def template(self, purpose: str) -> str:
        """The raw text of ``purpose`` (e.g. ``system``) in this book's language."""
        if purpose not in self._cache:
            self._cache[purpose] = self._find(purpose)
        return self._cache[purpose][1]

    def fill(self, purpose: str, values: Mapping[str, Any]) -> str:
        """The template of ``purpose`` with ``$name`` placeholders replaced by ``values``."""
        text = self.template(purpose)
        try:
            return string.Template(text).substitute({k: str(v) for k, v in values.items()}).strip()
        except (KeyError, ValueError) as exc:
            where = self._cache[purpose][0]
            raise ConfigError(
                f"prompt {where} uses an unknown placeholder {exc}; write $$ for a literal dollar sign"
            ) from None

    def phrase(self, key: str, **values: Any) -> str:
        """One short phrase from ``phrases.<language>.toml``, placeholders filled."""
        if PHRASES not in self._cache:
            where, text = self._find(PHRASES, "toml")
            self._cache[PHRASES] = (where, text)
            try:
                self._phrases = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{where} is not valid TOML: {exc}") from None
        return string.Template(str(self._phrases[key])).safe_substitute(
            {k: str(v) for k, v in values.items()}
        )

    def fingerprint(self) -> str:
        """Hash of every template this book resolves (a changed prompt changes the cache key)."""
        self.phrase("unit")
        return content_hash(self._cache[PHRASES][1], *(f"{p}={self.template(p)}" for p in PURPOSES))

    def _find(self, purpose: str, suffix: str = "md") -> tuple[str, str]:
        names = [f"{purpose}.{self.language}.{suffix}", f"{purpose}.en.{suffix}"]
        for name in names:
            for folder in self.dirs:
                path = Path(folder) / STAGE / name
                if path.is_file():
                    return str(path), path.read_text(encoding="utf-8")
            builtin = resources.files("podcast.prompts").joinpath(STAGE, name)
            if builtin.is_file():
                return f"podcast.prompts/{STAGE}/{name}", builtin.read_text(encoding="utf-8")
        raise ConfigError(
            f"no prompt template {STAGE}/{purpose}.{self.language}.md found in "
            f"{', '.join(map(str, self.dirs)) or 'the built-ins'}"
        )
