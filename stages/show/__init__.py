"""Shows: follow RSS/Atom feeds and inbox folders, turn each new item into an episode (or one
digest per run), and publish a podcast feed — the unattended, cron-driven way to use podcast-gen.

A show is a folder with ``show.toml`` (see :mod:`.settings`); ``podcast-gen show run DIR`` is
the cron command (:mod:`.runner`). This module registers the built-in publishers.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast.hookspecs import hookimpl

from .publishers import CommandPublisher, FolderPublisher, Publisher

__all__ = ["register_publishers"]


@hookimpl
def register_publishers(register: Callable[[type[Publisher]], None]) -> None:
    register(FolderPublisher)
    register(CommandPublisher)
