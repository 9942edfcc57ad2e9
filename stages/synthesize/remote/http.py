"""A small stdlib HTTP client for remote engines.

One request per connection (thread-safe, nothing shared), a deadline over the whole request
(connect, send, headers and body), and failures sorted in two kinds: :class:`TransientError`
(connection refused or reset, timeout, HTTP 408/425/429/5xx: worth retrying later or on
another server) and :class:`~podcast.errors.UpstreamError` (any other status: retrying will
not help).  Request headers (which may carry an API key) never appear in messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from podcast import ConfigError, UpstreamError

__all__ = ["Response", "TransientError", "check_url", "join_url", "post_json", "request"]

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
CHUNK = 1 << 16


class TransientError(Exception):
    """A failure that may pass: retry after ``retry_after`` seconds (when the server said)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(" ".join(message.split()))
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Response:
    """A successful (2xx) response; ``headers`` keys are lower-case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def check_url(url: str, what: str) -> str:
    """Return ``url`` without a trailing slash; refuse anything but http(s)://host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what}: {url!r} is not an http:// or https:// URL")
    return url.strip().rstrip("/")


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def post_json(url: str, payload: Any, headers: Mapping[str, str], timeout: float) -> Response:
    """POST ``payload`` as JSON; see :func:`request`."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return request("POST", url, body, {**headers, "Content-Type": "application/json"}, timeout)


def request(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str], timeout: float
) -> Response:
    """Send one request and read the whole response within ``timeout`` seconds.

    :raises TransientError: connection failure, timeout, or a retryable status.
    :raises UpstreamError: any other non-2xx status.
    """
    import http.client

    deadline = time.monotonic() + timeout
    try:
        status, reason, response_headers, data = _exchange(method, url, body, headers, deadline)
    except TimeoutError:
        raise TransientError(f"{url}: no complete answer within {timeout:g} s") from None
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, cut-off answers
        raise TransientError(f"{url}: {_describe(exc)}") from None
    if 200 <= status < 300:
        return Response(status, response_headers, data)
    detail = f"{url} answered HTTP {status} {reason}: {_snippet(data)}"
    if status in RETRY_STATUSES:
        raise TransientError(detail, _retry_after(response_headers.get("retry-after")))
    raise UpstreamError(detail)


def _exchange(
    method: str, url: str, body: bytes | None, headers: Mapping[str, str], deadline: float
) -> tuple[int, str, dict[str, str], bytes]:
    import http.client

    parts = urlsplit(url)
    connection_cls = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_cls(parts.netloc, timeout=_remaining(deadline))
    try:
        target = parts.path or "/"
        connection.request(
            method,
            f"{target}?{parts.query}" if parts.query else target,
            body=body,
            headers=dict(headers),
        )
        response = connection.getresponse()
        chunks = []
        while chunk := response.read(CHUNK):
            chunks.append(chunk)
            if connection.sock is not None:
                connection.sock.settimeout(_remaining(deadline))
        headers_out = {k.lower(): v for k, v in response.getheaders()}
        return response.status, response.reason, headers_out, b"".join(chunks)
    finally:
        connection.close()


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: not worth parsing, use our own backoff
        return None


def _snippet(data: bytes, limit: int = 160) -> str:
    text = " ".join(data[:2000].decode("utf-8", "replace").split())
    return (text[:limit] + "…") if len(text) > limit else (text or "(empty body)")


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    text = str(exc)
    return f"{name}: {text}" if text else name
