"""Helpers for ingest tests: a route table for the local HTTP server, generated PDFs."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

Route = Callable[[BaseHTTPRequestHandler], None]

# A news page with the usual furniture around a two-part article.
ARTICLE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Tidal Power Returns | Example News</title>
<meta property="og:title" content="Tidal power returns to the Severn estuary">
</head><body>
<nav role="navigation"><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Tidal power returns to the Severn estuary</h1>
<p class="byline">By Ada Writer</p>
<p>Engineers have restarted the old tidal barrage study after twenty years of silence, and this
time the turbines are small enough to let fish swim through them unharmed.</p>
<p>The estuary has the second highest tidal range in the world, which means that twice a day an
enormous volume of water moves in and out of the channel, carrying energy that nobody uses.</p>
<h2>Why now</h2>
<p>Cheaper turbine designs and a new storage market have changed the sums: the power arrives at
predictable hours, so grid operators can plan for it days ahead instead of guessing.</p>
<p>Local fishermen remain cautious but say the smaller machines are a real improvement over the
concrete wall proposed in the nineties.</p>
<div class="newsletter-signup"><p>Sign up for our daily newsletter and never miss a story.</p></div>
<ul class="related-stories"><li><a href="/x">Wind farms break another output record</a></li>
<li><a href="/y">Solar roofs are now mandatory in three more towns</a></li></ul>
</article>
<section id="comments" class="comments-area"><h2>Comments</h2>
<div class="comment"><p>Reader42: I have been waiting for this for my whole life honestly.</p></div>
</section>
<footer role="contentinfo"><p>Copyright Example News Group. All rights reserved.</p></footer>
</body></html>"""


@dataclass
class LocalServer:
    """An HTTP server on 127.0.0.1 whose paths are answered by plain functions."""

    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def add(
        self,
        path: str,
        status: int = 200,
        body: bytes = b"",
        content_type: str = "text/html",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Serve ``body`` at ``path`` with ``status`` and headers."""

        def route(handler: BaseHTTPRequestHandler) -> None:
            send(handler, status, body, content_type, headers)

        self.routes[path] = route

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.add(path, status, b"", "text/html", {"Location": location})


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    if content_type:
        handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


# ── generated PDFs ──────────────────────────────────────────────────────────────

PAGE_TEXTS = (
    "Chapter one. The quick brown fox jumps over the lazy dog near the river bank.",
    "Chapter two. Podcasts turn long documents into conversations between two hosts.",
    "Chapter three. Every page of this generated file carries its own sentence.",
)


def make_text_pdf(
    pages: tuple[str, ...] = PAGE_TEXTS, title: str = "Generated Test Document"
) -> bytes:
    """A real multi-page PDF with a text layer (core Helvetica font)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author("Test Author")
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def make_image_pdf() -> bytes:
    """A one-page PDF holding only a picture of text: no text layer (like a scan)."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (400, 120), "white")
    ImageDraw.Draw(image).text((10, 40), "This text is only pixels", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(io.BytesIO(buffer.getvalue()), x=10, y=10, w=150)
    return bytes(pdf.output())


def encrypt_pdf(data: bytes, user_password: str, owner_password: str = "owner-secret") -> bytes:
    """Encrypt ``data`` with pypdf's writer (AES-256)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password, algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def slow_route(delay: float, body: bytes) -> Route:
    """Headers at once, then the body after ``delay`` seconds (a server slower than the timeout)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.flush()
        time.sleep(delay)
        with contextlib.suppress(OSError):  # the client gave up, as it should
            handler.wfile.write(body)

    return route


def endless_route(chunk: bytes, total: int) -> Route:
    """A body of ``total`` bytes with no Content-Length (the client must stop reading itself)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        sent = 0
        try:
            while sent < total:
                handler.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        handler.close_connection = True

    return route


def trickle_route(body: bytes, interval: float) -> Route:
    """Headers at once, then the body one byte every ``interval`` seconds: every read is quick,
    only a total deadline stops the client."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        try:
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:  # the client gave up, as it should
            pass

    return route


def short_body_route(body: bytes, declared: int) -> Route:
    """Declares ``declared`` bytes in Content-Length, sends ``body`` (fewer) and closes."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        handler.close_connection = True

    return route
