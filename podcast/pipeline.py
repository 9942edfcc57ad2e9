"""Build the configured pipeline and run it over one episode.

``build_pipeline`` resolves every stage by name (or capability for ingest), validates all
options before anything runs, and ``Pipeline.run`` executes the stages in order inside the
episode's run directory, under its lock, checkpointing ``episode.json`` after each stage and
reusing any stage whose cache key matches the previous run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .checks import check_voice_files, check_voice_speakers
from .config import Config
from .errors import ConfigError
from .ingesting import IngestStage, ingest_sources, merge_documents
from .models import Document, Episode, StageRecord, content_hash, frozen_mapping
from .options import build_options
from .plugins import Plugins, StageEntry
from .rendering import SynthesisStage
from .runfiles import atomic_write_json, atomic_write_text, episode_lock, remove_partials, run_dir_name
from .selection import AUTO, Choice, explain_choice
from .serialize import from_jsonable, paths_in, to_jsonable
from .stage import Ingester, Stage, StageContext

__all__ = ["Pipeline", "build_pipeline", "ingest_sources", "merge_documents", "stage_key"]

EPISODE_FILE = "episode.json"
FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Pipeline:
    """Configured stages in order; ``ingesters`` are tried per source by capability."""

    config: Config
    plugins: Plugins
    ingesters: tuple[Ingester, ...]
    stages: tuple[Stage, ...]
    entries: tuple[StageEntry, ...]
    notes: tuple[tuple[str, str], ...] = ()  # (kind, warning) told when that kind's stage starts
    selected: Mapping[str, str] = field(default_factory=dict)  # kind -> why ``auto`` chose it

    def context(self, run_dir: Path | None = None) -> StageContext:
        """The stages' context: config, seed, the registry and the normalization profile the
        selected synthesizer declares (asked once, here)."""
        by_kind = {s.kind: s for s in self.stages}
        synth = by_kind.get("synthesize")
        normalizer = synth.capabilities().normalizer if isinstance(synth, SynthesisStage) else "podcast"
        return StageContext(
            self.config, run_dir, self.config.seed, stages=by_kind, plugins=self.plugins, normalizer=normalizer
        )

    def run(self, sources: Sequence[str], until: str | None = None) -> Episode:
        """Run every stage (or up to and including kind ``until``) and return the episode."""
        self.check_until(until)
        ctx = self.context()
        check_voice_files(self.config)
        for stage in (*self.ingesters, *self.stages):
            stage.check(ctx)
        episode = Episode(tuple(sources), language=self.config.language)
        episode = self._run_stage(IngestStage.for_sources(self.ingesters, sources), episode, None, ctx)
        check_voice_speakers(self.config, episode.document)
        run_dir = self.config.output / run_dir_name(episode.document.title, episode.document.hash)
        with episode_lock(run_dir, self.config.lock_timeout):
            return self._run_locked(replace(episode, run_dir=run_dir), replace(ctx, run_dir=run_dir), until)

    def check_until(self, until: str | None) -> None:
        """Refuse an ``until`` that names no stage kind of this pipeline."""
        kinds = [item.partition(":")[0] for item in self.config.order]
        if until is not None and until not in kinds:
            raise ConfigError(f"--until {until!r} is not a stage of this pipeline; use one of: {', '.join(kinds)}")

    def _run_locked(self, episode: Episode, ctx: StageContext, until: str | None) -> Episode:
        run_dir = ctx.require_run_dir()
        remove_partials(run_dir)
        previous = load_episode(run_dir)
        _save_document(run_dir, episode.document)
        episode = _save(episode)
        if until == "ingest":
            return episode
        for stage in self.stages:
            episode = self._run_stage(stage, episode, previous, ctx)
            _save(episode)
            if stage.kind == until:
                break
        return episode

    def _run_stage(self, stage: Stage, episode: Episode, previous: Episode | None, base: StageContext) -> Episode:
        ctx = replace(base, report=lambda done, total, what: self.plugins.stage_progress(stage, done, total, what))
        key = stage_key(stage, episode, ctx)
        for kind, note in self.notes:
            if kind == stage.kind and note not in episode.warnings:
                episode = episode.with_warning(note)
        self.plugins.stage_started(stage, episode)
        started = time.perf_counter()
        result = _reuse(stage, episode, previous, key, ctx)
        cached = result is not None
        if result is None:
            result = stage.run(episode, ctx)
        elapsed = time.perf_counter() - started
        record = _record(stage, self._plugin_of(stage), key, episode, result, elapsed, cached, self.selected)
        result = replace(result, records=(*result.records, record))
        self.plugins.stage_finished(stage, result, elapsed, cached)
        return result

    def _plugin_of(self, stage: Stage) -> str:
        if isinstance(stage, IngestStage):
            stage = stage.picked[0][0]
        return next((e.plugin for e in self.entries if e.cls is type(stage)), "unknown")


def stage_key(stage: Stage, episode: Episode, ctx: StageContext) -> str:
    """Cache key: stage identity, version, options, salt and a hash of each ``reads`` field."""
    options = json.dumps(to_jsonable(stage.options), sort_keys=True)
    salt = stage.cache_salt(ctx)
    inputs = [f"{name}={_field_hash(getattr(episode, name))}" for name in stage.reads]
    return content_hash(stage.kind, stage.name, stage.version, options, salt, episode.language or "", *inputs)


def _field_hash(value: Any) -> str:
    return content_hash(json.dumps(to_jsonable(value), sort_keys=True, ensure_ascii=False))


def _reuse(stage: Stage, episode: Episode, previous: Episode | None, key: str, ctx: StageContext) -> Episode | None:
    if previous is None:
        return None
    match = [r for r in previous.records if r.kind == stage.kind and r.name == stage.name and r.key == key]
    return stage.reuse(episode, previous, ctx) if match else None


def _record(
    stage: Stage,
    plugin: str,
    key: str,
    before: Episode,
    after: Episode,
    elapsed: float,
    cached: bool,
    selected: Mapping[str, str],
) -> StageRecord:
    inputs = {name: _field_hash(getattr(before, name)) for name in stage.reads}
    outputs = tuple(sorted({str(p) for p in paths_in([getattr(after, n) for n in stage.writes])}))
    details = dict(after.meta.get(f"{stage.kind}.details", {})) if not cached else {"reused": True}
    if stage.kind in selected:
        details["selected"] = selected[stage.kind]
    return StageRecord(
        stage.kind,
        stage.name,
        plugin,
        stage.version,
        key,
        frozen_mapping(inputs),
        outputs,
        round(elapsed, 4),
        cached,
        frozen_mapping(details),
    )


# ── building ────────────────────────────────────────────────────────────────────


def build_pipeline(config: Config, plugins: Plugins) -> Pipeline:
    """Resolve and configure every stage; all options are validated here, before any run."""
    _validate_option_targets(config, plugins)
    ingesters = tuple(_instantiate(e, config) for e in plugins.ingesters())
    stages, entries, notes, selected = [], list(plugins.ingesters()), [], {}
    for item in config.order:
        if item == "ingest":
            continue
        entry, choice = _entry_for(item, config, plugins)
        if choice is not None:
            selected[entry.kind] = choice.reason
            notes += [(entry.kind, choice.note)] if choice.note else []
        entries.append(entry)
        stages.append(_instantiate(entry, config))
    if "ingest" not in config.order:
        raise ConfigError("pipeline.stages must include ingest")
    return Pipeline(config, plugins, ingesters, tuple(stages), tuple(entries), tuple(notes), selected)  # type: ignore[arg-type]


def _entry_for(item: str, config: Config, plugins: Plugins) -> tuple[StageEntry, Choice | None]:
    """The implementation configured for one pipeline item, and ``auto``'s choice if it chose."""
    kind, _, name = item.partition(":")
    name = name or config.selection.get(kind) or _only_name(kind, plugins)
    if name == AUTO:
        choice = explain_choice(kind, plugins, config)
        return plugins.get(kind, choice.name), choice
    return plugins.get(kind, name), None


def _only_name(kind: str, plugins: Plugins) -> str:
    names = plugins.names(kind)
    if len(names) == 1:
        return names[0]
    if not names:
        raise ConfigError(f"pipeline stage kind {kind!r} is not provided by any installed plugin")
    raise ConfigError(f"several {kind} stages are installed ({', '.join(names)}); choose one with --stage {kind}=NAME")


def _instantiate(entry: StageEntry, config: Config) -> Any:
    values = config.options_for(entry.kind, entry.name)
    options = build_options(entry.cls.Options, values, f"stages.{entry.id}")
    return entry.cls(options)


def _validate_option_targets(config: Config, plugins: Plugins) -> None:
    for target, values in config.stage_options.items():
        kind, _, name = target.partition(".")
        entry = plugins.get(kind, name)
        build_options(entry.cls.Options, values, f"stages.{target}")


# ── episode.json ────────────────────────────────────────────────────────────────


def _save(episode: Episode) -> Episode:
    payload = {"format": FORMAT_VERSION, "episode": to_jsonable(episode)}
    atomic_write_json(episode.path(EPISODE_FILE), payload)
    return episode


def _save_document(run_dir: Path, document: Document | None) -> None:
    if document is None:
        return
    atomic_write_json(run_dir / "document.json", to_jsonable(document))
    atomic_write_text(run_dir / "document.md", f"# {document.title}\n\n{document.text}\n")


def load_episode(run_dir: Path) -> Episode | None:
    """The episode saved by the previous run, or ``None`` if absent or unreadable."""
    path = run_dir / EPISODE_FILE
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        if payload.get("format") != FORMAT_VERSION:
            return None
        return from_jsonable(Episode, payload["episode"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
