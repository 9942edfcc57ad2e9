"""The ``podcast-gen`` command line: a thin Typer layer over the library.

``podcast-gen SOURCE… -l en`` runs the default ``make`` command; subcommands come from the
built-in command module and from plugins through the ``register_commands`` hook.  Errors
print one line on stderr (``--debug`` shows the traceback) and exit with the codes in
:mod:`podcast.errors`.  Only this package imports typer and rich.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperGroup

from ..errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, PodcastError

__all__ = ["main", "make_app"]

DEFAULT_COMMAND = "make"
PASS_THROUGH = {"--help", "-h", "--version"}


class DefaultGroup(TyperGroup):
    """A group that runs ``make`` when the first argument is not a subcommand, so
    ``podcast-gen doc.pdf -l en`` works literally."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in PASS_THROUGH:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return [DEFAULT_COMMAND, *sorted(n for n in names if n != DEFAULT_COMMAND)]


def make_app() -> typer.Typer:
    """Build the application: built-in commands, then every plugin's ``register_commands``."""
    from ..plugins import get_plugins
    from . import commands, show, tools

    app = typer.Typer(
        cls=DefaultGroup,
        add_completion=False,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
        help="Turn a web page, PDF or text file into a finished two-host podcast episode.\n\n"
        "Run `podcast-gen SOURCE… -l en|zh` (the default `make` command) or a subcommand.",
    )
    commands.register(app)
    show.register(app)
    tools.register(app)
    get_plugins().register_commands(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns (and exits with) the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("PODCAST_GEN_DEBUG") == "1"
    args = [a for a in args if a != "--debug"] or ["--help"]
    try:
        command = typer.main.get_command(make_app())
        result = command.main(args, prog_name="podcast-gen", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except PodcastError as exc:
        code = _fail(f"error: {exc}", exc.exit_code, debug)
    except (KeyboardInterrupt, typer.Abort):
        code = _fail("interrupted", EXIT_INTERRUPTED, debug)
    except typer.Exit as exc:
        code = exc.exit_code
    except Exception as exc:
        code = _unexpected(exc, debug)
    if argv is None:
        sys.exit(code)
    return code


def _unexpected(exc: Exception, debug: bool) -> int:
    """Usage errors from the command-line parser, or a bug (said so in one line)."""
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click-style UsageError
        return _fail(f"usage error: {exc.format_message()} (see --help)", EXIT_USAGE, debug)
    message = f"internal error: {type(exc).__name__}: {exc} (re-run with --debug for the traceback)"
    return _fail(" ".join(message.split()), EXIT_INTERNAL, debug)


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc(file=sys.stderr)
    print(message, file=sys.stderr)
    return code
