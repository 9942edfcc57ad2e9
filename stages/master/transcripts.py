"""Transcripts and chapters timed from the real turn segments of the final file.

WebVTT uses ``<v Name>`` voice spans (Apple's route to named speakers), SRT prefixes the
speaker's name, and the Podcasting 2.0 JSON transcript has one segment per cue with
``speaker/startTime/endTime/body``.  Long turns are split into sentence cues whose times are
shared out by character count, so captions stay readable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["ChapterMark", "Cue", "chapters_json", "clock", "cues", "srt", "transcript_json", "vtt"]

MAX_CUE = 7.0  # seconds; longer turns are split at sentence ends
_SENTENCE = re.compile(r"(?<=[.!?;。！？；…])\s*")


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption: ``[start, end)`` seconds, speaker display name, text."""

    start: float
    end: float
    speaker: str
    text: str


@dataclass(frozen=True, slots=True)
class ChapterMark:
    """A chapter starting at ``start`` seconds (ends where the next starts or at the end)."""

    start: float
    end: float
    title: str


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def _split(start: float, end: float, speaker: str, text: str) -> list[Cue]:
    """Split one turn into sentence cues of at most about MAX_CUE seconds each."""
    parts = _sentences(text)
    if end - start <= MAX_CUE or len(parts) < 2:
        return [Cue(start, end, speaker, " ".join(text.split()))]
    groups, current = [], ""
    per_char = (end - start) / max(1, sum(len(p) for p in parts))
    for part in parts:
        if current and (len(current) + len(part)) * per_char > MAX_CUE:
            groups.append(current)
            current = ""
        current = f"{current} {part}".strip() if current and part[0].isascii() else current + part
    groups.append(current)
    out, cursor = [], start
    total = sum(len(g) for g in groups)
    for i, group in enumerate(groups):
        stop = end if i == len(groups) - 1 else cursor + (end - start) * len(group) / total
        out.append(Cue(cursor, stop, speaker, group))
        cursor = stop
    return out


def cues(turns: Sequence[tuple[float, float, str, str]]) -> list[Cue]:
    """Caption cues from ``(start, end, speaker name, text)`` per turn, in time order."""
    out: list[Cue] = []
    for start, end, speaker, text in sorted(turns):
        out += _split(start, end, speaker, text)
    return out


def clock(seconds: float, comma: bool = False) -> str:
    """``HH:MM:SS.mmm`` (``,`` before the milliseconds when ``comma``, as SRT wants)."""
    millis = max(0, round(seconds * 1000))
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{',' if comma else '.'}{ms:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def vtt(items: Sequence[Cue]) -> str:
    """WebVTT text with ``<v Name>`` voice spans."""
    blocks = ["WEBVTT"]
    for i, cue in enumerate(items, 1):
        name = _escape(cue.speaker).replace(">", "")
        blocks.append(
            f"{i}\n{clock(cue.start)} --> {clock(cue.end)}\n<v {name}>{_escape(cue.text)}"
        )
    return "\n\n".join(blocks) + "\n"


def srt(items: Sequence[Cue]) -> str:
    """SubRip text, each cue prefixed with ``Name:``."""
    blocks = [
        f"{i}\n{clock(c.start, True)} --> {clock(c.end, True)}\n{c.speaker}: {c.text}"
        for i, c in enumerate(items, 1)
    ]
    return "\n\n".join(blocks) + "\n"


def transcript_json(items: Sequence[Cue]) -> dict[str, Any]:
    """Podcasting 2.0 JSON transcript (``version`` 1.0.0, ``segments``)."""
    return {
        "version": "1.0.0",
        "segments": [
            {
                "speaker": c.speaker,
                "startTime": round(c.start, 3),
                "endTime": round(c.end, 3),
                "body": c.text,
            }
            for c in items
        ],
    }


def chapters_json(marks: Sequence[ChapterMark], title: str = "") -> dict[str, Any]:
    """Podcasting 2.0 JSON chapters (``version`` 1.2.0)."""
    payload: dict[str, Any] = {"version": "1.2.0", "chapters": []}
    if title:
        payload["title"] = title
    for mark in marks:
        payload["chapters"].append(
            {"startTime": round(mark.start, 3), "endTime": round(mark.end, 3), "title": mark.title}
        )
    return payload
