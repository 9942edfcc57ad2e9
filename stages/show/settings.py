"""The ``show.toml`` contract: a show's metadata, its sources and its publishers.

The same file also holds any ``[pipeline]``, ``[speakers]`` and ``[stages.*]`` section of the
normal configuration (the show's voices, writer, synthesizer); :func:`load_show` returns both.
"""

from __future__ import annotations

import tomllib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from podcast.errors import ConfigError

__all__ = ["SHOW_FILE", "PODCAST_NAMESPACE", "Publish", "ShowSettings", "Source", "load_show"]

SHOW_FILE = "show.toml"
# The Podcasting 2.0 namespace for podcast:guid (UUIDv5 of the feed URL without its scheme).
PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
_MODES = ("each", "digest")


@dataclass(frozen=True, slots=True)
class Source:
    """One followed source: an RSS/Atom ``feed`` URL or an inbox ``folder`` (absolute)."""

    feed: str | None = None
    folder: Path | None = None

    @property
    def label(self) -> str:
        return self.feed or str(self.folder)


@dataclass(frozen=True, slots=True)
class Publish:
    """``[publish]``: publishers run after a successful run (``folder`` needs nothing)."""

    publishers: tuple[str, ...] = ("folder",)
    command: str | None = None
    timeout: float = 600.0
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ShowSettings:
    """``[show]`` plus sources and publishers of one show folder."""

    folder: Path
    title: str
    description: str
    author: str
    language: str
    base_url: str
    mode: Literal["each", "digest"] = "each"
    max_new: int = 3
    keep: int = 50
    explicit: bool = False
    category: str = "Technology"
    subcategory: str | None = None
    owner_email: str | None = None
    image: Path | None = None
    max_attempts: int = 3
    retry_after_minutes: float = 0.0
    sources: tuple[Source, ...] = ()
    publish: Publish = field(default_factory=Publish)

    @property
    def public(self) -> Path:
        return self.folder / "public"

    @property
    def feed_url(self) -> str:
        return self.base_url + "feed.xml"

    @property
    def guid(self) -> str:
        """The show's permanent ``podcast:guid`` (derived from the feed URL, per the spec)."""
        bare = self.feed_url.split("://", 1)[-1].rstrip("/")
        return str(uuid.uuid5(PODCAST_NAMESPACE, bare))

    def url(self, relative: str) -> str:
        return self.base_url + relative


def load_show(folder: Path) -> tuple[ShowSettings, dict[str, Any]]:
    """Read ``folder/show.toml``: the show's settings and the remaining pipeline config data."""
    path = folder / SHOW_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist; create it with: podcast-gen show init {folder}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    show = _table(data.pop("show", None), "[show]", path)
    sources = tuple(_source(raw, folder, path) for raw in _tables(data.pop("sources", []), path))
    publish = _publish(_table(data.pop("publish", {}), "[publish]", path), path)
    settings = ShowSettings(
        folder=folder,
        title=_text(show, "title", path),
        description=_text(show, "description", path),
        author=_text(show, "author", path),
        language=_choice(show, "language", ("en", "zh"), path, "en"),
        base_url=_base_url(show, path),
        mode=_choice(show, "mode", _MODES, path, "each"),  # type: ignore[arg-type]
        max_new=_count(show, "max_new", 3, path),
        keep=_count(show, "keep", 50, path),
        explicit=bool(show.get("explicit", False)),
        category=str(show.get("category", "Technology")),
        subcategory=show.get("subcategory"),
        owner_email=show.get("owner_email"),
        image=(folder / show["image"]).resolve() if show.get("image") else None,
        max_attempts=_count(show, "max_attempts", 3, path),
        retry_after_minutes=float(show.get("retry_after_minutes", 0.0)),
        sources=sources,
        publish=publish,
    )
    _reject_unknown(show, path)
    if not sources:
        raise ConfigError(f"{path} has no [[sources]]; add a feed = URL or folder = DIR entry")
    return settings, data


_SHOW_KEYS = {
    "title", "description", "author", "language", "base_url", "mode", "max_new", "keep", "explicit",
    "category", "subcategory", "owner_email", "image", "max_attempts", "retry_after_minutes",
}  # fmt: skip


def _reject_unknown(show: Mapping[str, Any], path: Path) -> None:
    unknown = sorted(set(show) - _SHOW_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown [show] key(s) {', '.join(unknown)} (known: {', '.join(sorted(_SHOW_KEYS))})")


def _table(value: Any, name: str, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{path} needs a {name} table")
    return dict(value)


def _tables(value: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{path}: sources must be [[sources]] tables")
    return value


def _text(show: Mapping[str, Any], key: str, path: Path) -> str:
    value = show.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: [show] {key} is required (a non-empty string)")
    return value.strip()


def _choice(show: Mapping[str, Any], key: str, allowed: tuple[str, ...], path: Path, default: str) -> str:
    value = show.get(key, default)
    if value not in allowed:
        raise ConfigError(f"{path}: [show] {key} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _count(show: Mapping[str, Any], key: str, default: int, path: Path) -> int:
    value = show.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{path}: [show] {key} must be a whole number of at least 1, not {value!r}")
    return value


def _base_url(show: Mapping[str, Any], path: Path) -> str:
    url = _text(show, "base_url", path)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{path}: [show] base_url must be an http(s) URL, not {url!r}")
    return url if url.endswith("/") else url + "/"


def _source(raw: Mapping[str, Any], folder: Path, path: Path) -> Source:
    feed, inbox = raw.get("feed"), raw.get("folder")
    if (feed is None) == (inbox is None) or set(raw) - {"feed", "folder"}:
        raise ConfigError(f"{path}: each [[sources]] needs exactly one of feed = URL or folder = DIR, got {dict(raw)}")
    if feed is not None:
        if not isinstance(feed, str) or urlsplit(feed).scheme not in ("http", "https"):
            raise ConfigError(f"{path}: source feed must be an http(s) URL, not {feed!r}")
        return Source(feed=feed)
    return Source(folder=(folder / str(inbox)).resolve())


def _publish(raw: Mapping[str, Any], path: Path) -> Publish:
    command = raw.get("command")
    names = raw.get("publishers", ["folder", "command"] if command else ["folder"])
    if isinstance(names, str):
        names = [names]
    if "command" in names and not command:
        raise ConfigError(f"{path}: [publish] lists the command publisher but sets no command = \"...\"")
    known = {"publishers", "command", "timeout"}
    return Publish(
        publishers=tuple(str(n) for n in names),
        command=command,
        timeout=float(raw.get("timeout", 600.0)),
        options={k: v for k, v in raw.items() if k not in known},
    )
