"""HTML pages (from a URL or a saved ``.html`` file) → :class:`~podcast.models.Document`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from podcast.errors import InputError
from podcast.models import Document, frozen_mapping
from podcast.options import option
from podcast.stage import Ingester

from .language import guess_language
from .source import DEFAULT_MAX_BYTES, display_name, read_source, sniff, source_suffix

if TYPE_CHECKING:
    from podcast.stage import StageContext

__all__ = ["HTML_SUFFIXES", "HtmlIngester", "html_document", "looks_like_html"]

HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml", ".shtml"})
_HTML_MARKS = (b"<!doctype html", b"<html", b"<head", b"<body")


def looks_like_html(head: bytes) -> bool:
    """True when the first bytes look like an HTML document."""
    start = head[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith(_HTML_MARKS) or (
        start.startswith(b"<?xml") and b"<html" in head.lower()
    )


def html_document(
    data: bytes,
    source: str,
    *,
    charset: str | None = None,
    url: str | None = None,
    kind: str = "url",
    metadata: Mapping[str, Any] | None = None,
) -> Document:
    """Extract the article of an HTML page.

    :param charset: the HTTP header's charset, if any (the ``<meta>`` tag and detection
        are used otherwise).
    :raises InputError: no main text could be found.
    """
    from .article import extract_article
    from .charset import decode_html

    article = extract_article(decode_html(data, charset), url)
    if not article.sections:
        raise InputError(
            f"no article text found in {display_name(source)}; is it a page that needs JavaScript?"
        )
    body = "\n\n".join(s.text for s in article.sections)
    meta = {**article.metadata, **(metadata or {})}
    title = article.title or (article.sections[0].heading if article.sections[0].heading else "")
    return Document(
        source, kind, title, article.sections, guess_language(body), frozen_mapping(meta)
    )


class HtmlIngester(Ingester):
    """Saved web pages (``.html``/``.htm`` or files that start like HTML)."""

    name: ClassVar[str] = "html"
    priority: ClassVar[int] = 20

    @dataclass(frozen=True, slots=True)
    class Options:
        """Options of the saved-page ingester."""

        max_bytes: int = option(DEFAULT_MAX_BYTES, "Refuse HTML files larger than this many bytes.")

    @classmethod
    def accepts(cls, source: str) -> bool:
        return source_suffix(source) in HTML_SUFFIXES or looks_like_html(sniff(source))

    def ingest(self, source: str, ctx: StageContext) -> Document:
        data = read_source(source, self.options.max_bytes, "ingest.html.max_bytes")
        return html_document(data, source, kind="html")
