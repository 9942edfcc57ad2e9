"""Progress and warnings on stderr, as a plugin on the lifecycle hooks (the library never prints).

On a terminal it draws one live line per running stage: a spinner and the elapsed time while
the amount of work is unknown, a bar with ``done/total`` and an ETA once the stage reports a
total (synthesis turns, mastering steps).  Otherwise (cron, pipes, log files) it prints one
plain line per finished stage and nothing else, so logs stay readable.  Every warning an
episode collects (writer or synthesizer fallback, a length miss, a language mismatch) is
printed once, as one ``warning: …`` line, as soon as it appears.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import IO, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ..hookspecs import hookimpl
from ..plugins import get_plugins

__all__ = ["Reporter", "reported_warnings", "reporting"]

REPORTER_NAME = "_reporter"
_seen: list[str] = []  # the warnings told during the current (or last) command


def reported_warnings() -> list[str]:
    """The warnings told during the current command (for ``--json`` on failure)."""
    return list(_seen)


class _KnownBar(BarColumn):
    """A bar only once the total is known (a spinner says "working" before that)."""

    def render(self, task: Task) -> Any:
        return BarColumn.render(self, task) if task.total is not None else Text("")


class _Count(ProgressColumn):
    """``done/total`` once the total is known."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{task.completed:.0f}/{task.total:.0f}")


class _Eta(ProgressColumn):
    """``ETA m:ss`` for work counted in many like units (turns, blocks) once some are done;
    none for a few unlike steps, whose average says nothing about the next one."""

    max_refresh = 1.0
    min_units = 5

    def render(self, task: Task) -> Text:
        remaining = task.time_remaining
        if (task.total or 0) < self.min_units or not task.completed or remaining is None or task.finished:
            return Text("")
        minutes, seconds = divmod(int(round(remaining)), 60)
        return Text(f"ETA {minutes}:{seconds:02d}", style="progress.remaining")


class Reporter:
    """Implements ``stage_started``/``stage_progress``/``stage_finished`` for the CLI."""

    def __init__(self, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, stderr=stream is None)
        self.live = self.console.is_terminal if live is None else live
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            _KnownBar(bar_width=24),
            _Count(),
            TimeElapsedColumn(),
            _Eta(),
            console=self.console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}

    # ── output ──────────────────────────────────────────────────────────────────

    def line(self, text: str) -> None:
        """One plain line on stderr (above the live display on a terminal)."""
        if self.live:
            self.console.print(Text(text), soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def warn(self, warnings: Any) -> None:
        """Tell each warning not told yet, one line each."""
        for message in warnings or ():
            if message not in _seen:
                _seen.append(message)
                self.line(f"warning: {' '.join(str(message).split())}")

    # ── hooks ───────────────────────────────────────────────────────────────────

    @hookimpl
    def stage_started(self, stage: Any, episode: Any) -> None:
        self.warn(getattr(episode, "warnings", ()))
        if self.live:
            self.tasks[stage.id] = self.progress.add_task(stage.id, total=None)

    @hookimpl
    def stage_progress(self, stage: Any, completed: float, total: float | None, description: str) -> None:
        task = self.tasks.get(stage.id)
        if task is None:
            return
        label = f"{stage.id} {description}".strip()
        if total is None:
            self.progress.update(task, description=label)
        else:
            # counted units (turns, steps) are few: draw each one, even a short one
            self.progress.update(task, completed=completed, total=total, description=label, refresh=True)

    @hookimpl
    def stage_finished(self, stage: Any, episode: Any, elapsed: float, cached: bool) -> None:
        task = self.tasks.pop(stage.id, None)
        if task is not None:
            self.progress.remove_task(task)
        note = "reused" if cached else f"{elapsed:.1f} s"
        self.line(f"✓ {stage.id} ({note}){_estimate(stage, episode)}")
        voices = (getattr(episode, "meta", None) or {}).get(f"{stage.kind}.details", {}).get("voices")
        if voices and not cached:
            self.line(f"  voices: {voices}")  # who speaks each host (engine:voice)
        self.warn(getattr(episode, "warnings", ()))


def _estimate(stage: Any, episode: Any) -> str:
    """``: about 4.2 min in 31 turns`` after a stage that recorded a length estimate (the
    writer), so the length is said before synthesis starts."""
    meta = getattr(episode, "meta", None) or {}
    details = meta.get(f"{stage.kind}.details") or {}
    minutes, turns = details.get("estimated_minutes"), details.get("turns")
    if minutes is None or turns is None:
        return ""
    return f": about {minutes:.1f} min in {turns} turns"


class _LineHandler(logging.Handler):
    """Logged warnings and errors as plain one-line ``warning: …`` lines through the reporter
    (no padding); chatter below that level stays out of the one-line-per-stage log."""

    def __init__(self, reporter: Reporter) -> None:
        super().__init__(logging.WARNING)
        self.reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = " ".join(record.getMessage().split())
        except Exception:  # a bad format string in a log call must not end the run
            message = str(record.msg)
        self.reporter.line(f"warning: {message}")


@contextlib.contextmanager
def reporting(quiet: bool = False) -> Iterator[Reporter | None]:
    """Show progress and warnings on stderr while the body runs (nothing when ``quiet``)."""
    _seen.clear()
    if quiet:
        yield None
        return
    reporter = Reporter()
    handler = _LineHandler(reporter)
    logger = logging.getLogger("podcast")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(min(level or logging.WARNING, logging.WARNING))
    plugins = get_plugins()
    plugins.register(reporter, REPORTER_NAME)
    try:
        with reporter.progress if reporter.live else contextlib.nullcontext():
            yield reporter
    finally:
        plugins.unregister(REPORTER_NAME)
        logger.removeHandler(handler)
        logger.setLevel(level)
