"""Generic boilerplate pruning for HTML trees, run before trafilatura.

Trafilatura keeps some page furniture that sits *inside* the article wrapper: navigation
boxes, "related" and "next story" teaser lists, comment sections, newsletter and
call-to-action boxes.  These are recognised here by the words that sites conventionally
put in ``class``/``id`` attributes and by ARIA roles — never by site names — and removed
from the tree.  Wrappers that hold the article (``html``, ``body``, ``main``, ``article``
or anything containing them) are never removed, because CMSs put words like
``comments-open`` on those too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

__all__ = ["BOILERPLATE_TOKENS", "is_boilerplate", "prune_boilerplate"]

# Single class/id words (after splitting on punctuation and camelCase) that mark furniture.
BOILERPLATE_TOKENS = frozenset(
    {
        "comment",
        "comments",
        "commentlist",
        "disqus",
        "respond",
        "navbox",
        "navframe",
        "breadcrumb",
        "breadcrumbs",
        "pagination",
        "newsletter",
        "subscribe",
        "subscription",
        "signup",
        "paywall",
        "related",
        "recirculation",
        "recirc",
        "teaser",
        "teasers",
        "nextstory",
        "recommended",
        "recommendations",
        "outbrain",
        "taboola",
        "trending",
        "share",
        "sharing",
        "social",
        "cta",
        "promo",
        "sponsored",
        "advert",
        "ads",
    }
)
# Multi-word patterns, matched against the joined lower-case words.
_PHRASES = re.compile(
    r"\b(next post|next posts|more stories|read more|you may like|most popular|letters cta)\b"
)
_ROLES = frozenset({"navigation", "complementary", "contentinfo", "banner", "search", "dialog"})
_KEEP_TAGS = frozenset({"html", "body", "main", "article"})
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def _words(value: str) -> list[str]:
    """Lower-case words of an attribute value: ``RelatedCoverage-x`` → related, coverage, x."""
    return [w for w in _SPLIT.split(_CAMEL.sub(" ", value).lower()) if w]


def is_boilerplate(element: HtmlElement) -> bool:
    """True when the element's class, id or role names it as page furniture."""
    if (element.get("role") or "").strip().lower() in _ROLES:
        return True
    words = _words(f"{element.get('class') or ''} {element.get('id') or ''}")
    if not words:
        return False
    return any(w in BOILERPLATE_TOKENS for w in words) or bool(_PHRASES.search(" ".join(words)))


def _holds_article(element: HtmlElement) -> bool:
    """True for wrappers that are or contain the article proper (never prune those)."""
    if not isinstance(element.tag, str) or element.tag.lower() in _KEEP_TAGS:
        return True
    return bool(element.xpath(".//article|.//main|.//h1|.//*[@itemprop='articleBody']"))


def prune_boilerplate(tree: HtmlElement) -> int:
    """Remove furniture elements from ``tree`` in place; return how many were removed.

    The tail text of a removed element is kept (it belongs to the parent's flow).
    """
    doomed = [
        el
        for el in tree.iter()
        if isinstance(el.tag, str) and is_boilerplate(el) and not _holds_article(el)
    ]
    removed = 0
    for element in doomed:
        if element.getparent() is not None and _still_attached(element, tree):
            element.drop_tree()
            removed += 1
    return removed


def _still_attached(element: HtmlElement, root: HtmlElement) -> bool:
    """An element whose ancestor was already dropped needs no second removal."""
    node = element
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False
