"""Pronunciation lexicon: user terms → spoken forms, and pinyin for Chinese polyphones.

File format (TOML)::

    [en]
    "SQL" = "sequel"                                    # case-sensitive, whole word
    "nginx" = { say = "engine x", case = "insensitive" }

    [zh]
    "AI" = "人工智能"

    [zh.pinyin]
    "重庆" = "chong2 qing4"                            # one tone-numbered syllable per character

Terms match as whole words: a term that starts (ends) with a Latin letter or digit must
not touch another letter or digit there; Chinese has no spaces, so Chinese ends match
anywhere.  An upper-case term also matches its plural and possessive (``GPU`` → ``GPUs``,
``GPU's``; the ending is kept after the spoken form).  Entries override the verbalizer's
own reading of upper-case words: ``"NASA" = "N A S A"`` spells a word it would say, and
``"NHK" = "NHK"`` keeps as a word one it would spell.  Entries of the call's language win
over the other section's.  Pinyin entries become ZipVoice-style markup, one ``<syllable>``
per character (``<chong2><qing4>``), which MOSS-TTSD v0.7/v1.0 pass through untouched; see
the package README.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from podcast import ConfigError

__all__ = ["Entry", "Lexicon", "load_lexicon", "parse_lexicon"]

_SYLLABLE = re.compile(r"[a-zü]+[1-5]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_EDGE = re.compile(r"[A-Za-z0-9]")
_UPPER_WORD = re.compile(r"[A-Z]{2,}")
LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class Entry:
    """One term.  ``say`` is the replacement text (pinyin entries: the markup)."""

    term: str
    say: str
    language: str
    case_sensitive: bool = True
    pinyin: bool = False


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A set of entries with one compiled pattern per call language."""

    entries: tuple[Entry, ...] = ()
    source: str = ""
    _compiled: dict[str, tuple[re.Pattern[str], dict[str, Entry], dict[str, Entry]]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __bool__(self) -> bool:
        return bool(self.entries)

    def without_pinyin(self) -> Lexicon:
        """The same lexicon minus ``[zh.pinyin]`` (for engines that cannot read markup)."""
        return Lexicon(tuple(e for e in self.entries if not e.pinyin), self.source)

    def apply(self, text: str, language: str, wrap: Callable[[str], str] | None = None) -> str:
        """Replace every term in tag-free ``text``; ``wrap`` may turn the spoken form into a
        placeholder so later steps leave it alone."""
        if not self.entries:
            return text
        pattern, exact, folded = self._pattern(language)

        def replace(m: re.Match[str]) -> str:
            found = m.group()
            for suffix in ("", "s", "'s"):  # an upper-case term also matches GPUs, GPU's
                term = found[: len(found) - len(suffix)]
                if found.endswith(suffix) and (entry := exact.get(term) or folded.get(term.casefold())):
                    return wrap(entry.say + suffix) if wrap else entry.say + suffix
            return found

        return pattern.sub(replace, text)

    def _pattern(self, language: str) -> tuple[re.Pattern[str], dict[str, Entry], dict[str, Entry]]:
        cached = self._compiled.get(language)
        if cached is None:
            cached = self._compile(language)
            self._compiled[language] = cached
        return cached

    def _compile(self, language: str) -> tuple[re.Pattern[str], dict[str, Entry], dict[str, Entry]]:
        # Other-language entries first, so the call language's entries overwrite them.
        ordered = sorted(self.entries, key=lambda e: e.language == language)
        exact = {e.term: e for e in ordered if e.case_sensitive}
        folded = {e.term.casefold(): e for e in ordered if not e.case_sensitive}
        terms = sorted({*exact.values(), *folded.values()}, key=lambda e: len(e.term), reverse=True)
        alternatives = "|".join(_term_regex(e) for e in terms) or r"(?!x)x"
        return re.compile(alternatives), exact, folded


def _term_regex(entry: Entry) -> str:
    body = re.escape(entry.term)
    if not entry.case_sensitive:
        body = f"(?i:{body})"
    if _UPPER_WORD.fullmatch(entry.term):
        body += "(?:'s|s)?"  # the plural and possessive of an acronym keep its reading
    head = r"(?<![A-Za-z0-9])" if _EDGE.match(entry.term[0]) else ""
    tail = r"(?![A-Za-z0-9])" if _EDGE.match(entry.term[-1]) else ""
    return head + body + tail


def pinyin_markup(term: str, syllables: str, where: str) -> str:
    """``"重庆", "chong2 qing4"`` → ``"<chong2><qing4>"``; one syllable per Chinese character."""
    parts = syllables.lower().replace("v", "ü").split()
    bad = [p for p in parts if not _SYLLABLE.fullmatch(p)]
    if bad:
        raise ConfigError(
            f"{where}: {bad[0]!r} is not a tone-numbered pinyin syllable like 'chong2'"
        )
    chars = _CJK.findall(term)
    if len(chars) != len(parts) or len(chars) != len(term):
        raise ConfigError(
            f"{where}: {term!r} needs exactly one syllable per Chinese character, got {len(parts)}"
        )
    return "".join(f"<{p.replace('ü', 'v')}>" for p in parts)


def _entry(language: str, term: str, value: Any, where: str) -> Entry:
    if isinstance(value, str):
        return Entry(term, value, language)
    if isinstance(value, Mapping) and isinstance(value.get("say"), str):
        case = value.get("case", "sensitive")
        if case not in ("sensitive", "insensitive") or set(value) - {"say", "case"}:
            raise ConfigError(
                f'{where}.{term}: use {{ say = "...", case = "sensitive"|"insensitive" }}'
            )
        return Entry(term, value["say"], language, case == "sensitive")
    raise ConfigError(f'{where}.{term}: expected a string or {{ say = "..." }}')


def parse_lexicon(data: Mapping[str, Any], source: str = "lexicon") -> Lexicon:
    """Build a lexicon from parsed TOML; raises ConfigError naming the bad key."""
    entries: list[Entry] = []
    for language, table in data.items():
        if language not in LANGUAGES or not isinstance(table, Mapping):
            raise ConfigError(
                f"{source}: unknown section [{language}]; use [en], [zh] and [zh.pinyin]"
            )
        for term, value in table.items():
            where = f"{source} [{language}]"
            if term == "pinyin" and language == "zh" and isinstance(value, Mapping):
                entries += [
                    Entry(t, pinyin_markup(t, str(s), f"{where}.pinyin"), "zh", True, True)
                    for t, s in value.items()
                ]
            elif term:
                entries.append(_entry(language, term, value, where))
    return Lexicon(tuple(entries), source)


def load_lexicon(path: str | Path) -> Lexicon:
    """Read a TOML lexicon file; a missing or malformed file is a one-line ConfigError."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"lexicon file not found: {path}; pass an existing TOML file") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read lexicon {path}: {exc}") from None
    return parse_lexicon(data, str(path))
