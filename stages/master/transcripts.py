"""Transcripts and chapters timed from the real turn segments of the final file.

WebVTT uses ``<v Name>`` voice spans (Apple's route to named speakers), SRT prefixes the
speaker's name, and the Podcasting 2.0 JSON transcript has one segment per cue with
``speaker/startTime/endTime/body``.  Long turns are split into cues of at most two lines of
about 42 columns and about 7 s (caption guidelines), at sentence ends first, then at
clauses, then between words, their times shared out by width.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ChapterMark",
    "Cue",
    "chapters_json",
    "clock",
    "cues",
    "lines",
    "srt",
    "transcript_json",
    "vtt",
    "width",
]

MAX_CUE = 7.0  # seconds a cue may stay on screen
LINE = 42  # display columns per caption line (a wide CJK character takes two)
LINES = 2  # lines per cue
_SENTENCE = re.compile(r"(?<=[.!?;。！？；…])\s*")
_CLAUSE = re.compile(r"(?<=[,:，：、—–])\s*")
_WIDE = (  # East Asian wide and fullwidth ranges
    "\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6"
)
_PAUSE = re.compile(r"[.!?;:,…—–。！？；：，、]$")
_TOKEN = re.compile(f"[{_WIDE}]|[^\\s{_WIDE}]+")


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


def width(text: str) -> int:
    """Display columns of ``text``: two for each wide (CJK) character, one otherwise."""
    return len(text) + len(re.findall(f"[{_WIDE}]", text))


def _join(left: str, right: str) -> str:
    """Two pieces of text joined as writing wants: a space between two Latin-script
    words, none next to a wide character."""
    if not left or not right:
        return left + right
    wide = re.compile(f"[{_WIDE}]")
    glue = "" if wide.match(left[-1]) or wide.match(right[0]) else " "
    return left + glue + right


def _split_at(pattern: re.Pattern[str], text: str) -> list[str]:
    return [part.strip() for part in pattern.split(text) if part.strip()]


def _words(text: str, columns: int) -> list[str]:
    """``text`` cut at word (or wide-character) boundaries into runs of at most
    ``columns`` (a single longer word stays whole)."""
    runs: list[str] = []
    for token in _TOKEN.findall(text):
        if runs and width(_join(runs[-1], token)) <= columns:
            runs[-1] = _join(runs[-1], token)
        else:
            runs.append(token)
    return runs


def _pieces(text: str, fits: Callable[[str], bool]) -> list[tuple[int, bool, str]]:
    """The smallest pieces a turn is cut into, as ``(sentence number, whole sentence,
    text)``: sentences; a sentence that does not ``fits`` in one cue is cut at its
    clauses, and a clause that still does not at words."""
    out: list[tuple[int, bool, str]] = []
    for number, sentence in enumerate(_split_at(_SENTENCE, text)):
        if fits(sentence):
            out.append((number, True, sentence))
            continue
        for clause in _split_at(_CLAUSE, sentence):
            parts = [clause] if fits(clause) else _words(clause, LINE * LINES)
            out += [(number, False, part) for part in parts]
    return out


def _split(start: float, end: float, speaker: str, text: str) -> list[Cue]:
    """Split one turn into cues of at most LINES lines of LINE columns and about MAX_CUE
    seconds: whole sentences go together while they fit, a sentence too long for one cue
    is cut at clauses (then between words) and its parts go together, so a cue never ends
    inside a sentence it did not start; times are shared out by width."""
    text = " ".join(text.split())
    per_column = (end - start) / max(1, width(text))

    def fits(piece: str) -> bool:
        columns = width(piece)
        return columns <= LINE * LINES and columns * per_column <= MAX_CUE

    if fits(text) or not text:
        return [Cue(start, end, speaker, text)]
    groups: list[tuple[int, bool, str]] = []
    for number, whole, piece in _pieces(text, fits):
        if groups:
            last_number, _, last = groups[-1]
            # a whole sentence may follow anything (a cue then ends where a sentence
            # does); the parts of a cut sentence go only with one another
            if (whole or number == last_number) and fits(_join(last, piece)):
                groups[-1] = (number, whole, _join(last, piece))
                continue
        groups.append((number, whole, piece))
    out, cursor = [], start
    shares = [width(g) for _, _, g in groups]
    for i, (_, _, group) in enumerate(groups):
        stop = end if i == len(groups) - 1 else cursor + (end - start) * shares[i] / sum(shares)
        out.append(Cue(cursor, stop, speaker, group))
        cursor = stop
    return out


def lines(text: str) -> list[str]:
    """A cue's text on at most LINES lines of about LINE columns: one line when it fits,
    else two broken at the word boundary that makes them most even."""
    if width(text) <= LINE:
        return [text]
    tokens = _TOKEN.findall(text)
    best: tuple[tuple[bool, bool, int], list[str]] | None = None
    for cut in range(1, len(tokens)):
        first, second = "", ""
        for token in tokens[:cut]:
            first = _join(first, token)
        for token in tokens[cut:]:
            second = _join(second, token)
        worst = max(width(first), width(second))
        # both lines fitting first, then a break after punctuation, then even lines
        rank = (worst > LINE, not _PAUSE.search(first), worst)
        if best is None or rank < best[0]:
            best = (rank, [first, second])
    return best[1] if best else [text]


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
    """WebVTT text with ``<v Name>`` voice spans, each cue on at most two lines."""
    blocks = ["WEBVTT"]
    for i, cue in enumerate(items, 1):
        name = _escape(cue.speaker).replace(">", "")
        body = "\n".join(_escape(line) for line in lines(cue.text))
        blocks.append(f"{i}\n{clock(cue.start)} --> {clock(cue.end)}\n<v {name}>{body}")
    return "\n\n".join(blocks) + "\n"


def srt(items: Sequence[Cue]) -> str:
    """SubRip text, each cue prefixed with ``Name:``, on at most two lines."""
    blocks = [
        f"{i}\n{clock(c.start, True)} --> {clock(c.end, True)}\n{c.speaker}: "
        + "\n".join(lines(c.text))
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
