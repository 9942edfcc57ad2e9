"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (real sockets).

Each test queues :class:`Reply` objects (or installs a ``responder`` that builds one from the
request); the server answers ``POST …/chat/completions`` streaming (SSE) or not, exactly as the
request asks, lists one model on ``GET …/models`` and records every request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer: assistant ``content`` or an HTTP error ``status``."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: str = "scripted failure"
    delay: float = 0.0
    usage: tuple[int, int] | None | str = "auto"  # "auto": about 4 characters a token, as real servers count
    finish_reason: str = "stop"
    stall: float = 0.0  # seconds of silence after the first streamed piece
    raw: bytes | None = None  # sent as is (status 200, raw_type) instead of a completion
    raw_type: str = "text/html"
    trickle: float = 0.0  # seconds between streamed pieces of 40 characters


@dataclass
class Seen:
    """A request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float

    @property
    def prompt_chars(self) -> int:
        return sum(len(m.get("content") or "") for m in self.body.get("messages", []))

    @property
    def user(self) -> str:
        """The last user message (a repair request on a second try)."""
        return self.body["messages"][-1]["content"]

    @property
    def prompt(self) -> str:
        """The first user message: the task itself."""
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")


class LLMServer:
    """Start with :meth:`start`; ``url`` is the base URL (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, prefix: str = "/v1", model: str = "local-test-model", context: int | None = 131072) -> None:
        self.context = context  # advertised like vLLM's max_model_len (None: say nothing)
        # Extra JSON routes of server families (Ollama's /api/*, llama-server's /props, …):
        # (method, path) -> function(request body) -> answer; ``models`` replaces the listing.
        self.routes: dict[tuple[str, str], Callable[[dict[str, Any]], Any]] = {}
        self.models: Callable[[], Any] | None = None
        self.prefix, self.model = prefix.rstrip("/"), model
        self.replies: deque[Reply] = deque()
        self.responder: Callable[[Seen], Reply] | None = None
        self.requests: list[Seen] = []
        self.refuse_schema = False
        self.streams = True  # False: ignore "stream": true and answer with one JSON body
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    @property
    def chats(self) -> list[Seen]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def queue(self, *replies: Reply | str) -> None:
        self.replies.extend(Reply(r) if isinstance(r, str) else r for r in replies)

    def start(self) -> LLMServer:
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def next_reply(self, seen: Seen) -> Reply:
        if self.refuse_schema and "response_format" in seen.body:
            return Reply(status=400, error="response_format is not supported")
        if self.replies:
            return self.replies.popleft()
        if self.responder is not None:
            return self.responder(seen)
        return Reply(status=500, error="the test queued no reply")


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up is expected
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    owner: LLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        route = self.owner.routes.get(("GET", self.path.rstrip("/")))
        if route is not None:
            self.owner.requests.append(Seen(self.path, dict(self.headers.items()), {}, time.monotonic()))
            self._json(200, route({}))
        elif self.path.rstrip("/").endswith("/models") and self.owner.models is not None:
            self._json(200, self.owner.models())
        elif self.path.rstrip("/").endswith("/models"):
            self.owner.requests.append(
                Seen(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, {}, time.monotonic()
                )
            )
            self._json(
                200,
                {
                    "object": "list",
                    "data": [{"id": self.owner.model, "object": "model", "owned_by": "test",
                              **({"max_model_len": self.owner.context} if self.owner.context else {})}],
                },
            )
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        seen = Seen(
            self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()
        )
        self.owner.requests.append(seen)
        route = self.owner.routes.get(("POST", self.path.rstrip("/")))
        if route is not None:
            self._json(200, route(body))
            return
        if not self.path.endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        reply = self.owner.next_reply(seen)
        if reply.delay:
            time.sleep(reply.delay)
        if reply.raw is not None:
            self._raw(reply)
        elif reply.status != 200:
            self._json(
                reply.status, {"error": {"message": reply.error, "type": "test"}}, reply.headers
            )
        elif body.get("stream") and self.owner.streams:
            self._stream(reply, body)
        else:
            self._json(200, _completion(reply, body))

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _raw(self, reply: Reply) -> None:
        self.send_response(200)
        self.send_header("content-type", reply.raw_type)
        self.send_header("content-length", str(len(reply.raw or b"")))
        self.end_headers()
        self.wfile.write(reply.raw or b"")

    def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        model = body.get("model", "")
        content = reply.content
        pieces = [content[i : i + 40] for i in range(0, len(content), 40)] or [""]
        for index, piece in enumerate(pieces):
            self._event(_chunk(model, {"role": "assistant", "content": piece}, None))
            if index == 0 and reply.stall:
                time.sleep(reply.stall)
            time.sleep(reply.trickle)
        self._event(_chunk(model, {}, reply.finish_reason))
        if (body.get("stream_options") or {}).get("include_usage") and reply.usage:
            self._event({**_chunk(model, {}, None), "choices": [], "usage": _usage(reply, body)})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()


def prompt_chars(body: dict[str, Any]) -> int:
    return sum(len(m.get("content") or "") for m in body.get("messages", []))


def _usage(reply: Reply, body: dict[str, Any]) -> dict[str, int]:
    if reply.usage == "auto":
        prompt, completion = prompt_chars(body) // 4, max(len(reply.content) // 4, 1)
    else:
        prompt, completion = reply.usage or (0, 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _completion(reply: Reply, body: dict[str, Any]) -> dict[str, Any]:
    model = body.get("model", "")
    payload = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.content},
                "finish_reason": reply.finish_reason,
            }
        ],
    }
    if reply.usage:
        payload["usage"] = _usage(reply, body)
    return payload
