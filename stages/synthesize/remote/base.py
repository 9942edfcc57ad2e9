"""What every remote engine shares: connection options, API keys, the server pool, and a
cache key that ignores where the audio was made."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from podcast import SynthesisError, UpstreamError, content_hash, option

from .http import check_url, join_url, request
from .pool import PoolSettings, ServerPool

__all__ = ["RemoteEngine", "RemoteOptions"]

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RemoteOptions:
    """Connection options of remote engines (none of them changes the sound, so none is
    part of the clip cache key)."""

    urls: tuple[str, ...] = option(
        (), "server base URLs (comma list on --set); blocks are spread over all of them"
    )
    api_key_env: str = option(
        "", "environment variable holding the API key sent as a Bearer token ('' = none)"
    )
    concurrency: int = option(2, "requests in flight per server")
    requests_per_minute: float = option(
        0.0, "most requests started per minute over all servers (0 = no limit)"
    )
    timeout: float = option(600.0, "seconds one request may take before it is retried elsewhere")
    retries: int = option(
        4,
        "further attempts of a failed request (429, 5xx, timeout, lost connection), on any server",
    )
    backoff: float = option(
        1.0, "seconds before the first retry (doubling each time; a Retry-After header wins)"
    )
    max_failures: int = option(
        3, "failures in a row that take a server out of rotation for the rest of the run"
    )
    health_path: str = option(
        "", "path checked with GET on every server before the first request ('' = none)"
    )


REMOTE_FIELDS = frozenset(f.name for f in dataclasses.fields(RemoteOptions))


class RemoteEngine:
    """Mixin for engines that call HTTP servers; list it before the engine base class."""

    name: ClassVar[str]  # set by the engine class
    version: ClassVar[str]
    options: Any
    _pool: ServerPool | None = None

    def server_urls(self) -> tuple[str, ...]:
        """The configured base URLs (engines may add a default)."""
        return tuple(self.options.urls)

    def settings_key(self) -> str:
        """Hash of the options that change the sound: not URLs, keys, limits or timeouts, so
        a rerun against other servers reuses every clip."""
        from podcast.serialize import to_jsonable

        sound = {k: v for k, v in to_jsonable(self.options).items() if k not in REMOTE_FIELDS}
        return content_hash(self.name, self.version, json.dumps(sound, sort_keys=True))

    def check_connection(self) -> None:
        """Refuse early: no URL, a malformed URL, bad limits, or a named key that is not set."""
        urls = self.server_urls()
        if not urls:
            raise SynthesisError(
                f"{self.name} needs at least one server URL: set urls = [...] under "
                f"[stages.synthesize.{self.name}] or pass "
                f"--set synthesize.{self.name}.urls=URL1,URL2"
            )
        for url in urls:
            check_url(url, f"stages.synthesize.{self.name}.urls")
        if self.options.concurrency < 1 or self.options.timeout <= 0:
            raise SynthesisError(f"{self.name}: concurrency must be at least 1 and timeout above 0")
        env = self.options.api_key_env
        if env and self.key_required() and not os.environ.get(env):
            raise SynthesisError(f"{self.name}: set the {env} environment variable to your API key")

    def key_required(self) -> bool:
        return False

    def headers(self) -> dict[str, str]:
        """Request headers; the key is read from the environment each time and never stored."""
        key = os.environ.get(self.options.api_key_env, "") if self.options.api_key_env else ""
        return {"Authorization": f"Bearer {key}"} if key else {}

    def load(self) -> None:
        """Build the server pool and drop the servers that fail their health check."""
        options = self.options
        settings = PoolSettings(
            options.concurrency,
            options.retries,
            options.backoff,
            options.max_failures,
            options.requests_per_minute,
        )
        urls = tuple(
            check_url(u, f"stages.synthesize.{self.name}.urls") for u in self.server_urls()
        )
        self._pool = ServerPool(urls, settings, self.name)
        if options.health_path:
            self._pool.check_health(self._probe)

    def _probe(self, url: str) -> None:
        """A server is up when it answers HTTP at all: one without the health route (404/405)
        still serves requests; refused connections, timeouts and 5xx/429 mark it down."""
        options = self.options
        try:
            request("GET", join_url(url, options.health_path), None, self.headers(), min(options.timeout, 10.0))
        except UpstreamError:
            return

    def close(self) -> None:
        self._pool = None

    def dispatch(self, items: Sequence[T], call: Callable[[str, T], R]) -> Iterator[tuple[int, R]]:
        """Run ``call(url, item)`` for every item across the pool (see :class:`ServerPool`)."""
        if self._pool is None:
            self.load()
        assert self._pool is not None
        return self._pool.map(items, call)

    def dispatch_one(self, item: T, call: Callable[[str, T], R]) -> R:
        for _, result in self.dispatch([item], call):
            return result
        raise SynthesisError(f"{self.name}: no result")  # unreachable: map yields once per item
