"""What every built-in writer records: per-run details and warnings in episode.json.

A writer's :meth:`~podcast.writing.Writer.write` returns only a script, so the details of the
run (calls, tokens, cost, mode) travel through :attr:`ReportingWriter.report`, which ``run``
resets before and collects after; the length estimate is added for every script, including
script files that skipped writing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from podcast import Episode, StageContext, Writer

from .length import length_details

__all__ = ["Report", "ReportingWriter"]

DETAILS_KEY = "write.details"


@dataclass(slots=True)
class Report:
    """Details and warnings of one writer run (mutable while the run is in progress)."""

    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class ReportingWriter(Writer):
    """A :class:`Writer` whose runs put details and warnings into episode.json."""

    kind: ClassVar[str] = "write"

    def __init__(self, options: Any = None) -> None:
        super().__init__(options)
        self.report = Report()

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        self.report = Report()
        result = super().run(episode, ctx)
        details = dict(self.report.details)
        if result.script is not None:
            details.update(length_details(result.script, ctx.config.minutes))
        if episode.document is not None and episode.document.kind == "script":
            details["source"] = "script file (not written)"
        result = result.with_meta(**{DETAILS_KEY: details})
        for warning in self.report.warnings:
            result = result.with_warning(warning)
        return result
