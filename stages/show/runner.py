"""``podcast-gen show run``: turn a show's new items into episodes and publish its feed.

One run, under the show's lock:

1. read ``show.toml`` and ``state.json``; finish entries a killed run left ``pending``;
2. list every source's items; the ones the state does not know (and failed ones due for a
   retry) are new; take ``max_new`` of them, oldest first;
3. fix each episode's identity (guid, slug, date) in the state *before* any work, make the
   episode with the normal pipeline (its run folder under ``.work/`` makes a resumed run reuse
   every finished stage), copy its files into ``public/episodes/<slug>/`` (complete folder
   renamed into place), then mark it published;
4. prune to ``keep`` episodes, rewrite the cover and ``feed.xml`` atomically, run publishers.

An item therefore becomes exactly one episode however often a run is killed and restarted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from podcast.errors import EXIT_OK, EXIT_PARTIAL, EXIT_UPSTREAM, OutputError, PodcastError
from podcast.runfiles import atomic_write_bytes, episode_lock, slugify

from .cover import cover_png
from .feed import EPISODE_FILES, FEED_FILE, render_feed, rfc2822
from .publishers import PublishResult, run_publishers
from .settings import ShowSettings, load_show
from .sources import Item, feed_items, folder_items
from .state import Entry, ShowState

__all__ = ["ShowReport", "run_show"]

log = logging.getLogger("podcast.show")
WORK = ".work"


@dataclass(slots=True)
class ShowReport:
    """What one show run did (the ``--json`` object of one show)."""

    folder: Path
    feed: Path
    new: int = 0
    published: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    publishers: list[PublishResult] = field(default_factory=list)
    exit_code: int = EXIT_OK

    def as_json(self) -> dict[str, Any]:
        return {
            "show": str(self.folder),
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "new": self.new,
            "published": self.published,
            "failed": self.failed,
            "skipped": self.skipped,
            "pruned": self.pruned,
            "publishers": [
                {"name": p.name, "ok": p.ok, "message": p.message, "exit_status": p.exit_status} for p in self.publishers
            ],
            "feed": str(self.feed),
        }


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run: URL policy, lock wait, and how to make one episode (the pipeline)."""

    allow_private_urls: bool = False
    lock_timeout: float = 300.0
    fetch_timeout: float = 60.0
    make: Callable[[Sequence[str], Any], Any] | None = None  # (sources, config) -> Episode
    now: Callable[[], float] = time.time


def run_show(folder: Path, options: RunOptions, plugins: Any) -> ShowReport:
    """Run one show folder (see the module docstring)."""
    folder = folder.resolve()
    show, pipeline_data = load_show(folder)
    config = _config(show, pipeline_data, options)
    report = ShowReport(folder, show.public / FEED_FILE)
    with episode_lock(folder, options.lock_timeout):
        state = ShowState.load(folder)
        _write_cover(show)
        for entry in [e for e in state.entries.values() if e.status == "pending"]:
            _attempt(entry, show, state, config, options, report)
        items = _collect(show, options, report)
        fresh = _new_items(items, state, show, options.now())
        report.new = len(fresh)
        taken, later = fresh[: show.max_new], fresh[show.max_new :]
        report.skipped = [{"id": i.key, "title": i.title, "reason": "over max_new; taken by a later run"} for i in later]
        for entry in _entries(taken, show, state, config, options, report):
            _attempt(entry, show, state, config, options, report)
        report.pruned = _prune(show, state)
        changed = _write_feed(show, state, config)
        if report.published or report.pruned or changed:
            report.publishers = run_publishers(show, report.as_json(), plugins)
    report.exit_code = _exit_code(report)
    return report


# ── configuration ──────────────────────────────────────────────────────────────


def _config(show: ShowSettings, data: dict[str, Any], options: RunOptions) -> Any:
    """The normal pipeline config from show.toml's other sections, pointed at the show."""
    from podcast.config import config_from_data

    config = config_from_data(data, show.folder / "show.toml")
    stage_options = dict(config.stage_options)
    master_name = config.selection.get("master", "standard")
    master_key = f"master.{master_name}"
    stage_options[master_key] = {
        "show": show.title,
        "cover": show.public / "cover.png",
        **stage_options.get(master_key, {}),
    }
    extra = {"allow_private": True} if options.allow_private_urls else {}
    if extra:
        stage_options["ingest.url"] = {**stage_options.get("ingest.url", {}), **extra}
    return replace(
        config,
        language=show.language,
        output=show.folder / WORK / "runs",
        lock_timeout=options.lock_timeout,
        stage_options=stage_options,
    )


# ── items ──────────────────────────────────────────────────────────────────────


def _collect(show: ShowSettings, options: RunOptions, report: ShowReport) -> list[Item]:
    items: list[Item] = []
    for source in show.sources:
        try:
            if source.feed:
                items += feed_items(source, allow_private=options.allow_private_urls, timeout=options.fetch_timeout)
            else:
                items += folder_items(source)
        except PodcastError as exc:
            report.failed.append({"source": source.label, "reason": str(exc), "exit_code": exc.exit_code})
            log.warning("source %s failed: %s", source.label, exc)
    return items


def _new_items(items: list[Item], state: ShowState, show: ShowSettings, now: float) -> list[Item]:
    """Unknown items plus failed ones due for another attempt, oldest first."""
    unique: dict[str, Item] = {}
    for item in items:
        unique.setdefault(item.key, item)
    fresh = [i for i in unique.values() if not state.knows(i.key) or _due(state.entries.get(i.key), show, now)]
    return sorted(fresh, key=lambda i: (i.published is None, i.published or 0.0, -i.position))


def _due(entry: Entry | None, show: ShowSettings, now: float) -> bool:
    if entry is None or entry.status != "failed":
        return False
    wait = show.retry_after_minutes * 60 * 2 ** max(entry.attempts - 1, 0)
    return now >= (entry.failed_at or 0.0) + wait


def _entries(
    items: list[Item], show: ShowSettings, state: ShowState, config: Any, options: RunOptions, report: ShowReport
) -> list[Entry]:
    """Pending entries for the taken items: one each, or one digest of all of them."""
    work = show.folder / WORK
    if show.mode == "each":
        return [_pending(state, show, [item], item.title, item.link, work, options) for item in items]
    good = [i for i in items if _ingestible(i, show, state, config, options, report)]
    if not good:
        return []
    title = f"{show.title} — {time.strftime('%Y-%m-%d', time.gmtime(options.now()))}"
    return [_pending(state, show, good, title, None, work, options)]


def _ingestible(item: Item, show: ShowSettings, state: ShowState, config: Any, options: RunOptions, report: ShowReport) -> bool:
    """Digest mode checks each item alone first, so one bad item does not sink the digest."""
    from podcast.api import ingest

    try:
        ingest([item.ingest_source(show.folder / WORK)], config)
        return True
    except PodcastError as exc:
        entry = state.entries.get(item.key) or _pending(state, show, [item], item.title, item.link, show.folder / WORK, options)
        _fail(entry, exc, show, state, options, report)
        return False


def _pending(
    state: ShowState, show: ShowSettings, items: list[Item], title: str, link: str | None, work: Path, options: RunOptions
) -> Entry:
    key = items[0].key if len(items) == 1 else "digest:" + _digest(i.key for i in items)
    existing = state.entries.get(key)
    if existing is not None:  # a failed item coming back: same identity, new attempt
        return state.update(key, status="pending")
    guid = str(uuid.uuid5(uuid.UUID(show.guid), key))
    # Distinct, increasing dates: apps order episodes by pubDate, and one run can publish several.
    latest = max((parsedate_to_datetime(e.pub_date).timestamp() for e in state.entries.values()), default=0.0)
    when = max(float(int(options.now())), latest + 1.0)
    stamp = time.strftime("%Y-%m-%d", time.gmtime(when))
    entry = Entry(
        key=key,
        title=title,
        status="pending",
        guid=guid,
        slug=f"{stamp}-{slugify(title, 40)}-{guid[:6]}",
        pub_date=rfc2822(when),
        sources=tuple(i.ingest_source(work) for i in items),
        items=tuple(i.key for i in items),
        link=link,
        order=state.next_order(),
    )
    return state.put(entry)


def _digest(keys: Any) -> str:
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:16]


# ── one episode ────────────────────────────────────────────────────────────────


def _attempt(entry: Entry, show: ShowSettings, state: ShowState, config: Any, options: RunOptions, report: ShowReport) -> None:
    try:
        episode = _make(options)(list(entry.sources), config)
        files = _publish_files(episode, show, entry.slug)
    except PodcastError as exc:
        _fail(entry, exc, show, state, options, report)
        return
    duration = float(episode.outputs.duration) if episode.outputs else None
    done = state.update(entry.key, status="published", files=files, duration=duration, last_error=None)
    for key in done.items:  # items a digest covers are remembered in ``seen``; their failures are over
        if key != done.key and key in state.entries:
            del state.entries[key]
    state.save()
    _consume_inbox(done, show)
    report.published.append(
        {"id": done.key, "title": done.title, "guid": done.guid, "folder": str(show.public / "episodes" / done.slug),
         "duration": round(duration or 0.0, 3), "items": len(done.items)}
    )  # fmt: skip
    log.info("published %s -> episodes/%s", done.title, done.slug)


def _make(options: RunOptions) -> Callable[[Sequence[str], Any], Any]:
    if options.make is not None:
        return options.make
    from podcast.api import make_episode

    return make_episode


def _fail(entry: Entry, exc: PodcastError, show: ShowSettings, state: ShowState, options: RunOptions, report: ShowReport) -> None:
    attempts = entry.attempts + 1
    gave_up = attempts >= show.max_attempts
    status = "gave_up" if gave_up else "failed"
    state.update(entry.key, status=status, attempts=attempts, last_error=str(exc), failed_at=options.now())
    report.failed.append(
        {"id": entry.key, "title": entry.title, "reason": str(exc), "exit_code": exc.exit_code,
         "attempts": attempts, "gave_up": gave_up}
    )  # fmt: skip
    note = "gave up" if gave_up else f"will retry (attempt {attempts}/{show.max_attempts})"
    log.warning("failed %s: %s; %s", entry.title, exc, note)


def _publish_files(episode: Any, show: ShowSettings, slug: str) -> dict[str, Any]:
    """Copy the episode's deliverables into ``public/episodes/<slug>/`` as one complete folder."""
    run_dir = Path(episode.run_dir)
    final = show.public / "episodes" / slug
    staging = final.with_name(f".{slug}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    files: dict[str, Any] = {}
    for name in EPISODE_FILES:
        source = run_dir / name
        if source.is_file():
            shutil.copyfile(source, staging / name)
            files[name] = {"bytes": (staging / name).stat().st_size}
    if "episode.mp3" not in files:
        raise OutputError(f"the episode in {run_dir} has no episode.mp3")
    shutil.copyfile(show.public / "cover.png", staging / "cover.png")
    _fsync_tree(staging)
    if final.exists():  # left by a run killed after the rename but before the state was saved
        shutil.rmtree(final)
    os.replace(staging, final)
    return files


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())


def _consume_inbox(entry: Entry, show: ShowSettings) -> None:
    """Move published inbox files to ``inbox/done/``."""
    for source in entry.sources:
        path = Path(source)
        if path.is_file() and any(path.parent == s.folder for s in show.sources if s.folder):
            done = path.parent / "done"
            done.mkdir(exist_ok=True)
            os.replace(path, done / path.name)


# ── feed, cover, pruning ───────────────────────────────────────────────────────


def _write_cover(show: ShowSettings) -> None:
    data = cover_png(show.title, show.author, show.image)
    target = show.public / "cover.png"
    if not target.is_file() or target.read_bytes() != data:
        atomic_write_bytes(target, data)


def _write_feed(show: ShowSettings, state: ShowState, config: Any) -> bool:
    """Rewrite feed.xml from the state; True when its bytes changed."""
    from importlib.metadata import version

    hosts = [s.name for s in config.speaker_list(show.language)[:2]]
    data = render_feed(show, state.published()[: show.keep], hosts, f"podcast-gen {version('podcast-gen')}")
    target = show.public / FEED_FILE
    if target.is_file() and target.read_bytes() == data:
        return False
    atomic_write_bytes(target, data)
    return True


def _prune(show: ShowSettings, state: ShowState) -> list[str]:
    """Keep the ``keep`` newest episodes; older ones leave the feed and the disk."""
    pruned = []
    for entry in state.published()[show.keep :]:
        shutil.rmtree(show.public / "episodes" / entry.slug, ignore_errors=True)
        state.update(entry.key, status="pruned")
        pruned.append(entry.slug)
    return pruned


def _exit_code(report: ShowReport) -> int:
    publish_failed = any(not p.ok for p in report.publishers)
    if not report.failed and not publish_failed:
        return EXIT_OK
    if report.published:
        return EXIT_PARTIAL
    codes = [f.get("exit_code", EXIT_UPSTREAM) for f in report.failed]
    return codes[0] if codes else EXIT_PARTIAL

