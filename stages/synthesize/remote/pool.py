"""Spreading independent requests over servers: bounded concurrency, retries, failover.

:meth:`ServerPool.map` runs ``call(url, item)`` for every item on ``concurrency`` worker
threads per server and yields ``(index, result)`` as results arrive.  A call that fails
with a :class:`~.http.TransientError` goes back to the shared queue after a backoff (or
the server's ``Retry-After``) and is picked up by whichever server is free next; a server
whose calls fail ``max_failures`` times in a row is out of rotation for the rest of the run
(the last server standing is kept: its requests fail once their retries are spent).
Any other exception (malformed audio, HTTP 400) stops the whole run.  An optional
:class:`RateLimiter` spaces request starts across all workers.
"""

from __future__ import annotations

import heapq
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from podcast import UpstreamError

from .http import TransientError

__all__ = ["PoolSettings", "RateLimiter", "Server", "ServerPool"]

T = TypeVar("T")
R = TypeVar("R")
MAX_BACKOFF = 30.0
_STOP = object()
log = logging.getLogger("podcast")


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How hard to try: ``concurrency`` requests in flight per server, ``retries`` further
    attempts per request (any server), the first delay ``backoff`` seconds (doubling), and
    ``max_failures`` consecutive failures before a server is dropped."""

    concurrency: int = 2
    retries: int = 4
    backoff: float = 1.0
    max_failures: int = 3
    requests_per_minute: float = 0.0


@dataclass(slots=True)
class Server:
    """One base URL and its health during this run."""

    url: str
    failures: int = 0
    down: bool = False
    last_error: str = ""
    served: int = 0


class RateLimiter:
    """Space request starts at least ``60 / per_minute`` seconds apart (0 = no limit)."""

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._lock = threading.Lock()
        self._next = 0.0

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            time.sleep(start - now)


class ServerPool:
    """Servers shared by every request of one engine run (a dropped server stays dropped)."""

    def __init__(self, urls: Sequence[str], settings: PoolSettings, label: str) -> None:
        self.servers = [Server(url) for url in urls]
        self.settings = settings
        self.label = label
        self.limiter = RateLimiter(settings.requests_per_minute)

    def up(self) -> list[Server]:
        return [s for s in self.servers if not s.down]

    def drop(self, server: Server, reason: str) -> None:
        """Take ``server`` out of rotation (logged once)."""
        if not server.down:
            server.down, server.last_error = True, reason
            log.warning("%s: taking %s out of rotation (%s)", self.label, server.url, reason)

    def check_health(self, probe: Callable[[str], None]) -> None:
        """Run ``probe(url)`` on every server at once; drop those that raise.

        :raises UpstreamError: no server passed.
        """
        from concurrent.futures import ThreadPoolExecutor

        def run(server: Server) -> None:
            try:
                probe(server.url)
            except (TransientError, UpstreamError) as exc:
                self.drop(server, f"health check failed: {exc}")

        with ThreadPoolExecutor(max_workers=len(self.servers)) as executor:
            list(executor.map(run, self.servers))
        if not self.up():
            raise UpstreamError(f"{self.label}: no server is reachable; {self.describe_failures()}")

    def describe_failures(self) -> str:
        return (
            "; ".join(f"{s.url}: {s.last_error}" for s in self.servers if s.down)
            or "no errors recorded"
        )

    def map(self, items: Sequence[T], call: Callable[[str, T], R]) -> Iterator[tuple[int, R]]:
        """Yield ``(index, call(url, items[index]))`` for every item, in completion order."""
        if not items:
            return
        if not self.up():
            raise UpstreamError(
                f"{self.label}: every server is out of rotation; {self.describe_failures()}"
            )
        run = _Run(self, items, call)
        yield from run.results()


class _Run(Generic[T, R]):
    """The shared queue and worker threads of one :meth:`ServerPool.map` call."""

    def __init__(self, pool: ServerPool, items: Sequence[T], call: Callable[[str, T], R]) -> None:
        self.pool, self.items, self.call = pool, items, call
        self.cond = threading.Condition()
        # (not before, index): a heap, so retries wait out their backoff behind fresh items
        self.ready: list[tuple[float, int]] = [(0.0, i) for i in range(len(items))]
        self.attempts = [0] * len(items)
        self.remaining = len(items)
        self.stopped = False
        self.error: BaseException | None = None
        self.out: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def results(self) -> Iterator[tuple[int, R]]:
        for server in self.pool.up():
            for _ in range(self.pool.settings.concurrency):
                threading.Thread(
                    target=self._work, args=(server,), daemon=True, name=f"remote-{server.url}"
                ).start()
        try:
            for _ in range(len(self.items)):
                got = self.out.get()
                if got is _STOP:
                    raise self.error  # type: ignore[misc]
                yield got
            served = ", ".join(f"{s.url}: {s.served}" for s in self.pool.servers)
            log.debug("%s: requests answered per server so far: %s", self.pool.label, served)
        finally:
            self._stop(None)

    def _work(self, server: Server) -> None:
        while (index := self._take(server)) is not None:
            self.pool.limiter.wait()
            try:
                result = self.call(server.url, self.items[index])
            except TransientError as exc:
                self._retry(server, index, exc)
            except BaseException as exc:
                self._stop(exc)
            else:
                self._done(server, index, result)

    def _take(self, server: Server) -> int | None:
        with self.cond:
            while not (self.stopped or server.down or self.remaining == 0):
                wait = self.ready[0][0] - time.monotonic() if self.ready else None
                if wait is not None and wait <= 0:
                    return heapq.heappop(self.ready)[1]
                self.cond.wait(wait)
            return None

    def _done(self, server: Server, index: int, result: R) -> None:
        with self.cond:
            server.failures, server.served = 0, server.served + 1
            self.remaining -= 1
            self.out.put((index, result))
            self.cond.notify_all()

    def _retry(self, server: Server, index: int, exc: TransientError) -> None:
        settings = self.pool.settings
        with self.cond:
            server.failures += 1
            server.last_error = str(exc)
            if server.failures >= settings.max_failures and len(self.pool.up()) > 1:
                self.pool.drop(server, f"{server.failures} failures in a row, last: {exc}")
            self.attempts[index] += 1
            if self.attempts[index] > settings.retries:
                self._stop_locked(
                    UpstreamError(
                        f"{self.pool.label}: a request failed {self.attempts[index]} times; "
                        f"last error: {exc}"
                    )
                )
            else:
                delay = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else settings.backoff * 2 ** (self.attempts[index] - 1)
                )
                heapq.heappush(self.ready, (time.monotonic() + min(delay, MAX_BACKOFF), index))
                self.cond.notify_all()

    def _stop(self, exc: BaseException | None) -> None:
        with self.cond:
            self._stop_locked(exc)

    def _stop_locked(self, exc: BaseException | None) -> None:
        if not self.stopped:
            self.stopped, self.error = True, exc
            if exc is not None:
                self.out.put(_STOP)
        self.cond.notify_all()
