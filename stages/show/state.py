"""What a show remembers between runs: every item it has seen and what became of it.

The state lives in ``<show>/state.json`` and is rewritten atomically after every change, so a
run killed at any point leaves either the old or the new state, never a half file. An item's
episode identity (guid, slug, publication date) is fixed when the item is first taken, before
any synthesis, so a resumed run publishes the same episode under the same guid.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from podcast.errors import ConfigError
from podcast.runfiles import atomic_write_json

__all__ = ["STATE_FILE", "Entry", "ShowState"]

STATE_FILE = "state.json"
Status = Literal["pending", "published", "failed", "gave_up", "pruned"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One item (or one digest) and its episode."""

    key: str
    title: str
    status: Status
    guid: str
    slug: str
    pub_date: str  # RFC 2822, fixed when the item was first taken
    sources: tuple[str, ...] = ()
    items: tuple[str, ...] = ()  # item keys a digest covers (just ``key`` for one item)
    link: str | None = None
    attempts: int = 0
    last_error: str | None = None
    failed_at: float | None = None
    files: dict[str, Any] = field(default_factory=dict)
    duration: float | None = None
    order: int = 0  # publication order, for newest-first feeds with equal dates


class ShowState:
    """Entries by key, plus the keys of items that a digest or a folder move has consumed."""

    def __init__(self, path: Path, entries: dict[str, Entry], seen: set[str]) -> None:
        self.path, self.entries, self.seen = path, entries, seen

    @classmethod
    def load(cls, folder: Path) -> ShowState:
        path = folder / STATE_FILE
        if not path.is_file():
            return cls(path, {}, set())
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            entries = {e["key"]: _entry(e) for e in raw.get("entries", [])}
            return cls(path, entries, set(raw.get("seen", [])))
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path} is damaged ({exc}); fix or delete it (every item would then be new)") from None

    def save(self) -> None:
        entries = sorted(self.entries.values(), key=lambda e: e.order)
        atomic_write_json(self.path, {"version": 1, "entries": [asdict(e) for e in entries], "seen": sorted(self.seen)})

    def put(self, entry: Entry) -> Entry:
        self.entries[entry.key] = entry
        self.seen.update(entry.items or (entry.key,))
        self.save()
        return entry

    def update(self, key: str, **changes: Any) -> Entry:
        return self.put(replace(self.entries[key], **changes))

    def knows(self, item_key: str) -> bool:
        return item_key in self.seen or item_key in self.entries

    def next_order(self) -> int:
        return 1 + max((e.order for e in self.entries.values()), default=0)

    def published(self) -> list[Entry]:
        """Published entries, newest first."""
        done = [e for e in self.entries.values() if e.status == "published"]
        return sorted(done, key=lambda e: e.order, reverse=True)


def _entry(raw: dict[str, Any]) -> Entry:
    raw = {**raw, "sources": tuple(raw.get("sources", ())), "items": tuple(raw.get("items", ()))}
    return Entry(**raw)
