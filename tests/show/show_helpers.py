"""Feed sites on the session's 127.0.0.1 server and show folders for the show tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path

from tests.ingest.ingest_helpers import LocalServer

WORDS = (
    "Tidal turbines sit on the sea floor where currents run fast and steady. Engineers like them "
    "because the tide is predictable years ahead, unlike wind or sun. Each turbine has blades that "
    "turn slowly, and the generator sits in a sealed nacelle. Maintenance is hard: divers and boats "
    "need calm water, so designs favour parts that can be lifted out in one piece. Costs have fallen "
    "as arrays grew from single prototypes to farms of several machines."
)


@dataclass
class FeedSite:
    """Articles and an RSS feed served by the session's HTTP server under a per-test prefix."""

    server: LocalServer
    prefix: str

    def url(self, path: str) -> str:
        return self.server.url(self.prefix + path)

    def article(self, slug: str, title: str, extra: str = "") -> str:
        body = f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        body += "".join(f"<p>{title}: {WORDS} {extra}</p>" for _ in range(2)) + "</article></body></html>"
        self.server.add(self.prefix + f"/{slug}", 200, body.encode(), "text/html; charset=utf-8")
        return self.url(f"/{slug}")

    def feed(self, items: list[dict[str, str]], path: str = "/rss.xml") -> str:
        """An RSS 2.0 feed; items newest first (as feeds list them), each with title/link/guid/day."""
        parts = []
        for item in items:
            when = formatdate(1764806400 + 86400 * int(item["day"]), usegmt=True)
            content = f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if "content" in item else ""
            parts.append(
                f"<item><title>{item['title']}</title><link>{item['link']}</link>"
                f"<guid isPermaLink=\"false\">{item['guid']}</guid><pubDate>{when}</pubDate>{content}</item>"
            )
        xml = (
            '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
            f"<channel><title>Blog</title><link>{self.url('/')}</link><description>d</description>{''.join(parts)}"
            "</channel></rss>"
        )
        self.server.add(self.prefix + path, 200, xml.encode(), "application/rss+xml")
        return self.url(path)


def write_show(folder: Path, feed: str | None, *, mode: str = "each", max_new: int = 3, keep: int = 50,
               extra: str = "", inbox: bool = False) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    sources = f'[[sources]]\nfeed = "{feed}"\n' if feed else ""
    if inbox:
        sources += '[[sources]]\nfolder = "inbox"\n'
    (folder / "show.toml").write_text(
        f"""[show]
title = "Tidal Weekly"
description = "Short episodes about tidal energy."
author = "Jane Doe"
language = "en"
base_url = "https://example.org/tidal/"
mode = "{mode}"
max_new = {max_new}
keep = {keep}

{sources}
[pipeline]
write = "offline"
synthesize = "espeak"
minutes = 1
{extra}
""",
        encoding="utf-8",
    )
    return folder


def run_show(*folders: Path, timeout: float = 600, extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``podcast-gen show run DIR… --json --allow-private-urls`` through the console script."""
    command = [str(Path(sys.executable).with_name("podcast-gen")), "show", "run", *map(str, folders),
               "--json", "--allow-private-urls", *extra]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)


def start_show(folder: Path, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    command = [str(Path(sys.executable).with_name("podcast-gen")), "show", "run", str(folder), "--json",
               "--allow-private-urls", *extra]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
