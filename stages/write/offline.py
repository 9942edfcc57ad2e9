"""``offline``: a deterministic two-host dialogue written without any LLM.

Reads ``Episode.document``; writes ``Episode.script`` (one chapter per section).  The host (S1)
has read the source: they open with the title (split at its colon into topic and subtitle),
answer each of the co-host's questions and sum up.  The co-host (S2) asks about each section:
a question built from its heading (sentence-cased) or its content (what a defining sentence
defines, a name or phrase the section keeps coming back to).  The host answers with the
section's key sentences, grouped at sentence boundaries into turns of a speakable length;
between them the co-host asks about the next part's key phrase, echoes a quantity just said,
or reacts.  So the explaining voice (S1) carries most of the words and the asking voice the
short turns.  Connectives follow the text: a lower-case one is glued only onto a
sentence whose first word is a common word (else it stands alone), and a result word (所以,
"That's why") only follows a sentence that gives a cause.  At the end the co-host asks for a summary
and the host gives the document's most central sentences (TextRank); no speaker has two turns
in a row.  Phrases live in ``prompts/offline/<language>.toml``; choices are seeded by the
content, so the same document gives the same script byte for byte.  The length follows
``--minutes`` (or the source, see :mod:`.length`).
"""

from __future__ import annotations

import functools
import tomllib
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

from podcast import Chapter, ConfigError, Document, InputError, Script, Section, Speaker, StageContext, Turn, option

from .base import ReportingWriter
from .extract import central_sentences, key_phrases, key_sentences_within, split_sentences
from .length import UNITS_PER_MINUTE, count_units, episode_minutes, language_name, target_units
from .wording import (
    Casing,
    definition_subject,
    follows_cause,
    heading_kind,
    opens_with_connective,
    quantity,
    split_title,
)

__all__ = ["OfflineWriter"]

SECTION_UNITS = {"en": 50, "zh": 80}  # the least a chapter takes: a question and one answer
TURN_UNITS = {"en": (30, 70), "zh": (50, 120)}  # an answer turn's usual and largest length
SUMMARY_UNITS = {"en": 300, "zh": 500}  # from this target on, the summary takes two sentences
FITS = 4  # rounds of fitting the sentence budget to the target


@dataclass(frozen=True, slots=True)
class OfflineOptions:
    """Options of the offline writer."""

    max_sections: int = option(
        12,
        "at most this many sections become chapters (fewer for short episodes: neighbours are merged)",
    )
    sentences_per_turn: int = option(3, "at most this many source sentences in one answer turn")


def _refuse_translation(document: Document, language: str) -> None:
    """An extractive writer can only speak the source's own language."""
    if document.language and document.language != language:
        source, wanted = language_name(document.language), language_name(language)
        raise ConfigError(
            f"the source is in {source} but the episode is asked in {wanted} (-l {language}); the offline "
            f"writer cannot translate: use an LLM writer (--writer openai with OPENAI_API_KEY or "
            f"OPENAI_BASE_URL, or --writer gemini with GEMINI_API_KEY), or -l {document.language}"
        )


def load_phrases(language: str) -> dict[str, Any]:
    """The phrase table for ``language`` (falls back to English)."""
    name = f"{language if language in UNITS_PER_MINUTE else 'en'}.toml"
    text = resources.files("podcast.prompts").joinpath("offline", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


class OfflineWriter(ReportingWriter):
    """Deterministic extractive dialogue (no key, no network)."""

    name: ClassVar[str] = "offline"
    version: ClassVar[str] = "7"
    Options: ClassVar[type] = OfflineOptions
    rank: ClassVar[int] = 10  # ``auto``'s fallback: always available

    def write(
        self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext
    ) -> Script:
        _refuse_translation(document, language)
        target = target_units(episode_minutes(ctx.config.minutes, document), language)
        limit = min(self.options.max_sections, max(1, target // SECTION_UNITS.get(language, 50)))
        sections = _usable_sections(document, limit if target else self.options.max_sections)
        if not sections:
            raise InputError(f"{document.source} has no text to talk about")
        plan = _Plan(document, sections, language, speakers, self.options.sentences_per_turn, target)
        turns, chapters = _fit(plan, target)
        self.report.details.update(sections=len(sections), mode="extractive")
        return Script(language, turns, speakers, chapters, document.title)


def _fit(plan: _Plan, target: int) -> tuple[tuple[Turn, ...], tuple[Chapter, ...]]:
    """The dialogue whose length comes closest to ``target``: the sentence budget starts at
    the target less the framing and is corrected by the miss, a few rounds."""
    budget = max(1, target - plan.framing())
    drafts = []
    for round_ in range(FITS):
        turns, chapters = plan.compose(budget)
        miss = count_units((t.text for t in turns), plan.language) - target
        drafts.append((abs(miss), round_, (turns, chapters)))
        if abs(miss) <= 0.05 * target:
            break
        budget = max(1, budget - miss)
    return min(drafts)[2]


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


class _Plan:
    """What does not depend on the length: sentences, key phrases, casing, the summary."""

    def __init__(
        self,
        document: Document,
        sections: list[Section],
        language: str,
        speakers: tuple[Speaker, ...],
        per_turn: int,
        target: int,
    ) -> None:
        self.document, self.sections, self.language, self.speakers = document, sections, language, speakers
        self.per_turn = max(1, per_turn)
        self.phrases = load_phrases(language)
        self.casing = Casing.of("\n\n".join(s.text for s in sections))  # headings are no evidence
        self.sentences = [split_sentences(s.text, language) for s in sections]
        self.terms = [
            key_phrases(s.text, [o.text for o in sections if o is not s], language) for s in sections
        ]
        self.measure: Callable[[str], int] = functools.partial(count_units, language=language)
        flat = [s for group in self.sentences for s in group]
        count = 2 if target >= SUMMARY_UNITS.get(language, 300) else 1
        self.central = [flat[i] for i in sorted(central_sentences(flat, count, language))]  # in reading order

    def framing(self) -> int:
        """The units of a dialogue with one sentence a section: what is not the sentences."""
        turns, _ = self.compose(0)
        picked = sum(self.measure(group[0]) for group in self.sentences if group)
        return max(0, count_units((t.text for t in turns), self.language) - picked)

    def compose(self, budget: int) -> tuple[tuple[Turn, ...], tuple[Chapter, ...]]:
        """The whole dialogue with about ``budget`` units of source sentences."""
        dialogue = _Dialogue(self)
        dialogue.open()
        sizes = [sum(map(self.measure, group)) for group in self.sentences]
        total = sum(sizes) or 1
        for index, group in enumerate(self.sentences):
            share = round(budget * sizes[index] / total)
            picked = key_sentences_within(group, share, self.language, self.measure)
            dialogue.section(index, [(i, group[i]) for i in picked])
        dialogue.close(self.central)
        return tuple(dialogue.turns), tuple(dialogue.chapters)

    def chunks(self, picked: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
        """``picked`` grouped at sentence boundaries into answer turns: a turn ends once it
        holds the usual length, and never grows past the largest (unless one sentence does)."""
        usual, largest = TURN_UNITS.get(self.language, TURN_UNITS["en"])
        groups: list[list[tuple[int, str]]] = []
        size = 0
        for index, sentence in picked:
            units = self.measure(sentence)
            if groups and size < usual and size + units <= largest and len(groups[-1]) < self.per_turn:
                groups[-1].append((index, sentence))
                size += units
            else:
                groups.append([(index, sentence)])
                size = units
        return groups


class _Dialogue:
    """Accumulates turns and chapters.  :meth:`say` merges a turn into the previous one of
    the same speaker, so no speaker ever has two turns in a row."""

    def __init__(self, plan: _Plan) -> None:
        self.plan, self.language = plan, plan.language
        # The host explains (most of the words); the co-host asks and reacts.
        self.host, self.cohost = plan.speakers[0], plan.speakers[1]
        self.turns: list[Turn] = []
        self.chapters: list[Chapter] = []
        self.used: dict[str, int] = {}
        self.asked: set[str] = set()
        self.topic, self.subtitle = split_title(plan.document.title)

    # ── words ───────────────────────────────────────────────────────────────────

    def phrase(self, key: str, seed: str, **values: str) -> str:
        """One of ``key``'s phrases, chosen by ``seed`` (content) and never the same twice
        in a row; ``{host}``, ``{cohost}`` and the given values filled in."""
        options = self.plan.phrases[key]
        index = zlib.crc32(seed.encode()) % len(options)
        if len(options) > 1 and self.used.get(key) == index:
            index = (index + 1) % len(options)
        self.used[key] = index
        text = options[index].format(host=self.host.name, cohost=self.cohost.name, **values)
        return text[:1].upper() + text[1:]

    def join(self, *parts: str) -> str:
        return ("" if self.language == "zh" else " ").join(p for p in parts if p)

    def full_stop(self, text: str) -> str:
        """``text`` ending with a full stop where a sentence split at a semicolon left one."""
        return text[:-1] + ("。" if self.language == "zh" else ".") if text.endswith(("；", ";")) else text

    def inline(self, text: str) -> str:
        return text if self.language == "zh" else self.plan.casing.inline(text)

    def lead(self, kind: str, first: str, previous: str) -> tuple[str, str]:
        """A connective of ``kind`` (``answer`` to a question, ``told`` after a request,
        ``add`` after a reaction) for a turn that starts with ``first``; ``previous`` is
        the source sentence just before it.  Returns the connective and the sentence as it
        then reads (first word lower-cased when a glued connective may precede it)."""
        additive = kind == "add"
        if follows_cause(previous, first, self.language):
            kind = "result"
        if opens_with_connective(first, self.language) or (additive and "also" in first.lower().split()[:4]):
            # The sentence brings its own ("However, …", "In 2019, …", "IKAROS also …").
            return ("" if kind in ("add", "result") else self.phrase(f"{kind}_alone", first)), first
        glued = first if self.language == "zh" or kind == "told" else self.plan.casing.after_connective(first)
        if glued is None or kind == "told":  # a name the document cannot vouch for: no glue
            return self.phrase("add_alone" if kind in ("add", "result") else f"{kind}_alone", first), first
        return self.phrase(f"{kind}_glued", first), glued

    # ── turns ───────────────────────────────────────────────────────────────────

    def say(self, speaker: Speaker, text: str) -> None:
        text = text.strip()
        if self.turns and self.turns[-1].speaker == speaker.id:
            self.turns[-1] = Turn(speaker.id, self.join(self.turns[-1].text, text))
        else:
            self.turns.append(Turn(speaker.id, text))

    def answer(self, chunk: list[tuple[int, str]], kind: str, sentences: list[str], opener: str = "") -> None:
        index, first = chunk[0]
        previous = sentences[index - 1] if index else ""
        connective, first = self.lead(kind, first, previous)
        self.say(self.host, self.full_stop(self.join(opener, connective, first, *(s for _, s in chunk[1:]))))

    def open(self) -> None:
        values = {"topic": self.topic, "subtitle": self.inline(self.subtitle)}
        if not self.topic:
            key = "opening_untitled"
        elif self.topic.endswith(("?", "？")):
            key = "opening_question"  # never "about Why do cats purr?."
        else:
            key = "opening_subtitle" if self.subtitle else "opening"
        self.say(self.host, self.phrase(key, self.plan.document.title, **values))
        self.say(self.cohost, self.phrase("welcome", self.topic))

    def section(self, index: int, picked: list[tuple[int, str]]) -> None:
        sentences = self.plan.sentences[index]
        heading = self.plan.sections[index].heading.strip()
        names = self.plan.phrases["names"]
        chapter = heading or (names["intro_heading"] if index == 0 else names["part_heading"].format(number=index + 1))
        self.chapters.append(Chapter(len(self.turns), chapter))
        chunks = self.plan.chunks(picked)
        question = self.question(index, heading, " ".join(s for _, s in chunks[0]))
        self.say(self.cohost, question)
        self.answer(chunks[0], "answer" if question.endswith(("?", "？")) else "told", sentences)
        for number, chunk in enumerate(chunks[1:], 1):
            self.between(index, chunks[number - 1], chunk, number, sentences)

    def between(
        self, index: int, before: list[tuple[int, str]], chunk: list[tuple[int, str]], number: int, sentences: list[str]
    ) -> None:
        """The co-host's line between two answer turns, then the host's next turn."""
        text = self.join(*(s for _, s in chunk))
        term = self.term(index, chunk[0][1], before) if number % 2 else ""
        said = quantity(self.join(*(s for _, s in before)), self.language)
        if term:
            self.say(self.cohost, self.phrase("follow_term", text, term=term))
            self.answer(chunk, "answer", sentences)
        elif said and said not in self.asked:
            self.asked.add(said)
            self.say(self.cohost, self.phrase("echo", said, quantity=said))
            self.answer(chunk, "add", sentences, opener=self.phrase("confirm", said))
        else:
            self.say(self.cohost, self.phrase("backchannel", text))
            self.answer(chunk, "add", sentences)

    def term(self, index: int, text: str, before: list[tuple[int, str]] | None = None) -> str:
        """The section's best key phrase that ``text`` says and ``before`` does not, not yet
        asked about, and not the heading's own words."""
        heading = self.plan.sections[index].heading.lower()
        said = " ".join(s for _, s in before or []).lower()
        for phrase in self.plan.terms[index]:
            core = phrase.removeprefix("the ")
            if phrase in self.asked or core.lower() in heading or core.lower() in said:
                continue
            if core.lower() in text.lower():
                self.asked.add(phrase)
                return phrase
        return ""

    def question(self, index: int, heading: str, first: str) -> str:
        """The co-host's line that opens section ``index``: a transition and a question built
        from the heading or from the first answer's content."""
        where = "_first" if index == 0 else "_last" if index == len(self.plan.sections) - 1 > 0 else ""
        kind = heading_kind(heading, self.language)
        inline = self.inline(heading)
        # a question that names the heading is its own transition; only the last part is announced
        move = self.phrase(f"move{where}", heading) if where == "_last" else ""
        if kind == "question":
            return self.join(move, heading)
        if kind in ("gerund", "wh"):
            return self.join(move, self.phrase(f"ask_{kind}", heading, heading=inline))
        if kind == "noun":
            enter = self.phrase(f"enter{where}", heading, heading=inline)
        else:
            enter = self.phrase(f"move{where}", first)
        subject, verb = definition_subject(first) if self.language == "en" else ("", "")
        if subject and index == 0:  # right after the welcome: the definition is the way in
            self.asked.add(f"the {subject.split(' ', 1)[-1]}")
            return self.phrase("ask_definition", first, subject=subject, verb=verb)
        term = self.term(index, first)
        if term and (self.language != "zh" or term.startswith("《")):
            return self.join(enter, self.phrase("ask_term", first, term=term))
        return self.join(enter, self.phrase("ask_open" if kind == "noun" else "ask_untitled", first))

    def close(self, central: list[str]) -> None:
        """The co-host asks for a summary, the host gives it, the co-host thanks them and the
        host says goodbye."""
        seed = self.topic or self.plan.document.title
        self.say(self.cohost, self.phrase("ask_summary", seed))
        self.say(self.host, self.join(self.phrase("summary", seed), *map(self.full_stop, central)))
        self.say(self.cohost, self.phrase("summary_reply", seed))
        self.say(self.host, self.phrase("goodbye", seed))
