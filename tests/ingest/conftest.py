"""Fixtures for ingest tests: a real HTTP server on 127.0.0.1 and PDFs made with fpdf2."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from podcast.config import Config
from podcast.stage import StageContext

from .ingest_helpers import LocalServer, make_text_pdf, send


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalServer]:
    """A threaded HTTP server on 127.0.0.1 (port chosen by the OS) for the whole session."""
    state = LocalServer(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hosts.append(self.headers.get("Host", ""))
            route = state.routes.get(self.path.split("?", 1)[0])
            if route is None:
                send(self, 404, b"not here", "text/plain")
            else:
                route(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def ctx() -> StageContext:
    return StageContext(config=Config())


@pytest.fixture(scope="session")
def text_pdf() -> bytes:
    return make_text_pdf()
