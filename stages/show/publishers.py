"""Publishers: what happens after a show run has written ``public/``.

``folder`` (the default) publishes nothing more: the folder is what a web server serves.
``command`` runs ``[publish] command`` (``rsync``, ``aws s3 sync`` …) in the show folder.
Plugins add publishers (object storage, SFTP, a CMS) through the ``register_publishers`` hook.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar

from podcast.errors import ConfigError, UpstreamError

from .settings import ShowSettings

__all__ = ["CommandPublisher", "FolderPublisher", "PublishResult", "Publisher", "publishers_of", "run_publishers"]


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What one publisher did: its name, whether it succeeded, and a one-line message."""

    name: str
    ok: bool
    message: str
    exit_status: int | None = None


class Publisher:
    """Base of publishers: ``name`` and :meth:`publish`."""

    name: ClassVar[str] = ""

    def publish(self, show: ShowSettings, summary: dict[str, Any]) -> str:
        """Publish ``show.public`` after a run; return a one-line message.

        ``summary`` is the run's report (published, failed, feed). Raise a
        :class:`~podcast.PodcastError` with a one-line message on failure.
        """
        raise NotImplementedError


class FolderPublisher(Publisher):
    """The show's ``public/`` folder is the publication; nothing else to do."""

    name: ClassVar[str] = "folder"

    def publish(self, show: ShowSettings, summary: dict[str, Any]) -> str:
        return f"{show.public} is up to date"


class CommandPublisher(Publisher):
    """Run ``[publish] command`` through the shell in the show folder (``PODCAST_SHOW_DIR``,
    ``PODCAST_PUBLIC_DIR`` and ``PODCAST_FEED`` are set); its exit status is reported."""

    name: ClassVar[str] = "command"

    def publish(self, show: ShowSettings, summary: dict[str, Any]) -> str:
        command = show.publish.command
        if not command:
            raise ConfigError("the command publisher needs [publish] command = \"...\"")
        env = {
            **os.environ,
            "PODCAST_SHOW_DIR": str(show.folder),
            "PODCAST_PUBLIC_DIR": str(show.public),
            "PODCAST_FEED": str(show.public / "feed.xml"),
        }
        try:
            done = subprocess.run(
                command, shell=True, cwd=show.folder, env=env, timeout=show.publish.timeout,
                stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace", check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise UpstreamError(f"publish command timed out after {show.publish.timeout:g} s: {command}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            raise _CommandFailed(done.returncode, f"publish command exited {done.returncode}: {tail[0]}")
        return f"publish command exited 0: {command}"


class _CommandFailed(UpstreamError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def publishers_of(plugins: Any) -> dict[str, type[Publisher]]:
    """Every registered publisher by name (built-ins and plugins)."""
    found: dict[str, type[Publisher]] = {}

    def register(cls: type[Publisher]) -> None:
        if not (isinstance(cls, type) and issubclass(cls, Publisher) and cls.name):
            raise ConfigError(f"register_publishers: {cls!r} is not a named Publisher subclass")
        if cls.name in found:
            raise ConfigError(f"two publishers are named {cls.name!r}")
        found[cls.name] = cls

    plugins.pm.hook.register_publishers(register=register)
    return found


def run_publishers(show: ShowSettings, summary: dict[str, Any], plugins: Any) -> list[PublishResult]:
    """Run the show's publishers in order; a failure is reported, not raised."""
    known = publishers_of(plugins)
    results = []
    for name in show.publish.publishers:
        cls = known.get(name)
        if cls is None:
            raise ConfigError(f"unknown publisher {name!r} in [publish]; installed: {', '.join(sorted(known))}")
        try:
            results.append(PublishResult(name, True, cls().publish(show, summary), 0 if name == "command" else None))
        except _CommandFailed as exc:
            results.append(PublishResult(name, False, str(exc), exc.status))
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is reported in the run's JSON
            results.append(PublishResult(name, False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    return results
