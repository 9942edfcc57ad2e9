"""New items from a show's sources: RSS 2.0 / Atom feeds and inbox folders.

A feed item's key is its guid/id, else its link; an inbox file's key is its name plus a hash
of its content. An item carries what the pipeline should ingest: the feed's full content when
the feed has it (written to a file in the show's work folder), else the item's link (fetched
with the same SSRF rules as any URL).
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from podcast.errors import InputError, UpstreamError

from .settings import Source

__all__ = ["FULL_CONTENT_WORDS", "Item", "feed_items", "folder_items"]

FULL_CONTENT_WORDS = 150  # feed content at least this long is used instead of fetching the link
INBOX_SUFFIXES = (".md", ".markdown", ".txt", ".text", ".pdf", ".html", ".htm")


@dataclass(frozen=True, slots=True)
class Item:
    """One new thing to turn into an episode."""

    key: str
    title: str
    link: str | None
    published: float | None  # seconds since the epoch, when the source says
    position: int  # order in the source (for items without dates: feeds list newest first)
    content: str | None = None  # full HTML/text carried by the feed
    path: Path | None = None  # inbox file

    def ingest_source(self, work: Path) -> str:
        """What the pipeline ingests for this item: a file path or a URL."""
        if self.path is not None:
            return str(self.path)
        if self.content is not None:
            digest = hashlib.sha256(self.key.encode()).hexdigest()[:16]
            target = work / "items" / f"{digest}.html"
            if not target.is_file():
                from podcast.runfiles import atomic_write_text

                atomic_write_text(target, _as_page(self.title, self.content))
            return str(target)
        if not self.link:
            raise InputError(f"feed item {self.key!r} has neither content nor a link")
        return self.link


def _as_page(title: str, body: str) -> str:
    from html import escape

    return f"<!doctype html><html><head><title>{escape(title)}</title></head><body><article><h1>{escape(title)}</h1>{body}</article></body></html>"


def feed_items(source: Source, *, allow_private: bool, timeout: float) -> list[Item]:
    """Items of one RSS/Atom feed (all of them; the runner picks the new ones)."""
    import feedparser

    from podcast.stages.ingest.net import FEED_TYPES, FetchLimits, fetch

    assert source.feed is not None
    limits = FetchLimits(allow_private=allow_private, read_timeout=timeout, connect_timeout=min(timeout, 10.0))
    body = fetch(source.feed, limits, accepted=FEED_TYPES).body
    parsed = feedparser.parse(body)
    if parsed.get("bozo") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise UpstreamError(f"{source.feed} is not an RSS or Atom feed ({reason})")
    return [item for i, entry in enumerate(parsed.entries) if (item := _feed_item(entry, i)) is not None]


def _feed_item(entry: dict, position: int) -> Item | None:
    key = entry.get("id") or entry.get("guid") or entry.get("link")
    if not key:
        return None
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    return Item(
        key=str(key),
        title=str(entry.get("title") or entry.get("link") or key).strip(),
        link=entry.get("link"),
        published=float(calendar.timegm(when)) if when else None,
        position=position,
        content=_full_content(entry),
    )


def _full_content(entry: dict) -> str | None:
    """The longest content block of the entry when it is a whole article, else None."""
    import re

    blocks = [c.get("value", "") for c in entry.get("content", []) or []]
    blocks.append(entry.get("summary", "") or "")
    best = max(blocks, key=len)
    words = len(re.sub(r"<[^>]+>", " ", best).split())
    return best if words >= FULL_CONTENT_WORDS else None


def folder_items(source: Source) -> list[Item]:
    """Documents waiting in an inbox folder (``done/`` holds the published ones)."""
    assert source.folder is not None
    if not source.folder.is_dir():
        source.folder.mkdir(parents=True, exist_ok=True)
        return []
    return [_file_item(path, i) for i, path in enumerate(_inbox_files(source.folder))]


def _inbox_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.iterdir(), key=lambda p: (p.stat().st_mtime, p.name)):
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in INBOX_SUFFIXES:
            yield path


def _file_item(path: Path, position: int) -> Item:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    title = path.stem.replace("-", " ").replace("_", " ").strip() or path.name
    return Item(
        key=f"file:{path.name}:{digest}",
        title=title,
        link=None,
        published=path.stat().st_mtime,
        position=position,
        path=path,
    )
