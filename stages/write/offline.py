"""``offline``: a deterministic two-host dialogue written without any LLM.

The host opens with the title, asks about each section (one chapter per section), and the
guest answers with that section's key sentences, picked by an extractive scorer and joined
with connective phrases; the host adds short backchannels between the guest's points.  The
length follows ``--minutes`` (about 150 words or 250 characters per minute).  Phrases live
in ``prompts/offline/<language>.toml``.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from podcast import Chapter, Document, InputError, Script, Section, Speaker, StageContext, Turn, option

from .base import ReportingWriter
from .extract import document_terms, key_sentences, key_sentences_within, split_sentences, top_term
from .length import UNITS_PER_MINUTE, count_units, target_units

__all__ = ["OfflineWriter"]

FRAMING_UNITS = {"en": 60, "zh": 100}  # opening, closing and one question, roughly
SECTION_UNITS = {"en": 50, "zh": 80}  # the least a chapter takes: a question and one answer


@dataclass(frozen=True, slots=True)
class OfflineOptions:
    """Options of the offline writer."""

    max_sections: int = option(
        12,
        "at most this many sections become chapters (fewer for short episodes: neighbours are merged)",
    )
    sentences_per_turn: int = option(2, "key sentences the guest says per turn")


def load_phrases(language: str) -> dict[str, Any]:
    """The phrase table for ``language`` (falls back to English)."""
    name = f"{language if language in UNITS_PER_MINUTE else 'en'}.toml"
    text = resources.files("podcast.prompts").joinpath("offline", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


class OfflineWriter(ReportingWriter):
    """Deterministic extractive dialogue (no key, no network)."""

    name: ClassVar[str] = "offline"
    version: ClassVar[str] = "3"
    Options: ClassVar[type] = OfflineOptions
    rank: ClassVar[int] = 10  # ``auto``'s fallback: always available

    def write(
        self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext
    ) -> Script:
        target = target_units(ctx.config.minutes, language) if ctx.config.minutes > 0 else 0
        limit = (
            self.options.max_sections
            if not target
            else min(self.options.max_sections, max(1, target // SECTION_UNITS.get(language, 50)))
        )
        sections = _usable_sections(document, limit)
        if not sections:
            raise InputError(f"{document.source} has no text to talk about")
        composer = _Composer(load_phrases(language), language, speakers, document.title)
        budgets = _section_budgets(sections, target, language)
        context = document_terms([s.text for s in sections], language)
        measure = functools.partial(count_units, language=language)
        composer.open()
        for index, (section, budget) in enumerate(zip(sections, budgets, strict=True)):
            sentences = split_sentences(section.text, language)
            picked = key_sentences_within(sentences, budget, language, measure, context)
            composer.section(
                index,
                section.heading,
                picked,
                self.options.sentences_per_turn,
                top_term(section.text, language),
            )
        composer.close(key_sentences(split_sentences(document.text, language), 1, language))
        self.report.details.update(sections=len(sections), mode="extractive")
        return Script(
            language, tuple(composer.turns), speakers, tuple(composer.chapters), document.title
        )


def _section_budgets(sections: list[Section], target: int, language: str) -> list[int]:
    """Each section's share of the spoken budget, by its length (framing turns excluded)."""
    framing = FRAMING_UNITS.get(language, 60)
    spoken = max(0, target - framing - len(sections) * framing // 4)
    sizes = [count_units(s.text, language) for s in sections]
    total = sum(sizes) or 1
    return [round(spoken * size / total) for size in sizes]


def _usable_sections(document: Document, limit: int) -> list[Section]:
    sections = [s for s in document.sections if s.text.strip()]
    if len(sections) <= limit:
        return sections
    # Too many: merge neighbours so every part of the document is still covered.
    size = -(-len(sections) // limit)
    merged = []
    for start in range(0, len(sections), size):
        group = sections[start : start + size]
        merged.append(Section(group[0].heading, "\n\n".join(s.text for s in group)))
    return merged


class _Composer:
    """Accumulates turns and chapters; picks phrases round-robin so output is deterministic."""

    def __init__(
        self, phrases: dict[str, Any], language: str, speakers: tuple[Speaker, ...], title: str
    ) -> None:
        self.phrases, self.language, self.title = phrases, language, title
        self.host, self.guest = speakers[0], speakers[1]
        self.turns: list[Turn] = []
        self.chapters: list[Chapter] = []
        self.counters: dict[str, int] = {}

    def phrase(self, key: str, **values: str) -> str:
        options = self.phrases[key]
        index = self.counters.get(key, 0)
        self.counters[key] = index + 1
        return options[index % len(options)].format(
            title=self.title, host=self.host.name, guest=self.guest.name, **values
        )

    def say(self, speaker: Speaker, text: str) -> None:
        self.turns.append(Turn(speaker.id, text.strip()))

    def open(self) -> None:
        self.say(self.host, self.phrase("opening"))
        self.say(self.guest, self.phrase("welcome"))

    def section(
        self, index: int, heading: str, sentences: list[str], per_turn: int, topic: str = ""
    ) -> None:
        title = heading or (self.phrases["intro_heading"] if index == 0 else "")
        self.chapters.append(
            Chapter(len(self.turns), title or self.phrases["part_heading"].format(number=index + 1))
        )
        if title:
            self.say(
                self.host,
                self.phrase(
                    "first_question" if index == 0 else "question",
                    heading=_lower_first(title) if self.language == "en" else title,
                ),
            )
        elif topic:
            self.say(self.host, self.phrase("question_topic", topic=topic))
        else:
            self.say(self.host, self.phrase("question_untitled"))
        for start in range(0, len(sentences), per_turn):
            if start:
                self.say(
                    self.host, self.phrase("backchannel" if start // per_turn % 2 else "follow_up")
                )
            body = (
                " ".join(sentences[start : start + per_turn])
                if self.language == "en"
                else "".join(sentences[start : start + per_turn])
            )
            joiner = " " if self.language == "en" else ""
            connective = self.phrase("connective")
            if self.language == "en":
                body = _lower_first(body)
            self.say(self.guest, f"{connective}{joiner}{body}")

    def close(self, point: list[str]) -> None:
        if point:
            self.say(self.host, self.phrase("summary", point=point[0]))
        self.say(self.host, self.phrase("closing"))
        self.say(self.guest, self.phrase("goodbye"))


# Sentence starters that are ordinary words (safe to lower-case after a connective or inside
# a question); anything else may be a name ("Japan's", "Kepler") and keeps its capital.
_COMMON_STARTERS = frozenset(
    ["a", "an", "the", "this", "that", "these", "those", "it", "its", "in", "on", "at", "for", "from", "with", "by", "as", "after", "before", "during", "when", "while", "if", "so", "but", "and", "or", "what", "why", "how", "who", "where", "which", "there", "here", "some", "many", "most", "each", "every", "one", "two", "three", "other", "another", "such", "our", "their", "his", "her", "we", "they", "you", "i'm"]
)


def _lower_first(text: str) -> str:
    """Lower-case the first word when it is a common word, so it can follow a connective
    ("Well, a solar sail…") or sit inside a question ("…about what comes next?")."""
    first, _, rest = text.partition(" ")
    if first.lower() in _COMMON_STARTERS and first[:1].isupper() and first != "I":
        return first.lower() + (" " + rest if rest else "")
    return text
