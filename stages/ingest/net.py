"""A small, careful HTTP(S) fetcher for user-supplied URLs.

Why not ``urllib.request``: a podcast job may run on a server, and a URL from a user (or a
cron feed) must not be able to reach the machine's own services.  So every hop:

- accepts only ``http``/``https``;
- resolves the host and refuses private, loopback, link-local, reserved, multicast, shared
  (CGNAT) and cloud-metadata addresses unless ``allow_private`` (or an ``allowed_networks``
  entry) permits them;
- connects to the *checked* IP itself (no second DNS lookup that could be rebound) while
  sending the original ``Host`` header and TLS server name;
- follows redirects by hand, re-checking each target, up to ``max_redirects``;
- enforces connect and read timeouts, a total deadline for the whole fetch (redirects
  included; a server that trickles bytes is cut off), stops reading once the body passes
  ``max_bytes`` and refuses a body shorter than its ``Content-Length``.

Environment proxies are not used: the point is to know which address we talk to.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from podcast.errors import ConfigError, InputError, UpstreamError

__all__ = [
    "ACCEPTED_TYPES",
    "FEED_TYPES",
    "FetchLimits",
    "Fetched",
    "address_allowed",
    "fetch",
    "resolve_checked",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance-metadata endpoints (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba): refused even
# when a broader network is allowed, unless allow_private is set.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
ACCEPTED_TYPES = HTML_TYPES | TEXT_TYPES | PDF_TYPES
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml"}
) | TEXT_TYPES | HTML_TYPES  # feeds are often served as text/plain or text/html
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 65536
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.1"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Safety limits for one fetch (timeouts in seconds, sizes in bytes)."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    timeout: float = 60.0
    max_bytes: int = 20 * 1024 * 1024
    max_redirects: int = 5
    allow_private: bool = False
    allowed_networks: tuple[str, ...] = ()
    user_agent: str = "podcast-gen (+https://github.com/podcast-gen/podcast-gen)"

    def __post_init__(self) -> None:
        if min(self.connect_timeout, self.read_timeout, self.timeout) <= 0 or self.max_bytes <= 0:
            raise ConfigError("ingest.url timeouts and max_bytes must be positive")
        if self.max_redirects < 0:
            raise ConfigError("ingest.url.max_redirects must be 0 or more")
        for network in self.allowed_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ConfigError(
                    f"ingest.url.allowed_networks: {network!r} is not a CIDR network"
                ) from None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful response: final URL, status, media type (lower case, no parameters),
    charset from the header (or ``None``) and the decoded-transfer body bytes."""

    url: str
    status: int
    media_type: str
    charset: str | None
    body: bytes

    @property
    def is_pdf(self) -> bool:
        return self.media_type in PDF_TYPES or self.body.startswith(b"%PDF-")

    @property
    def is_html(self) -> bool:
        return self.media_type in HTML_TYPES


# ── address policy ──────────────────────────────────────────────────────────────


def address_allowed(ip: IPAddress, limits: FetchLimits) -> bool:
    """True when ``ip`` may be contacted under ``limits``."""
    if limits.allow_private:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return False
    if any(ip in ipaddress.ip_network(n, strict=False) for n in limits.allowed_networks):
        return True
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def resolve_checked(host: str, port: int, limits: FetchLimits) -> tuple[str, ...]:
    """Resolve ``host`` and return the addresses that policy allows, in resolver order.

    :raises InputError: every address is private/refused.
    :raises UpstreamError: the name does not resolve.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UpstreamError(f"cannot resolve host {host!r}: {exc}") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(i[4][0].split("%", 1)[0]) for i in infos))
    allowed = tuple(str(ip) for ip in addresses if address_allowed(ip, limits))
    if allowed:
        return allowed
    shown = addresses[0] if addresses else host
    raise InputError(
        f"refusing to fetch {host!r}: it resolves to a private or reserved address ({shown}); "
        "pass --allow-private-urls (ingest.url.allow_private=true) to fetch it anyway"
    )


# ── the total deadline ──────────────────────────────────────────────────────────


class _Deadline:
    """The whole fetch's time limit.  Per-call timeouts are capped by what is left, and a
    timer shuts the open socket down when time runs out, so a server that trickles a byte
    at a time (in the headers, the TLS handshake or the body) cannot hold the fetch."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._timer: threading.Timer | None = None

    def left(self) -> float:
        return self.end - time.monotonic()

    def cap(self, timeout: float) -> float:
        """``timeout`` shortened to the time left (at least a millisecond)."""
        return max(0.001, min(timeout, self.left()))

    def watch(self, sock: socket.socket) -> None:
        """Shut ``sock`` down when the deadline passes."""
        self.cancel()
        self._timer = threading.Timer(max(0.0, self.left()), self._expire, (sock,))
        self._timer.daemon = True
        self._timer.start()

    def _expire(self, sock: socket.socket) -> None:
        self.expired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def check(self, url: str) -> None:
        if self.expired or self.left() <= 0:
            self.expired = True
            raise self.error(url)

    def error(self, url: str) -> UpstreamError:
        return UpstreamError(
            f"fetching {url} took longer than {self.seconds:g} s in all; "
            "try again later or raise ingest.url.timeout"
        )


# ── connections pinned to a checked address ─────────────────────────────────────


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Talks to the checked ``ips`` (first that connects) while addressing ``host`` in the
    Host header; the connect timeout applies per address, the read timeout afterwards."""

    def __init__(
        self, host: str, port: int, ips: tuple[str, ...], limits: FetchLimits, deadline: _Deadline
    ) -> None:
        super().__init__(host, port, timeout=limits.connect_timeout)
        self._ips = ips
        self._read_timeout = limits.read_timeout
        self.deadline = deadline

    def connect(self) -> None:
        error: OSError | None = None
        for ip in self._ips:
            try:
                self.sock = socket.create_connection((ip, self.port), self.deadline.cap(self.timeout))
                self.deadline.watch(self.sock)
                break
            except OSError as exc:
                error = exc
        else:
            raise error or OSError("no address to connect to")
        self.sock.settimeout(self._read_timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """TLS on top of the pinned socket, verified against ``host`` (SNI and certificate)."""

    default_port = 443

    def __init__(
        self, host: str, port: int, ips: tuple[str, ...], limits: FetchLimits, deadline: _Deadline
    ) -> None:
        super().__init__(host, port, ips, limits, deadline)
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        super().connect()
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


# ── fetching ────────────────────────────────────────────────────────────────────


def fetch(url: str, limits: FetchLimits | None = None, accepted: frozenset[str] = ACCEPTED_TYPES) -> Fetched:
    """GET ``url`` under ``limits``, following redirects by hand; ``accepted`` media types only
    (:data:`ACCEPTED_TYPES` for documents, :data:`FEED_TYPES` for RSS/Atom feeds).

    :raises InputError: bad scheme, refused address, too large, unsupported content type.
    :raises UpstreamError: HTTP error status, timeout, connection or TLS failure,
        redirect loop or too many redirects.
    """
    limits = limits or FetchLimits()
    deadline = _Deadline(limits.timeout)
    seen: list[str] = []
    try:
        while True:
            seen.append(url)
            deadline.check(url)
            response, connection = _request(url, limits, deadline)
            try:
                target = _redirect_target(url, response)
                if target is None:
                    return _finish(url, response, (limits, deadline), accepted)
            finally:
                connection.close()
            _check_redirect(target, seen, limits)
            url = target
    finally:
        deadline.cancel()


def _split(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and request target of ``url``; refuses other schemes."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InputError(
            f"refusing URL scheme {scheme or 'none'!r} in {url!r}; only http and https"
        )
    if not parts.hostname:
        raise InputError(f"URL {url!r} has no host name")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise InputError(f"URL {url!r} has an invalid port") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port, target


def _request(
    url: str, limits: FetchLimits, deadline: _Deadline
) -> tuple[http.client.HTTPResponse, _PinnedHTTPConnection]:
    scheme, host, port, target = _split(url)
    ips = resolve_checked(host, port, limits)
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = cls(host, port, ips, limits, deadline)
    headers = {"User-Agent": limits.user_agent, "Accept": _ACCEPT, "Accept-Encoding": "gzip"}
    try:
        connection.request("GET", target, headers=headers)
        return connection.getresponse(), connection
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        deadline.check(url)
        raise _network_error(exc, host, limits) from None


def _network_error(exc: Exception, host: str, limits: FetchLimits) -> UpstreamError:
    """Translate socket-level failures into one-line user errors."""
    if isinstance(exc, TimeoutError):
        return UpstreamError(
            f"{host} did not answer in time (connect {limits.connect_timeout:g} s, "
            f"read {limits.read_timeout:g} s); try again or raise ingest.url.read_timeout"
        )
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return UpstreamError(f"TLS failure talking to {host}: {exc}")
    return UpstreamError(f"could not fetch from {host}: {exc or type(exc).__name__}")


def _redirect_target(url: str, response: http.client.HTTPResponse) -> str | None:
    if response.status not in _REDIRECTS:
        return None
    location = response.getheader("Location")
    if not location:
        raise UpstreamError(f"{url} answered HTTP {response.status} without a Location header")
    return urljoin(url, location.strip())


def _check_redirect(target: str, seen: list[str], limits: FetchLimits) -> None:
    if target in seen:
        raise UpstreamError(f"redirect loop: {seen[-1]} leads back to {target}")
    if len(seen) > limits.max_redirects:
        raise UpstreamError(
            f"more than {limits.max_redirects} redirects starting at {seen[0]}; "
            "raise ingest.url.max_redirects if this is expected"
        )


def _finish(
    url: str, response: http.client.HTTPResponse, bounds: tuple[FetchLimits, _Deadline], accepted: frozenset[str]
) -> Fetched:
    limits, deadline = bounds
    if response.status >= 400 or response.status < 200:
        reason = f" {response.reason}" if response.reason else ""
        raise UpstreamError(f"{url} answered HTTP {response.status}{reason}")
    media_type, charset = _content_type(response.getheader("Content-Type"))
    if media_type and media_type not in accepted:
        raise InputError(
            f"{url} is {media_type}, not a web page, PDF or text; "
            "download it and pass a file instead"
        )
    body = _read_body(url, response, limits, deadline)
    return Fetched(url, response.status, media_type or _sniff_type(body), charset, body)


def _content_type(header: str | None) -> tuple[str, str | None]:
    """Media type (lower case) and charset parameter of a Content-Type header."""
    if not header:
        return "", None
    media, *params = (p.strip() for p in header.split(";"))
    charset = None
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("'\"") or None
    return media.lower(), charset


def _sniff_type(body: bytes) -> str:
    head = body[:1024].lstrip().lower()
    if body.startswith(b"%PDF-"):
        return "application/pdf"
    return (
        "text/html"
        if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head
        else "text/plain"
    )


def _read_body(
    url: str, response: http.client.HTTPResponse, limits: FetchLimits, deadline: _Deadline
) -> bytes:
    """Read at most ``max_bytes`` (after gzip decoding) before the deadline; refuse as soon
    as it is exceeded, and refuse a body that ends before its declared length."""
    declared = response.getheader("Content-Length")
    if declared and declared.isdigit() and int(declared) > limits.max_bytes:
        raise _too_large(url, limits)
    gzipped = (response.getheader("Content-Encoding") or "").lower() in ("gzip", "x-gzip")
    body = bytearray()
    try:
        for piece in _decoded_chunks(response, gzipped, limits.max_bytes):
            body += piece
            if len(body) > limits.max_bytes:
                raise _too_large(url, limits)
            deadline.check(url)
    except zlib.error as exc:
        raise UpstreamError(f"{url} sent a corrupt gzip body: {exc}") from None
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        deadline.check(url)
        raise _network_error(exc, urlsplit(url).hostname or url, limits) from None
    deadline.check(url)
    missing = response.length  # bytes still owed by a Content-Length body (None otherwise)
    if missing:
        raise UpstreamError(
            f"{url} broke off: the server declared {declared} bytes and closed the connection "
            f"{missing} bytes short; try again later"
        )
    return bytes(body)


def _decoded_chunks(response: http.client.HTTPResponse, gzipped: bool, cap: int) -> Iterator[bytes]:
    """Body chunks; gzip is inflated with a bounded output so a zip bomb cannot blow up."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    while chunk := response.read1(_CHUNK):
        if inflater is None:
            yield chunk
            continue
        data = chunk
        while data:
            yield inflater.decompress(data, cap + 1)
            data = inflater.unconsumed_tail


def _too_large(url: str, limits: FetchLimits) -> InputError:
    mb = limits.max_bytes / (1024 * 1024)
    return InputError(f"{url} is larger than {mb:g} MB; raise ingest.url.max_bytes to fetch it")
