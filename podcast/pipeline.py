"""Build the configured pipeline and run it over one episode.

``build_pipeline`` resolves every stage by name (or capability for ingest), validates all
options before anything runs, and ``Pipeline.run`` executes the stages in order inside the
episode's run directory, under its lock, checkpointing ``episode.json`` after each stage and
reusing any stage whose cache key matches the previous run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .checks import check_voice_files, check_voice_speakers
from .config import Config
from .errors import ConfigError, InputError
from .models import Document, Episode, Section, StageRecord, content_hash, frozen_mapping
from .options import build_options
from .plugins import Plugins, StageEntry
from .rendering import SynthesisStage
from .runfiles import atomic_write_json, atomic_write_text, episode_lock, remove_partials, run_dir_name
from .serialize import from_jsonable, paths_in, to_jsonable
from .stage import Ingester, Stage, StageContext

__all__ = ["Pipeline", "build_pipeline", "ingest_sources", "stage_key"]

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
        episode = self._ingest(episode, ctx)
        check_voice_speakers(self.config, episode.document)
        run_dir = self.config.output / run_dir_name(episode.document.title, episode.document.hash)
        with episode_lock(run_dir, self.config.lock_timeout):
            return self._run_locked(replace(episode, run_dir=run_dir), replace(ctx, run_dir=run_dir), until)

    def check_until(self, until: str | None) -> None:
        """Refuse an ``until`` that names no stage kind of this pipeline."""
        kinds = [item.partition(":")[0] for item in self.config.order]
        if until is not None and until not in kinds:
            raise ConfigError(f"--until {until!r} is not a stage of this pipeline; use one of: {', '.join(kinds)}")

    def _ingest(self, episode: Episode, ctx: StageContext) -> Episode:
        started = time.perf_counter()
        first = pick_ingester(self.ingesters, episode.sources[0]) if episode.sources else None
        if first is not None:
            self.plugins.stage_started(first, episode)
        picked = ingest_each(self.ingesters, episode.sources, ctx)
        document = merge_documents([doc for _, doc in picked])
        language = episode.language or document.language or "en"
        record = StageRecord(
            "ingest",
            ",".join(sorted({ingester.name for ingester, _ in picked})),
            self._plugin_of(picked[0][0]),
            "1",
            document.hash,
            frozen_mapping({"sources": content_hash(*episode.sources)}),
            (),
            time.perf_counter() - started,
            False,
        )
        result = replace(episode, document=document, language=language, records=(record,))
        if first is not None:
            self.plugins.stage_finished(first, result, record.elapsed, False)
        return result

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
        record = _record(stage, self._plugin_of(stage), key, episode, result, elapsed, cached)
        result = replace(result, records=(*result.records, record))
        self.plugins.stage_finished(stage, result, elapsed, cached)
        return result

    def _plugin_of(self, stage: Stage) -> str:
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
    stage: Stage, plugin: str, key: str, before: Episode, after: Episode, elapsed: float, cached: bool
) -> StageRecord:
    inputs = {name: _field_hash(getattr(before, name)) for name in stage.reads}
    outputs = tuple(sorted({str(p) for p in paths_in([getattr(after, n) for n in stage.writes])}))
    details = after.meta.get(f"{stage.kind}.details", {}) if not cached else {"reused": True}
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


# ── ingest ──────────────────────────────────────────────────────────────────────


def pick_ingester(ingesters: Sequence[Ingester], source: str) -> Ingester:
    """The first ingester that accepts ``source``; InputError when none does."""
    for ingester in ingesters:
        if ingester.accepts(source):
            return ingester
    names = ", ".join(i.name for i in ingesters) or "none installed"
    raise InputError(f"no ingester accepts {source!r} (tried {names}); pass a URL, PDF, text or Markdown file")


def ingest_each(
    ingesters: Sequence[Ingester], sources: Sequence[str], ctx: StageContext
) -> list[tuple[Ingester, Document]]:
    """Ingest each source with the first ingester that accepts it (chosen once per source)."""
    if not sources:
        raise InputError("no source given; pass a URL, a PDF, a text file or - for stdin")
    picked = [(pick_ingester(ingesters, s), s) for s in sources]
    return [(ingester, ingester.ingest(source, ctx)) for ingester, source in picked]


def ingest_sources(ingesters: Sequence[Ingester], sources: Sequence[str], ctx: StageContext) -> Document:
    """Ingest each source with the first accepting ingester; several → one merged document."""
    return merge_documents([doc for _, doc in ingest_each(ingesters, sources, ctx)])


def merge_documents(documents: Sequence[Document]) -> Document:
    """One ``multi`` document with one section per source (its title as the heading), in order.

    The language is the one most of the text is in; a single document is returned unchanged.
    """
    if not documents:
        raise ValueError("merge_documents needs at least one document")
    if len(documents) == 1:
        return documents[0]
    sections = tuple(Section(d.title or d.source, d.text) for d in documents)
    title = " + ".join(d.title for d in documents[:3] if d.title)
    if len(documents) > 3:
        title += f" (+{len(documents) - 3} more)"
    weight: dict[str, int] = {}
    for d in documents:
        if d.language:
            weight[d.language] = weight.get(d.language, 0) + len(d.text)
    language = max(weight, key=weight.__getitem__) if weight else None
    meta = {
        "sources": [d.source for d in documents],
        "kinds": [d.kind for d in documents],
        "parts": [dict(d.metadata) for d in documents],
    }
    return Document(" ".join(d.source for d in documents), "multi", title, sections, language, frozen_mapping(meta))


# ── building ────────────────────────────────────────────────────────────────────


def build_pipeline(config: Config, plugins: Plugins) -> Pipeline:
    """Resolve and configure every stage; all options are validated here, before any run."""
    _validate_option_targets(config, plugins)
    ingesters = tuple(_instantiate(e, config) for e in plugins.ingesters())
    stages, entries, notes = [], list(plugins.ingesters()), []
    for item in config.order:
        if item == "ingest":
            continue
        entry, note = _resolve(_entry_for(item, config, plugins), config, plugins)
        if note:
            notes.append((entry.kind, note))
        entries.append(entry)
        stages.append(_instantiate(entry, config))
    if "ingest" not in config.order:
        raise ConfigError("pipeline.stages must include ingest")
    return Pipeline(config, plugins, ingesters, tuple(stages), tuple(entries), tuple(notes))  # type: ignore[arg-type]


def _entry_for(item: str, config: Config, plugins: Plugins) -> StageEntry:
    kind, _, name = item.partition(":")
    if not name:
        name = config.selection.get(kind) or _only_name(kind, plugins)
    return plugins.get(kind, name)


def _only_name(kind: str, plugins: Plugins) -> str:
    names = plugins.names(kind)
    if len(names) == 1:
        return names[0]
    if not names:
        raise ConfigError(f"pipeline stage kind {kind!r} is not provided by any installed plugin")
    raise ConfigError(f"several {kind} stages are installed ({', '.join(names)}); choose one with --stage {kind}=NAME")


def _resolve(entry: StageEntry, config: Config, plugins: Plugins) -> tuple[StageEntry, str | None]:
    """Follow ``auto``-style stages that delegate to a concrete implementation."""
    resolved = entry.cls.resolve(plugins, config)
    if resolved is None:
        return entry, None
    name, note = resolved
    return plugins.get(entry.kind, name), note


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
