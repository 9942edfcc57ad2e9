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
from typer.core import TyperArgument, TyperGroup, TyperOption
from typer.core import _TyperParameter as TyperParam

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
        "Run podcast-gen SOURCE… -l en|zh (the default make command) or one of the commands below; "
        "podcast-gen COMMAND --help says more.",
    )
    commands.register(app)
    show.register(app)
    tools.register(app)
    get_plugins().register_commands(app)
    return app


def build_command(app: typer.Typer | None = None) -> Any:
    """The click command behind ``app`` (default: :func:`make_app`), with plain help words."""
    command = typer.main.get_command(app or make_app())
    _plain_words(command)
    return command


# ── help text in plain words ────────────────────────────────────────────────────

_WORDS = {"int": "N", "float": "NUMBER", "str": "TEXT", "bool": "", "path": "PATH", "file": "FILE", "dir": "FOLDER"}


def _word(param: Any, ctx: Any) -> str:
    """``TEXT``, ``N``, ``NUMBER``, ``PATH`` instead of ``<list[str]>``-style type names."""
    label = TyperParam.display_type(param, ctx).strip("<>")
    label = label.removeprefix("list[").removesuffix("]")
    return _WORDS.get(label, label.upper())


class _PlainOption(TyperOption):
    def display_type(self, ctx: Any) -> str:
        return _word(self, ctx)


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str:
        return ""

    def _rich_display_name(self) -> str:
        return self.display_name_raw if self.metavar else self.name.upper()

    def _usage_display_name(self) -> str:
        name = self._rich_display_name()
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"


def _plain_words(command: Any) -> None:
    """Swap typer's ``{name}`` / ``<list[str]>`` help rendering for click-style plain words
    on every command, including plugin commands."""
    for param in getattr(command, "params", ()):
        if type(param) is TyperOption:
            param.__class__ = _PlainOption
        elif type(param) is TyperArgument:
            param.__class__ = _PlainArgument
    for sub in getattr(command, "commands", {}).values():
        _plain_words(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns (and exits with) the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("PODCAST_GEN_DEBUG") == "1"
    args = [a for a in args if a != "--debug"] or ["--help"]
    fail = _Failure(debug, as_json="--json" in args)
    try:
        command = build_command()
        result = command.main(args, prog_name="podcast-gen", standalone_mode=False)
        code = result if isinstance(result, int) else 0
        if code == EXIT_INTERRUPTED:  # typer turns Ctrl-C into a silent exit code 130
            code = fail("interrupted", "", EXIT_INTERRUPTED)
    except PodcastError as exc:
        code = fail("error", str(exc), exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        code = fail("interrupted", "", EXIT_INTERRUPTED)
    except typer.Exit as exc:
        code = exc.exit_code
    except Exception as exc:
        code = _unexpected(exc, fail)
    if argv is None:
        sys.exit(code)
    return code


def _unexpected(exc: Exception, fail: _Failure) -> int:
    """Usage errors from the command-line parser, or a bug (said so in one line)."""
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click-style UsageError
        return fail("usage error", f"{exc.format_message()} (see --help)", EXIT_USAGE)
    return fail("internal error", f"{type(exc).__name__}: {exc} (re-run with --debug for the traceback)", EXIT_INTERNAL)


class _Failure:
    """Say a failure: one line on stderr (the traceback first with ``--debug``) and, under
    ``--json``, one ``{"ok": false, …}`` object on stdout so run logs record failures too."""

    def __init__(self, debug: bool, as_json: bool) -> None:
        self.debug, self.as_json = debug, as_json

    def __call__(self, label: str, detail: str, code: int) -> int:
        detail = " ".join(detail.split())
        if self.debug:
            import traceback

            traceback.print_exc(file=sys.stderr)
        print(f"{label}: {detail}" if detail else label, file=sys.stderr)
        if self.as_json:
            self._json(label, detail, code)
        return code

    def _json(self, label: str, detail: str, code: int) -> None:
        import json

        from .reporter import reported_warnings

        payload = {"ok": False, "exit_code": code, "error": detail or label, "kind": label.replace(" ", "_")}
        payload["warnings"] = reported_warnings()
        print(json.dumps(payload, ensure_ascii=False), flush=True)
