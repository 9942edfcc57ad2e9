"""Web pages and documents by URL, fetched with the guarded client in :mod:`.net`.

HTML goes to the article extractor, PDF (by content type or magic bytes) to the PDF
reader, plain text and Markdown to the text reader.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar

from podcast.models import Document, frozen_mapping
from podcast.options import option
from podcast.stage import Ingester

from .source import is_url

if TYPE_CHECKING:
    from podcast.stage import StageContext

    from .net import Fetched, FetchLimits

__all__ = ["UrlIngester", "document_from_response"]

MARKDOWN_TYPES = frozenset({"text/markdown", "text/x-markdown"})


class UrlIngester(Ingester):
    """Anything shaped like ``scheme://…``; only http and https are fetched."""

    name: ClassVar[str] = "url"
    priority: ClassVar[int] = 100

    @dataclass(frozen=True, slots=True)
    class Options:
        """Options of the URL ingester (network safety limits)."""

        connect_timeout: float = option(10.0, "Seconds to wait for the TCP/TLS connection.")
        read_timeout: float = option(30.0, "Seconds to wait for each read from the server.")
        timeout: float = option(
            60.0, "Seconds the whole fetch may take, redirects included (a trickling server is cut off)."
        )
        max_bytes: int = option(20 * 1024 * 1024, "Refuse bodies larger than this many bytes.")
        max_redirects: int = option(5, "Follow at most this many redirects.")
        allow_private: bool = option(
            False, "Fetch private, loopback and link-local addresses (CLI --allow-private-urls)."
        )
        allowed_networks: tuple[str, ...] = option(
            (), "Private networks (CIDR, e.g. 10.1.0.0/16) to allow without allow_private."
        )
        user_agent: str = option(
            "podcast-gen (+https://github.com/podcast-gen/podcast-gen)", "User-Agent header."
        )

    @classmethod
    def accepts(cls, source: str) -> bool:
        return is_url(source)

    def limits(self) -> FetchLimits:
        """The fetch limits these options describe."""
        from .net import FetchLimits

        o = self.options
        return FetchLimits(
            connect_timeout=o.connect_timeout,
            read_timeout=o.read_timeout,
            timeout=o.timeout,
            max_bytes=o.max_bytes,
            max_redirects=o.max_redirects,
            allow_private=o.allow_private,
            allowed_networks=tuple(o.allowed_networks),
            user_agent=o.user_agent,
        )

    def ingest(self, source: str, ctx: StageContext) -> Document:
        from .net import fetch

        return document_from_response(source, fetch(source, self.limits()))


def document_from_response(source: str, response: Fetched) -> Document:
    """Route a fetched body to the PDF, HTML or text reader by type."""
    from .charset import decode_html
    from .pdf import pdf_document
    from .text import text_document
    from .webpage import html_document

    extra = {"url": response.url}
    if response.is_pdf:
        return pdf_document(response.body, source, metadata=extra)
    if response.is_html:
        return html_document(
            response.body, source, charset=response.charset, url=response.url, metadata=extra
        )
    text = decode_html(response.body, response.charset)
    markdown = response.media_type in MARKDOWN_TYPES or response.url.lower().endswith(".md")
    doc = text_document(text, source, markdown=markdown, kind="url")
    return replace(doc, metadata=frozen_mapping({**doc.metadata, **extra}))
