"""Built-in commands: ``make`` (the default), ``ingest``, ``plugins`` and ``stages``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ..plugins import get_plugins
from .params import (
    ConfigFile,
    Json,
    Language,
    Minutes,
    Output,
    Private,
    Rewrite,
    Sets,
    Sources,
    StageSel,
    Synth,
    Voices,
    Writer,
    build_config,
)

__all__ = ["register"]

MAKE_EPILOG = """\b
Examples:
  podcast-gen article.pdf -l en                 an English episode in ./podcasts/
  podcast-gen https://example.org/post -l zh -o ~/podcasts
  podcast-gen notes.md --minutes 5 --synth espeak
  podcast-gen script notes.md -o script.txt     write the script, edit it, then:
  podcast-gen script.txt -l en                  make the episode from your edit
  OPENAI_API_KEY=… podcast-gen paper.pdf        an LLM writes the conversation

\b
When something fails:
  --debug (or PODCAST_GEN_DEBUG=1)  show the full traceback after the one-line error
  exit codes: 2 usage, 3 bad input, 4 service down, 5 synthesis, 6 locked, 7 output
"""


def register(app: typer.Typer) -> None:
    """Add the built-in commands to ``app``."""
    app.command("make", help="Turn SOURCE… into a finished episode (the default command).", epilog=MAKE_EPILOG)(make)
    app.command("ingest", help="Extract a document and print it as Markdown (or JSON).")(ingest)
    app.command("plugins", help="List installed plugins with versions, hooks and stages.")(plugins)
    app.command("stages", help="List stage implementations and their options.")(stages)
    app.callback(invoke_without_command=True)(_root)


def _root(
    version: Annotated[bool, typer.Option("--version", help="Show versions and exit.", is_eager=True)] = False,
) -> None:
    if version:
        from importlib.metadata import version as dist_version

        typer.echo(f"podcast-gen {dist_version('podcast-gen')}")
        raise typer.Exit()


def make(
    sources: Sources,
    language: Language = None,
    output: Output = None,
    writer: Writer = None,
    synth: Synth = None,
    minutes: Minutes = None,
    config_file: ConfigFile = None,
    sets: Sets = None,
    stage: StageSel = None,
    voice: Voices = None,
    allow_private_urls: Private = False,
    lock_timeout: Annotated[
        float | None,
        typer.Option(
            "--lock-timeout", metavar="SECONDS", help="How long to wait for another run on the same episode to finish."
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", metavar="STEP", help="Stop after this step, e.g. write or normalize.")
    ] = None,
    rewrite: Rewrite = False,
    as_json: Json = False,
) -> None:
    from ..api import episode_summary, make_episode
    from .reporter import reporting

    overrides = {
        "language": language,
        "output": output,
        "write": writer,
        "synthesize": synth,
        "minutes": minutes,
        "lock_timeout": lock_timeout,
        "rewrite": rewrite or None,
    }
    config = build_config(config_file, sets, allow_private_urls, stage=stage, voices=voice, overrides=overrides)
    with reporting(quiet=False):
        episode = make_episode(sources, config, get_plugins(), until=until)
    summary = episode_summary(episode)
    _emit(summary, as_json, lambda s: s["audio"] or s["episode_dir"])


def ingest(
    sources: Sources,
    language: Language = None,
    config_file: ConfigFile = None,
    sets: Sets = None,
    allow_private_urls: Private = False,
    as_json: Json = False,
) -> None:
    from ..api import ingest as ingest_document
    from ..serialize import to_jsonable

    config = build_config(config_file, sets, allow_private_urls, overrides={"language": language})
    document = ingest_document(sources, config, get_plugins())
    payload = {**to_jsonable(document), "text": document.text, "hash": document.hash}
    _emit(payload, as_json, lambda d: f"# {d['title']}\n\n{d['text']}")


def plugins(as_json: Json = False) -> None:
    from ..api import plugin_listing

    rows = plugin_listing(get_plugins())
    _emit({"plugins": rows}, as_json, lambda p: "\n".join(_plugin_line(r) for r in p["plugins"]))


def stages(
    options: Annotated[bool, typer.Option("--options", help="Also list each stage's options.")] = False,
    as_json: Json = False,
) -> None:
    from ..api import stage_listing

    rows = stage_listing(get_plugins())
    _emit({"stages": rows}, as_json, lambda p: "\n".join(_stage_lines(r, options) for r in p["stages"]))


# ── helpers ─────────────────────────────────────────────────────────────────────


def _emit(payload: dict[str, Any], as_json: bool, human: Any) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": True, **payload}, ensure_ascii=False))
    else:
        typer.echo(human(payload))


def _plugin_line(row: dict[str, Any]) -> str:
    stages = ", ".join(row["stages"]) or "-"
    return f"{row['name']} {row['version']}{' (built-in)' if row['builtin'] else ''}\n  hooks: {', '.join(row['hooks'])}\n  stages: {stages}"


def _stage_lines(row: dict[str, Any], with_options: bool) -> str:
    stage_id = f"{row['kind']}.{row['name']}"
    lines = [f"{stage_id:<25} {_plain(row['summary'])}  [{row['plugin']}]"]
    if with_options:
        lines += [f"    {o['name']} ({_option_kind(o)}): {_plain(o['help'])}" for o in row["options"]]
    return "\n".join(lines)


_TYPE_WORDS = {"bool": "true/false", "int": "whole number", "float": "number", "str": "text", "Path": "file"}


def _option_kind(option: dict[str, Any]) -> str:
    """``number, default 170`` / ``file, not set by default`` instead of ``float | NoneType``."""
    parts = [p.strip() for p in str(option["type"]).split("|") if p.strip() != "NoneType"]
    words = []
    for part in parts:
        inner = part.removeprefix("list[").removesuffix("]")
        word = _TYPE_WORDS.get(inner, inner.strip("'\""))
        words.append(f"comma-separated list of {word}" if part.startswith("list[") else word)
    default = option["default"]
    if default is None or default == [] or default == ():
        said = "not set by default"
    elif default == "":
        said = "empty by default"
    elif isinstance(default, bool):
        said = f"default {str(default).lower()}"
    elif isinstance(default, (list, tuple)):
        said = "default " + ",".join(map(str, default))
    else:
        said = f"default {default}"
    return f"{' or '.join(words)}, {said}"


def _plain(text: str) -> str:
    """Help text without reST markup (````code````, ```code```)."""
    return text.replace("``", "").replace("`", "")
