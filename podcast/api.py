"""Library entry points behind the CLI commands (usable from Python directly)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .config import Config
from .models import Document, Episode
from .pipeline import build_pipeline, ingest_sources
from .plugins import Plugins
from .serialize import to_jsonable

__all__ = ["episode_summary", "ingest", "make_episode", "plugin_listing", "stage_listing"]


def _registry(plugins: Plugins | None) -> Plugins:
    """The caller's registry, or a freshly loaded one (the CLI passes its own)."""
    return plugins if plugins is not None else Plugins().load()


def make_episode(
    sources: Sequence[str], config: Config, plugins: Plugins | None = None, until: str | None = None
) -> Episode:
    """Run the whole configured pipeline over ``sources`` and return the finished episode."""
    pipeline = build_pipeline(config, _registry(plugins))
    return pipeline.run(sources, until=until)


def ingest(sources: Sequence[str], config: Config, plugins: Plugins | None = None) -> Document:
    """Only the ingest step: the extracted document (no run directory is created)."""
    pipeline = build_pipeline(config, _registry(plugins))
    ctx = pipeline.context()
    for ingester in pipeline.ingesters:
        ingester.check(ctx)
    document = ingest_sources(pipeline.ingesters, sources, ctx)
    return document


def episode_summary(episode: Episode) -> dict[str, Any]:
    """The one JSON object ``podcast-gen … --json`` prints."""
    outputs = episode.outputs
    return {
        "episode_dir": str(episode.run_dir) if episode.run_dir else None,
        "title": episode.document.title if episode.document else None,
        "language": episode.language,
        "turns": len(episode.script.turns) if episode.script else 0,
        "audio": str(outputs.audio) if outputs else None,
        "duration": round(outputs.duration, 3) if outputs else None,
        "files": {k: str(v) for k, v in outputs.files.items()} if outputs else {},
        "script": str(episode.path("script.txt")) if episode.run_dir and episode.script else None,
        "report": to_jsonable(outputs.report) if outputs else {},
        "stages": [
            {
                "kind": r.kind,
                "name": r.name,
                "elapsed": r.elapsed,
                "cached": r.cached,
                "details": to_jsonable(r.details),
            }
            for r in episode.records
        ],
        "warnings": list(episode.warnings),
    }


def plugin_listing(plugins: Plugins | None = None) -> list[dict[str, Any]]:
    """Every loaded plugin: name, version, built-in or not, hooks, stages."""
    return [to_jsonable(info) for info in (_registry(plugins)).info()]


def stage_listing(plugins: Plugins | None = None) -> list[dict[str, Any]]:
    """Every stage implementation with its documented options."""
    from .options import describe_options

    plugins = _registry(plugins)
    rows = []
    for (kind, name), entry in sorted(plugins.stages().items()):
        doc = [" ".join((entry.cls.__doc__ or "").strip().split("\n\n")[0].split())]
        rows.append(
            {
                "kind": kind,
                "name": name,
                "plugin": entry.plugin,
                "summary": doc[0] if doc else "",
                "options": [to_jsonable(o) for o in describe_options(entry.cls.Options)],
            }
        )
    return rows
