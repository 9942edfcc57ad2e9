"""Progress on stderr, as a plugin on the lifecycle hooks (the library never prints).

On a terminal it draws rich progress bars; otherwise (cron, pipes) it prints one plain line
per finished stage, so logs stay readable.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from ..hookspecs import hookimpl
from ..plugins import get_plugins

__all__ = ["RichReporter", "reporting"]

REPORTER_NAME = "_reporter"


class RichReporter:
    """Implements ``stage_started``/``stage_progress``/``stage_finished`` for the CLI."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[str, TaskID] = {}

    @hookimpl
    def stage_started(self, stage: Any, episode: Any) -> None:
        if self.live:
            self.tasks[stage.id] = self.progress.add_task(stage.id, total=None)

    @hookimpl
    def stage_progress(self, stage: Any, completed: float, total: float | None, description: str) -> None:
        task = self.tasks.get(stage.id)
        if task is not None:
            self.progress.update(task, completed=completed, total=total, description=f"{stage.id} {description}")

    @hookimpl
    def stage_finished(self, stage: Any, episode: Any, elapsed: float, cached: bool) -> None:
        task = self.tasks.pop(stage.id, None)
        if task is not None:
            self.progress.remove_task(task)
        note = "reused" if cached else f"{elapsed:.1f} s"
        self.console.print(f"[green]✓[/] {stage.id} ({note})", highlight=False)


@contextlib.contextmanager
def reporting(quiet: bool = False) -> Iterator[None]:
    """Show progress on stderr while the body runs (a no-op when ``quiet``)."""
    if quiet:
        yield
        return
    console = Console(stderr=True)
    handler = RichHandler(console=console, show_time=False, show_path=False)
    logger = logging.getLogger("podcast")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    reporter = RichReporter(console)
    plugins = get_plugins()
    plugins.register(reporter, REPORTER_NAME)
    try:
        with reporter.progress if reporter.live else contextlib.nullcontext():
            yield
    finally:
        plugins.unregister(REPORTER_NAME)
        logger.removeHandler(handler)
