"""The commented ``show.toml`` that ``podcast-gen show init`` writes."""

from __future__ import annotations

import json

__all__ = ["show_template"]

_TEMPLATE = """\
# A podcast-gen show: `podcast-gen show run {folder}` (from cron) turns new items of the
# sources below into episodes and publishes public/feed.xml. See the README, "Shows".

[show]
title = "{title}"
description = "{description}"
author = "{author}"
language = "{language}"                      # en or zh
base_url = "{base_url}"   # where the folder public/ is served
mode = "each"          # each: one episode per new item; digest: one episode per run, a chapter per item
max_new = 3            # new items taken per run (oldest first)
keep = 50              # episodes kept in the feed and on disk
explicit = false
category = "Technology"                       # an Apple Podcasts category
# owner_email = "you@example.org"             # Apple asks for it when you submit the feed
# image = "cover.jpg"                         # 1400-3000 px square; a plain cover is drawn otherwise
# max_attempts = 3                            # a failing item is retried on later runs, then given up
# retry_after_minutes = 0                     # wait before a retry (doubles each attempt)

# Sources: RSS 2.0 / Atom feeds (each item's link is fetched, or its full content when the feed
# carries it), and inbox folders (files dropped there become episodes, then move to done/).
[[sources]]
feed = "https://example.org/blog/rss.xml"

[[sources]]
folder = "inbox"

# After a run that published something: `folder` needs nothing (serve public/ as it is);
# `command` runs a shell command in this folder (PODCAST_PUBLIC_DIR is set).
[publish]
publishers = ["folder"]
# publishers = ["folder", "command"]
# command = "rsync -a --delete public/ www.example.org:/srv/podcast/"

# Any section of the normal configuration applies to the show's episodes:
# [pipeline]
# write = "openai"          # needs OPENAI_API_KEY in the environment (see examples/cron)
# synthesize = "auto"
# [speakers.S1]
# name = "Alex"
# [stages.write.openai]
# model = "gpt-4o-mini"
"""


def show_template(folder: str, title: str, base_url: str, language: str, author: str) -> str:
    """The template with the given values (TOML strings escaped)."""
    values = {
        "folder": folder,
        "title": _quote(title),
        "description": _quote(f"Episodes of {title}, made by podcast-gen."),
        "author": _quote(author),
        "language": language,
        "base_url": _quote(base_url),
    }
    return _TEMPLATE.format(**values)


def _quote(text: str) -> str:
    """The inside of a TOML basic string (JSON's escapes are valid TOML escapes)."""
    return json.dumps(text, ensure_ascii=False)[1:-1]
