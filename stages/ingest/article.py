"""Main-text extraction from HTML: generic pruning, then trafilatura, then sections.

Plain ``trafilatura.extract`` keeps navboxes, teaser lists and comment sections that sit
inside the article wrapper, and trusts JSON-LD titles that some CMSs fill with their own
name.  This module:

1. decodes the bytes (BOM, HTTP charset, ``<meta>``, detection — see :mod:`.charset`),
2. reads metadata and title candidates from the untouched tree,
3. prunes furniture by class/id/role words (:mod:`.prune`),
4. extracts with trafilatura in precision mode, falling back to its balanced mode when
   precision keeps too little of the text (e.g. a post that lives only in ``<noscript>``),
5. turns trafilatura's XML into sections at each heading.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podcast.models import Section

if TYPE_CHECKING:
    from lxml.etree import _Element
    from lxml.html import HtmlElement

__all__ = ["Article", "choose_title", "extract_article"]

# Precision mode is preferred unless it keeps less than this share of balanced mode's text.
PRECISION_MIN_SHARE = 0.5
_BLOCKS = frozenset({"p", "list", "quote", "code", "table"})
_SPACE = re.compile(r"[ \t\r\f\v]+")
# Inline TeX that trafilatura recovers from MathML alt text: unpronounceable for a host.
_TEX = re.compile(r"\{\\displaystyle[^{}]*(?:\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}[^{}]*)*\}")


@dataclass(frozen=True, slots=True)
class Article:
    """What one HTML page yielded: title, sections and metadata (author, date, site…)."""

    title: str
    sections: tuple[Section, ...]
    metadata: Mapping[str, Any]


def extract_article(html: str, url: str | None = None) -> Article:
    """Extract the main text of the decoded page ``html``; empty sections when none is found."""
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:
        return Article("", (), {})
    meta = trafilatura.extract_metadata(copy.deepcopy(tree), default_url=url)
    title = choose_title(meta.title if meta else None, _html_titles(tree))
    from .prune import prune_boilerplate

    prune_boilerplate(tree)
    sections = _drop_title_heading(_sections(_best_extraction(tree, url)), title)
    return Article(title, sections, _metadata(meta, url))


def _drop_title_heading(sections: tuple[Section, ...], title: str) -> tuple[Section, ...]:
    """The page's h1 often opens the text; as a section heading it would repeat the title."""
    if sections and title and sections[0].heading and _agrees(sections[0].heading, title):
        first = Section("", sections[0].text)
        return (first, *sections[1:]) if first.text else sections[1:]
    return sections


def _best_extraction(tree: HtmlElement, url: str | None) -> _Element | None:
    """Precision-mode XML unless it lost most of balanced mode's text."""
    precise = _extract_xml(tree, url, favor_precision=True)
    balanced = _extract_xml(tree, url, favor_precision=False)
    if precise is None or balanced is None:
        return precise if balanced is None else balanced
    share = _text_len(precise) / max(1, _text_len(balanced))
    return precise if share >= PRECISION_MIN_SHARE else balanced


def _extract_xml(tree: HtmlElement, url: str | None, *, favor_precision: bool) -> _Element | None:
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        copy.deepcopy(tree),
        url=url,
        output_format="xml",
        include_comments=False,
        include_tables=True,
        favor_precision=favor_precision,
    )
    if not xml:
        return None
    root = etree.fromstring(xml.encode("utf-8"))
    return root.find("main")


def _text_len(main: _Element) -> int:
    return sum(len(t.strip()) for t in main.itertext())


# ── XML → sections ──────────────────────────────────────────────────────────────


def _sections(main: _Element | None) -> tuple[Section, ...]:
    """Split trafilatura's ``<main>`` at each ``<head>``; text blocks go under the last heading."""
    if main is None:
        return ()
    builder = _SectionBuilder()
    builder.walk(main)
    return builder.finish()


class _SectionBuilder:
    """Collects blocks in document order, starting a new section at each heading.

    Trafilatura sometimes leaves layout wrappers (``cell``, ``div``) between ``<main>`` and
    the blocks, so unknown elements are descended into rather than skipped.
    """

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.heading = ""
        self.texts: list[str] = []

    def walk(self, element: _Element) -> None:
        for child in element:
            if child.tag == "head":
                self._flush()
                self.heading = _inline_text(child)
            elif child.tag in _BLOCKS:
                self.texts.extend(t for t in _block_texts(child) if t)
            elif len(child):
                self.walk(child)
            elif text := _inline_text(child):
                self.texts.append(text)

    def _flush(self) -> None:
        if self.heading or self.texts:
            self.sections.append(Section(self.heading, "\n\n".join(self.texts)))
        self.heading, self.texts = "", []

    def finish(self) -> tuple[Section, ...]:
        self._flush()
        return tuple(self.sections)


def _block_texts(element: _Element) -> Iterator[str]:
    """Plain text of one block: list items and table rows become separate lines."""
    if element.tag == "list":
        yield "\n".join(_inline_text(item) for item in element.findall("item"))
    elif element.tag == "table":
        rows = (
            " | ".join(_inline_text(c) for c in row.iter("cell")) for row in element.iter("row")
        )
        yield "\n".join(r for r in rows if r.strip(" |"))
    elif element.tag == "code":
        yield "".join(element.itertext()).strip("\n")
    else:
        yield _inline_text(element)


def _inline_text(element: _Element) -> str:
    """Text with ``<lb/>`` as a line break, runs of spaces collapsed and TeX alt text dropped."""
    parts: list[str] = []
    _collect(element, parts)
    text = _TEX.sub("", "".join(parts))
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _collect(node: _Element, parts: list[str]) -> None:
    if node.text:
        parts.append(node.text)
    for child in node:
        if child.tag == "lb":
            parts.append("\n")
        else:
            _collect(child, parts)
        if child.tail:
            parts.append(child.tail)


# ── title and metadata ──────────────────────────────────────────────────────────


def _html_titles(tree: HtmlElement) -> list[str]:
    """Title candidates from the markup, best first: og:title, first h1, head <title>."""
    found = [
        *tree.xpath("//meta[@property='og:title' or @name='twitter:title']/@content"),
        *(h.text_content() for h in tree.xpath("//body//h1")[:1]),
        *(t.text_content() for t in tree.xpath("/html/head/title")[:1]),
    ]
    return [" ".join(t.split()) for t in found if t and t.strip()]


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _agrees(a: str, b: str) -> bool:
    """Two titles agree when one contains the other or they share half their words."""
    x, y = a.casefold(), b.casefold()
    if x in y or y in x:
        return True
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.5


def choose_title(meta_title: str | None, html_titles: list[str]) -> str:
    """Trafilatura's title when the markup confirms it, else the best markup title.

    Structured data sometimes holds a CMS placeholder instead of the headline; a title
    that no og:title, h1 or <title> agrees with is not trusted.
    """
    if meta_title and (not html_titles or any(_agrees(meta_title, t) for t in html_titles)):
        return meta_title
    return html_titles[0] if html_titles else (meta_title or "")


def _metadata(meta: Any, url: str | None) -> dict[str, Any]:
    found: dict[str, Any] = {"url": url} if url else {}
    if meta is None:
        return found
    for key in ("author", "date", "sitename", "description"):
        value = getattr(meta, key, None)
        if value:
            found[key] = value
    return found
