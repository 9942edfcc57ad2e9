"""The extend/shorten pass: one round trip (per window of a long script) towards ``--minutes``.

A script longer than one prompt is resized window by window, cut at chapter marks (or between
turns), each window asked to grow or shrink by the same ratio; when growing and it fits, the
source text (or the map-reduce notes) is offered as material so the model adds substance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from podcast import Chapter, Document, Script

from .length import script_units
from .llmbase import REPAIR_MARGIN
from .longdoc import join_scripts

if TYPE_CHECKING:
    from .session import Session

__all__ = ["resize_script"]


def resize_script(session: Session, script: Script, document: Document) -> Script:
    """One extend/shorten pass towards the target, window by window when the script is
    longer than one prompt; source material is offered when growing and it fits."""
    ratio = session.target / max(script_units(script), 1)
    direction = session.book.phrase("longer" if ratio > 1 else "shorter")
    empty = {
        **session.values(session.target),
        "units": 0,
        "unit": session.book.phrase("unit"),
        "direction": direction,
        "script": "",
        "source": "",
    }
    room = (
        session.budget
        - REPAIR_MARGIN
        - len(session.system())
        - len(session.book.fill("resize", empty))
    )
    windows = _windows(script, room // 2 if ratio > 1 else room)
    results = []
    for index, window in enumerate(windows, 1):
        text = window.to_file_text()
        units = script_units(window)
        spare = room - len(text)
        source = (
            f"{session.book.phrase('source')}\n\n{session.material}"
            if ratio > 1 and len(session.material) + 100 < spare
            else ""
        )
        fields = {
            **session.values(round(units * ratio)),
            "units": units,
            "unit": empty["unit"],
            "direction": direction,
            "script": text,
            "source": source,
        }
        prompt = session.book.fill("resize", fields)
        results.append(
            session.ask_script(
                prompt, "resize", whole=len(windows) == 1, label=f"resize {index}/{len(windows)}"
            )
        )
    return join_scripts(results, script.title, session) if len(results) > 1 else results[0]


def _windows(script: Script, limit: int) -> list[Script]:
    """Split at chapter marks (or turns) into scripts whose file text fits ``limit``."""
    starts = sorted({0, *(c.turn for c in script.chapters)})
    bounds = [*starts[1:], len(script.turns)]
    pieces = [
        p
        for a, b in zip(starts, bounds, strict=True)
        if b > a
        for p in _by_turns(_slice(script, a, b), limit)
    ]
    windows: list[Script] = []
    for piece in pieces:
        if windows and len(windows[-1].to_file_text()) + len(piece.to_file_text()) <= limit:
            windows[-1] = _concat(windows[-1], piece)
        else:
            windows.append(piece)
    return windows


def _by_turns(piece: Script, limit: int) -> list[Script]:
    """``piece`` split between turns so each part's file text fits ``limit`` where possible."""
    if len(piece.to_file_text()) <= limit:
        return [piece]
    cuts, size = [0], 0
    for index, turn in enumerate(piece.turns):
        size += len(turn.text) + 6
        if size > limit and index > cuts[-1]:
            cuts.append(index)
            size = len(turn.text) + 6
    return [_slice(piece, a, b) for a, b in zip(cuts, [*cuts[1:], len(piece.turns)], strict=True)]


def _slice(script: Script, start: int, end: int) -> Script:
    chapters = tuple(
        Chapter(c.turn - start, c.title) for c in script.chapters if start <= c.turn < end
    )
    return Script(script.language, script.turns[start:end], script.speakers, chapters, "")


def _concat(first: Script, second: Script) -> Script:
    shifted = tuple(Chapter(c.turn + len(first.turns), c.title) for c in second.chapters)
    return Script(
        first.language, first.turns + second.turns, first.speakers, first.chapters + shifted, ""
    )
