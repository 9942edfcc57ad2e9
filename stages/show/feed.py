"""The podcast feed: RSS 2.0 with the iTunes tags Apple requires and the Podcasting 2.0 namespace.

Written with lxml rather than feedgen: feedgen's podcast extension covers the iTunes tags but
not the Podcasting 2.0 namespace (``podcast:guid``, ``podcast:transcript``,
``podcast:chapters``, ``podcast:person``), and lxml lets every element sit in its own
namespace with a stable prefix. The feed is a pure function of the show's settings and state,
so a run that publishes nothing rewrites identical bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import formatdate
from urllib.parse import quote

from lxml import etree

from .settings import ShowSettings
from .state import Entry

__all__ = ["FEED_FILE", "EPISODE_FILES", "render_feed"]

FEED_FILE = "feed.xml"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
NSMAP = {"itunes": ITUNES, "podcast": PODCAST, "atom": ATOM, "content": CONTENT}
# Files an episode folder holds (besides cover.png) and their MIME types
EPISODE_FILES = {
    "episode.mp3": "audio/mpeg",
    "episode.vtt": "text/vtt",
    "episode.srt": "application/x-subrip",
    "episode.transcript.json": "application/json",
    "episode.chapters.json": "application/json+chapters",
}
TRANSCRIPTS = ("episode.vtt", "episode.srt", "episode.transcript.json")


def render_feed(show: ShowSettings, entries: Sequence[Entry], hosts: Sequence[str], generator: str) -> bytes:
    """The whole feed document (UTF-8 bytes); ``entries`` newest first."""
    rss = etree.Element("rss", nsmap=NSMAP, version="2.0")
    channel = _sub(rss, "channel")
    _channel(channel, show, entries, hosts, generator)
    for entry in entries:
        _item(_sub(channel, "item"), show, entry, hosts)
    return etree.tostring(rss, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _sub(parent: etree._Element, tag: str, text: str | None = None, ns: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}" if ns else tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _channel(channel: etree._Element, show: ShowSettings, entries: Sequence[Entry], hosts: Sequence[str], generator: str) -> None:
    cover = show.url("cover.png")
    _sub(channel, "title", show.title)
    _sub(channel, "link", show.base_url)
    _sub(channel, "description", show.description)
    _sub(channel, "language", show.language)
    _sub(channel, "generator", generator)
    if entries:
        _sub(channel, "lastBuildDate", entries[0].pub_date)
    _sub(channel, "link", ns=ATOM, href=show.feed_url, rel="self", type="application/rss+xml")
    image = _sub(channel, "image")
    _sub(image, "url", cover)
    _sub(image, "title", show.title)
    _sub(image, "link", show.base_url)
    _sub(channel, "author", show.author, ns=ITUNES)
    _sub(channel, "summary", show.description, ns=ITUNES)
    _sub(channel, "image", ns=ITUNES, href=cover)
    category = _sub(channel, "category", ns=ITUNES, text_=show.category)
    if show.subcategory:
        _sub(category, "category", ns=ITUNES, text_=show.subcategory)
    _sub(channel, "explicit", "true" if show.explicit else "false", ns=ITUNES)
    _sub(channel, "type", "episodic", ns=ITUNES)
    if show.owner_email:
        owner = _sub(channel, "owner", ns=ITUNES)
        _sub(owner, "name", show.author, ns=ITUNES)
        _sub(owner, "email", show.owner_email, ns=ITUNES)
    _sub(channel, "guid", show.guid, ns=PODCAST)
    _sub(channel, "locked", "no", ns=PODCAST)
    for host in hosts:
        _sub(channel, "person", host, ns=PODCAST, role="host", group="cast")


def _item(item: etree._Element, show: ShowSettings, entry: Entry, hosts: Sequence[str]) -> None:
    folder = f"episodes/{quote(entry.slug)}/"
    _sub(item, "title", entry.title)
    _sub(item, "description", _description(entry))
    if entry.link:
        _sub(item, "link", entry.link)
    _sub(item, "guid", entry.guid, isPermaLink="false")
    _sub(item, "pubDate", entry.pub_date)
    mp3 = entry.files.get("episode.mp3", {})
    _sub(item, "enclosure", url=show.url(folder + "episode.mp3"), length=str(mp3.get("bytes", 0)), type="audio/mpeg")
    _sub(item, "duration", _duration(entry.duration or 0.0), ns=ITUNES)
    _sub(item, "episodeType", "full", ns=ITUNES)
    _sub(item, "explicit", "true" if show.explicit else "false", ns=ITUNES)
    _sub(item, "image", ns=ITUNES, href=show.url(folder + "cover.png"))
    for name in TRANSCRIPTS:
        if name in entry.files:
            _sub(item, "transcript", ns=PODCAST, url=show.url(folder + name), type=EPISODE_FILES[name], language=show.language)
    if "episode.chapters.json" in entry.files:
        _sub(item, "chapters", ns=PODCAST, url=show.url(folder + "episode.chapters.json"), type="application/json+chapters")
    for host in hosts:
        _sub(item, "person", host, ns=PODCAST, role="host", group="cast")


def _description(entry: Entry) -> str:
    if len(entry.items) > 1:
        return f"{entry.title}: {len(entry.items)} stories."
    return f"{entry.title}" + (f" — from {entry.link}" if entry.link else "")


def _duration(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def rfc2822(timestamp: float) -> str:
    """A pubDate in RFC 2822 form (UTC)."""
    return formatdate(timestamp, usegmt=True)
