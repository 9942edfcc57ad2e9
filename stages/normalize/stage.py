"""The ``normalize.standard`` stage: episode.script → episode.normalized, per turn.

The profile is an option; ``auto`` takes the one the selected synthesizer declares
(``Capabilities.normalizer``, resolved once by the pipeline as ``StageContext.normalizer``).
Profiles come from the run's registry, so one a plugin registers is selectable by name.  The result keeps
turn count, speakers and chapters, and is saved as ``script.normalized.txt`` (the
editable file form) beside ``script.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from podcast import Episode, Stage, StageContext, StageError, UnknownStageError, atomic_write_text, content_hash, option

from .lexicon import Lexicon, load_lexicon
from .profiles import PROFILES, normalize_script

__all__ = ["NORMALIZED_FILE", "NormalizeStage", "resolve_profile"]

NORMALIZED_FILE = "script.normalized.txt"
DEFAULT_PROFILE = "podcast"


@dataclass(frozen=True, slots=True)
class NormalizeOptions:
    """Options of ``normalize.standard``."""

    profile: str = option(
        "auto", "normalization profile; 'auto' = the one the synthesizer declares, else 'podcast'"
    )
    lexicon: Path | None = option(None, "pronunciation lexicon (TOML: [en], [zh], [zh.pinyin])")
    pinyin: bool = option(
        True, "emit <pinyin> markup for [zh.pinyin] entries (ZipVoice reads it; MOSS-TTSD does not)"
    )


def resolve_profile(name: str, ctx: StageContext) -> Any:
    """The profile object for ``name`` from the run's registry (``auto``: the profile the
    selected synthesizer declares, ``ctx.normalizer``)."""
    if name == "auto":
        name = ctx.normalizer
    if ctx.plugins is not None:
        return ctx.plugins.profile(name)
    if name in PROFILES:
        return PROFILES[name]
    raise UnknownStageError(f"unknown normalization profile {name!r}; installed: {', '.join(sorted(PROFILES))}")


def _lexicon(options: NormalizeOptions) -> Lexicon | None:
    if options.lexicon is None:
        return None
    lexicon = load_lexicon(options.lexicon)
    return lexicon if options.pinyin else lexicon.without_pinyin()


class NormalizeStage(Stage):
    """Make the script speakable: numbers, dates, units, URLs and acronyms as words, then the engine's rules."""

    kind: ClassVar[str] = "normalize"
    name: ClassVar[str] = "standard"
    version: ClassVar[str] = "2"  # 2: CamelCase names read as words
    reads: ClassVar[tuple[str, ...]] = ("script",)
    writes: ClassVar[tuple[str, ...]] = ("normalized",)
    Options: ClassVar[type] = NormalizeOptions

    def check(self, ctx: StageContext) -> None:
        resolve_profile(self.options.profile, ctx)
        _lexicon(self.options)

    def cache_salt(self, ctx: StageContext) -> str:
        """The resolved profile (``auto`` follows the synthesizer) and the lexicon's content."""
        profile = resolve_profile(self.options.profile, ctx).name
        lexicon = self.options.lexicon
        return content_hash(profile, lexicon.read_bytes() if lexicon and lexicon.is_file() else b"")

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        if episode.script is None:
            raise StageError(
                "normalize needs a script; run the write stage first or pass a script file"
            )
        profile = resolve_profile(self.options.profile, ctx)
        normalized = normalize_script(episode.script, profile, _lexicon(self.options))
        atomic_write_text(ctx.require_run_dir() / NORMALIZED_FILE, normalized.to_file_text())
        ctx.log.info("normalized %d turns with profile %s", len(normalized.turns), profile.name)
        return replace(episode, normalized=normalized).with_meta(**{"normalize.details": {"profile": profile.name}})
