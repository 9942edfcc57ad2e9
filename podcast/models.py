"""The typed, immutable data model that flows through the pipeline.

``source ─ingest→ Document ─write→ Script ─normalize→ Script ─synthesize→ Rendering ─master→ files``

Every class is a frozen, slotted dataclass; stages derive new values with
:func:`dataclasses.replace` and never mutate.  Audio never lives in these objects:
a :class:`Rendering` points at clip files in the run directory, so long episodes stay cheap.
All times are in seconds, all sample rates in Hz.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "Chapter",
    "Clip",
    "Document",
    "Episode",
    "Outputs",
    "Rendering",
    "Script",
    "Section",
    "Segment",
    "Speaker",
    "StageRecord",
    "Turn",
    "Voice",
    "content_hash",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


def content_hash(*parts: str | bytes) -> str:
    """Return a stable hex SHA-256 over ``parts`` (each length-prefixed, so order and
    boundaries matter).  Used for cache keys and run-directory names."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def frozen_mapping(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``items`` for ``meta`` fields."""
    return MappingProxyType(dict(items or {}))


# ── Document ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Section:
    """One part of a document: a heading (may be empty) and its plain text."""

    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """The extracted source.

    ``kind`` is ``url``, ``pdf``, ``text``, ``markdown``, ``script`` (an already written
    ``[S1]…`` script), ``multi`` (several sources merged) or a plugin's own kind.
    ``metadata`` holds optional facts such as ``author``, ``date``, ``url``, ``pages``.
    """

    source: str
    kind: str
    title: str
    sections: tuple[Section, ...]
    language: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    @property
    def text(self) -> str:
        """All section texts joined by blank lines (headings included as lines)."""
        parts = []
        for section in self.sections:
            if section.heading:
                parts.append(section.heading)
            if section.text:
                parts.append(section.text)
        return "\n\n".join(parts)

    @property
    def hash(self) -> str:
        """Content hash over kind, title and sections (not the source path)."""
        flat = [self.kind, self.title]
        for section in self.sections:
            flat += [section.heading, section.text]
        return content_hash(*flat)


# ── Script ──────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Voice:
    """How an engine should sound for one speaker.

    Cloning engines use ``ref_audio`` with its *exact* ``ref_text``; preset engines use
    ``preset`` (e.g. an espeak voice name or an OpenAI voice).  ``style`` is a speaking style
    in words (``[speakers.S1] style = "..."``) for engines that take instructions; others
    ignore it.
    """

    preset: str | None = None
    ref_audio: Path | None = None
    ref_text: str | None = None
    style: str | None = None

    @property
    def key(self) -> str:
        """Hash of everything that changes the sound (file bytes, not the path)."""
        audio = self.ref_audio.read_bytes() if self.ref_audio else b""
        styled = ("style", self.style) if self.style else ()
        return content_hash(self.preset or "", audio, self.ref_text or "", *styled)


@dataclass(frozen=True, slots=True)
class Speaker:
    """A host: id ``S1``…``Sn``, display name and role.  How a speaker sounds (its
    :class:`Voice`) is not part of the script: it comes from the config to the synthesize
    stage (``Config.voices``), so changing a voice never rewrites the script."""

    id: str
    name: str
    role: str = ""


@dataclass(frozen=True, slots=True)
class Turn:
    """One speaker turn.  ``text`` never contains speaker tags."""

    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter starts at turn ``turn`` (index into ``Script.turns``)."""

    turn: int
    title: str


_TAG = re.compile(r"\[(S\d+)\]")


@dataclass(frozen=True, slots=True)
class Script:
    """An ordered two-(or more-)host dialogue.

    The canonical text form is the MOSS-TTSD form ``[S1]text[S2]text…``; the editable file
    form (:meth:`to_file_text`) puts one turn per line, chapter marks as ``## title`` lines
    and the title as a ``# title`` line.
    """

    language: str
    turns: tuple[Turn, ...]
    speakers: tuple[Speaker, ...] = ()
    chapters: tuple[Chapter, ...] = ()
    title: str = ""

    def moss_text(self) -> str:
        """``[S1]text[S2]text…`` with no separators (the MOSS-TTSD input form)."""
        return "".join(f"[{t.speaker}]{t.text}" for t in self.turns)

    def to_file_text(self) -> str:
        """The editable file form: ``# title``, ``## chapter`` lines and one ``[Sn]`` turn per line."""
        starts = {c.turn: c.title for c in self.chapters}
        lines = [f"# {self.title}"] if self.title else []
        for index, turn in enumerate(self.turns):
            if index in starts:
                lines.append(f"## {starts[index]}")
            lines.append(f"[{turn.speaker}]{turn.text}")
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str, language: str, speakers: tuple[Speaker, ...] = ()) -> Script:
        """Parse the file form or a one-string ``[S1]…[S2]…`` script.

        Text before the first tag is ignored only if it is a ``#`` line; lines starting with
        ``## `` become chapter marks for the next turn.  Raises ``ValueError`` when no tagged
        turn is found.
        """
        title, turns, chapters = "", [], []
        for raw in text.replace("\r\n", "\n").split("\n"):
            line = raw.strip()
            if line.startswith("## "):
                chapters.append(Chapter(len(turns), line[3:].strip()))
            elif line.startswith("# ") and not title and not turns:
                title = line[2:].strip()
            elif line:
                turns.extend(_split_tagged(line, turns))
        if not turns:
            raise ValueError("no [S1]/[S2] turns found")
        chapters = [c for c in chapters if c.turn < len(turns)]
        return cls(language, tuple(turns), speakers, tuple(chapters), title)

    @property
    def hash(self) -> str:
        """Content hash over language, turns and chapters (speaker voices excluded)."""
        return content_hash(self.language, self.to_file_text())


def _split_tagged(line: str, previous: list[Turn]) -> Iterable[Turn]:
    """Split one line into turns; untagged text continues the previous turn."""
    pieces = _TAG.split(line)
    head = pieces[0].strip()
    if head:
        if not previous:
            raise ValueError(f"text before the first speaker tag: {head[:40]!r}")
        last = previous.pop()
        previous.append(replace(last, text=f"{last.text} {head}".strip()))
    for speaker, body in zip(pieces[1::2], pieces[2::2], strict=True):
        yield Turn(speaker, body.strip())


# ── Audio ───────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Clip:
    """One synthesized audio file holding one turn (per-turn engines) or a block of turns
    (dialogue engines).  ``spans[i]`` is ``(start, end)`` in seconds *within the clip* of
    turn ``turns[i]``."""

    path: Path
    sample_rate: int
    turns: tuple[int, ...]
    spans: tuple[tuple[float, float], ...]
    key: str = ""


@dataclass(frozen=True, slots=True)
class Rendering:
    """The synthesized, unmastered episode: clips on disk at one sample rate."""

    engine: str
    sample_rate: int
    clips: tuple[Clip, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """Where turn ``turn`` (spoken by ``speaker``) sits in the final deliverable."""

    turn: int
    speaker: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Outputs:
    """Deliverables of the master stage; ``files`` maps a role (``audio``, ``vtt``, ``srt``,
    ``transcript_json``, ``chapters_json``…) to a path in the run directory."""

    audio: Path
    duration: float
    files: Mapping[str, Path] = field(default_factory=lambda: _EMPTY)
    report: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


# ── Episode ─────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class StageRecord:
    """What one stage did: implementation, inputs, outputs, timing (goes to episode.json)."""

    kind: str
    name: str
    plugin: str
    version: str
    key: str
    inputs: Mapping[str, str]
    outputs: tuple[str, ...]
    elapsed: float
    cached: bool
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Episode:
    """Everything known about one episode; each stage returns a new one.

    ``run_dir`` is the episode folder (set once ingest has named it).  ``meta`` is a
    read-only mapping for plugin data; use :meth:`with_meta` to add to it.
    """

    sources: tuple[str, ...]
    language: str | None = None
    run_dir: Path | None = None
    document: Document | None = None
    script: Script | None = None
    normalized: Script | None = None
    rendering: Rendering | None = None
    segments: tuple[Segment, ...] = ()
    outputs: Outputs | None = None
    records: tuple[StageRecord, ...] = ()
    warnings: tuple[str, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)

    def with_meta(self, **items: Any) -> Episode:
        """A copy with ``items`` merged into ``meta``."""
        return replace(self, meta=frozen_mapping({**self.meta, **items}))

    def with_warning(self, message: str) -> Episode:
        """A copy with one more warning (recorded in episode.json)."""
        return replace(self, warnings=(*self.warnings, message))

    def path(self, name: str) -> Path:
        """``run_dir / name``; raises ``RuntimeError`` before the run directory exists."""
        if self.run_dir is None:
            raise RuntimeError("the episode has no run directory yet")
        return self.run_dir / name
