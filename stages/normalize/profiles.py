"""Normalization profiles: the registry API used by the stage, the CLI and plugins.

A profile turns MOSS-form text (``[S1]…[S2]…``) into what an engine should read.  The
reference profiles ``moss-v0.5``/``moss-v0.7``/``moss-v1.0`` reproduce MOSS-TTSD's own
``normalize_text`` exactly on whole text; ``podcast`` (the default) verbalizes numbers,
symbols and acronyms in English or Chinese and then applies the MOSS rules per turn
without their traps.  :func:`normalize_turns` applies any profile turn by turn, so the
pipeline keeps its turn structure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Protocol

from podcast import Script, Turn, UnknownStageError

from .lexicon import Lexicon
from .moss import MOSS_V0_5, MOSS_V0_7, MOSS_V1_0, MossRules, moss_normalize, split_tagged
from .polish import Protected, polish, strip_placeholders
from .verbalize import verbalize

__all__ = [
    "PROFILES",
    "NormalizerProfile",
    "Profile",
    "builtin_profiles",
    "get_profile",
    "normalize_script",
    "normalize_turns",
]

_PODCAST_TAG = re.compile(r"(\[S\d+\])")
_TURN_GUARD = re.compile(r"\[(S?\d+)\]")
_GUARD_TAG = "[S1]"

TurnFn = Callable[[str, str, Lexicon | None], str]
TextFn = Callable[[str, str, Lexicon | None], str]


class NormalizerProfile(Protocol):
    """What ``register_normalizers`` accepts: a name, a description and ``normalize``."""

    name: str
    description: str

    def normalize(self, text: str, language: str) -> str: ...


@dataclass(frozen=True, slots=True)
class Profile:
    """A built-in profile.  ``turn`` normalizes one turn's content (no tags); ``text``
    normalizes a whole MOSS-form script."""

    name: str
    description: str
    turn: TurnFn
    text: TextFn

    def normalize(self, text: str, language: str = "en", lexicon: Lexicon | None = None) -> str:
        """Normalize MOSS-form ``text`` (``[S1]…[S2]…``) in ``language`` (``en``/``zh``)."""
        return self.text(text, language, lexicon)

    def normalize_turn(
        self, text: str, language: str = "en", lexicon: Lexicon | None = None
    ) -> str:
        """Normalize the content of one turn (no speaker tag); never splits or merges."""
        return self.turn(text, language, lexicon)


# ── podcast ─────────────────────────────────────────────────────────────────────


def podcast_turn(text: str, language: str, lexicon: Lexicon | None = None) -> str:
    """Verbalize one turn, then apply the MOSS rules without their traps."""
    protect = Protected()
    text = protect.hide_events(strip_placeholders(text))
    if lexicon:
        text = lexicon.apply(text, language, wrap=protect.hide)
    return polish(verbalize(text, language), protect, zh_default=language == "zh")


def podcast_text(text: str, language: str, lexicon: Lexicon | None = None) -> str:
    """Per-turn podcast normalization of a whole script; only ``[Sn]`` are tags, turns are
    never merged, text before the first tag is normalized on its own."""
    pieces = _PODCAST_TAG.split(text.replace("\n", " "))
    head = podcast_turn(pieces[0], language, lexicon) if pieces[0].strip() else ""
    body = (
        tag + podcast_turn(content, language, lexicon)
        for tag, content in zip(pieces[1::2], pieces[2::2], strict=True)
    )
    return head + "".join(body)


# ── reference (MOSS-TTSD) ───────────────────────────────────────────────────────


def _lexicon_on_contents(text: str, language: str, lexicon: Lexicon | None) -> str:
    """Apply a lexicon to tag-free parts only (a term must never rewrite ``[S1]``)."""
    if not lexicon:
        return text
    parts = _PODCAST_TAG.split(text)
    parts[0::2] = [lexicon.apply(p, language) for p in parts[0::2]]
    return "".join(parts)


def _reference(rules: MossRules) -> tuple[TurnFn, TextFn]:
    def text_fn(text: str, language: str, lexicon: Lexicon | None = None) -> str:
        return moss_normalize(_lexicon_on_contents(text, language, lexicon), rules)

    def turn_fn(text: str, language: str, lexicon: Lexicon | None = None) -> str:
        # A bracketed number inside a turn would become a new speaker tag: unwrap it.
        guarded = _TURN_GUARD.sub(r"\1", text)
        if lexicon:
            guarded = lexicon.apply(guarded, language)
        return moss_normalize(_GUARD_TAG + guarded, rules)[len(_GUARD_TAG) :]

    return turn_fn, text_fn


def _reference_profile(rules: MossRules, blurb: str) -> Profile:
    turn_fn, text_fn = _reference(rules)
    name = "moss-" + rules.version
    return Profile(
        name,
        f"MOSS-TTSD {rules.version} normalize_text, reproduced exactly: {blurb}",
        turn_fn,
        text_fn,
    )


def builtin_profiles() -> tuple[Profile, ...]:
    """The profiles this package registers, default first."""
    return (
        Profile(
            "podcast",
            "Default: spell out numbers, dates, money, units, URLs and acronyms (en/zh), then MOSS rules per turn without their traps",
            podcast_turn,
            podcast_text,
        ),
        _reference_profile(
            MOSS_V0_5, "strips non-tag brackets, ?/! become commas, (笑)/(laughs), no merging"
        ),
        _reference_profile(MOSS_V0_7, "keeps ?!, [笑]/[laugh], merges same-speaker turns"),
        _reference_profile(
            MOSS_V1_0, "v0.7 plus dashes/ellipses to ，, punctuation runs collapsed, ‘’ deleted"
        ),
    )


PROFILES: Mapping[str, Profile] = MappingProxyType({p.name: p for p in builtin_profiles()})


def get_profile(name: str, available: Mapping[str, Any] | None = None) -> Any:
    """The profile called ``name`` in ``available`` (default: the built-ins); an unknown
    name raises UnknownStageError listing the installed ones."""
    table = PROFILES if available is None else available
    found = table.get(name)
    if found is None:
        raise UnknownStageError(
            f"unknown normalization profile {name!r}; installed: {', '.join(sorted(table))}"
        )
    return found


# ── per-turn application ────────────────────────────────────────────────────────


def _turn_text(
    profile: Any, speaker: str, text: str, language: str, lexicon: Lexicon | None
) -> str:
    if isinstance(profile, Profile):
        return profile.normalize_turn(text, language, lexicon)
    # A plugin profile only knows whole texts: give it one tagged turn, read it back.
    guarded = _TURN_GUARD.sub(r"\1", lexicon.apply(text, language) if lexicon else text)
    out = profile.normalize(f"[{speaker}]{guarded}", language)
    return " ".join(content for _, content in split_tagged(out)).strip()


def normalize_turns(
    profile: Any, turns: Iterable[Turn], language: str, lexicon: Lexicon | None = None
) -> tuple[Turn, ...]:
    """Normalize each turn separately: same count, same speakers, same order."""
    return tuple(
        replace(t, text=_turn_text(profile, t.speaker, t.text, language, lexicon)) for t in turns
    )


def normalize_script(script: Script, profile: Any, lexicon: Lexicon | None = None) -> Script:
    """A copy of ``script`` with every turn normalized (speakers, chapters, title kept)."""
    return replace(script, turns=normalize_turns(profile, script.turns, script.language, lexicon))
