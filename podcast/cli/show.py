"""``podcast-gen show init DIR`` and ``podcast-gen show run DIR…`` (the cron command)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..errors import EXIT_OK, EXIT_PARTIAL, ConfigError, PodcastError
from .params import Json, Private

__all__ = ["register"]

ShowDir = Annotated[Path, typer.Argument(metavar="DIR", help="The show folder (holds show.toml).")]


def register(app: typer.Typer) -> None:
    """Add the ``show`` command group to ``app``."""
    group = typer.Typer(
        help="Shows: follow feeds and folders, publish a podcast feed (run `show run` from cron).",
        no_args_is_help=True,
    )
    group.command("init", help="Write a commented show.toml (and an inbox/ folder) into DIR.")(init)
    group.command(
        "run",
        help="Turn each show's new items into episodes and rewrite its public/feed.xml. Exit 0: all "
        "published (or nothing new); 8: some items failed, others published; 6: another run holds the lock.",
    )(run)
    app.add_typer(group, name="show")


def init(
    folder: ShowDir,
    title: Annotated[str, typer.Option("--title", help="The show's title.")] = "My Show",
    base_url: Annotated[
        str, typer.Option("--base-url", metavar="URL", help="Where DIR/public/ will be served.")
    ] = "https://example.org/podcast/",
    language: Annotated[str, typer.Option("-l", "--language", metavar="en|zh", help="Episode language.")] = "en",
    author: Annotated[str, typer.Option("--author", help="Author shown in podcast apps.")] = "podcast-gen",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing show.toml.")] = False,
) -> None:
    from ..runfiles import atomic_write_text
    from ..stages.show.settings import SHOW_FILE
    from ..stages.show.template import show_template

    target = folder / SHOW_FILE
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; edit it, or pass --force to overwrite it")
    if language not in ("en", "zh"):
        raise ConfigError(f"--language must be en or zh, not {language!r}")
    atomic_write_text(target, show_template(str(folder), title, base_url, language, author))
    (folder / "inbox").mkdir(parents=True, exist_ok=True)
    typer.echo(str(target))


def run(
    folders: Annotated[list[Path], typer.Argument(metavar="DIR…", help="Show folders, each with show.toml.")],
    as_json: Json = False,
    allow_private_urls: Private = False,
    lock_timeout: Annotated[
        float, typer.Option("--lock-timeout", metavar="SECONDS", help="Wait this long for another run of a show.")
    ] = 60.0,
) -> None:
    from ..plugins import get_plugins
    from ..stages.show.runner import RunOptions, run_show
    from .reporter import reporting

    options = RunOptions(allow_private_urls=allow_private_urls, lock_timeout=lock_timeout)
    reports, errors = [], []
    _log_to_stderr()
    for folder in folders:
        try:
            with reporting(quiet=True):
                reports.append(run_show(folder, options, get_plugins()))
        except PodcastError as exc:
            if len(folders) == 1 and not as_json:
                raise
            errors.append({"show": str(folder), "error": str(exc), "exit_code": exc.exit_code})
            typer.echo(f"error: {folder}: {exc}", err=True)
    code = _overall(reports, errors)
    if as_json:
        typer.echo(json.dumps(_summary(reports, errors, code), ensure_ascii=False))
    else:
        for report in reports:
            typer.echo(str(report.feed))
    if code != EXIT_OK:
        raise typer.Exit(code)


def _log_to_stderr() -> None:
    """One plain line per item on stderr (cron mails or journald keep them)."""
    logger = logging.getLogger("podcast.show")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _overall(reports: list, errors: list[dict]) -> int:
    codes = [r.exit_code for r in reports] + [e["exit_code"] for e in errors]
    if all(c == EXIT_OK for c in codes):
        return EXIT_OK
    if any(r.published for r in reports) or any(c == EXIT_OK for c in codes):
        return EXIT_PARTIAL
    return next(c for c in codes if c != EXIT_OK)


def _summary(reports: list, errors: list[dict], code: int) -> dict:
    shows = [r.as_json() for r in reports]
    return {
        "ok": code == EXIT_OK,
        "exit_code": code,
        "new": sum(s["new"] for s in shows),
        "published": [p for s in shows for p in s["published"]],
        "failed": [f for s in shows for f in s["failed"]] + errors,
        "skipped": [k for s in shows for k in s["skipped"]],
        "feed": shows[0]["feed"] if len(shows) == 1 else [s["feed"] for s in shows],
        "shows": shows,
    }
