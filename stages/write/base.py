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

from .length import episode_minutes, length_details, source_minutes, within

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
        wrote = bool(self.report.details)  # empty: a script file or a kept hand edit, not written here
        details = dict(self.report.details)
        document = episode.document
        if result.script is not None:
            minutes = episode_minutes(ctx.config.minutes, document) if wrote else ctx.config.minutes
            details.update(length_details(result.script, minutes))
            details["minutes_from"] = "--minutes" if ctx.config.minutes else "source"
            if wrote and not within(details["units"], details["target_units"]):
                self.report.warnings.append(_length_miss(details, document))
        if document is not None and document.kind == "script":
            details["source"] = "script file (not written)"
        result = result.with_meta(**{DETAILS_KEY: details})
        for warning in self.report.warnings:
            result = result.with_warning(warning)
        return result


def _length_miss(details: dict[str, Any], document: Any) -> str:
    """One line: how long the script came out against the length asked, and why it may miss."""
    asked = "asked" if details["minutes_from"] == "--minutes" else "planned from the source"
    line = (
        f"write: the script is about {details['estimated_minutes']:.1f} min "
        f"({details['units']} {details['unit']}), {details['length_ratio']:.0%} of the "
        f"{details['target_minutes']:g} min {asked}"
    )
    if document is not None and details["length_ratio"] < 1:
        line += f"; the source has about {source_minutes(document):.1f} min of text"
    return line
