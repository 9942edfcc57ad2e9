"""The writer contract: Document → Script.

Every ``write`` stage subclasses :class:`Writer` and implements :meth:`Writer.write`.  The
base class handles what all writers share: a source that already is a script is parsed
instead of written, the script is validated and saved as the editable ``script.txt``, and
the user's edits of that file are never lost:

* on a re-run with the same inputs the saved file (with any edits) is the script;
* when the writer would run again (other ``--minutes``, other source text…) over a file the
  user edited — its hash differs from the one recorded when it was written — the edited file
  is kept and used, and one warning says so; ``--rewrite`` writes a new script and keeps the
  edited one as ``script.<n>.txt``.

Voices are not writer input: changing ``--voice`` re-synthesizes only.

Reads ``Episode.document``; writes ``Episode.script``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from .errors import InputError, StageError
from .models import Document, Episode, Script, Speaker, content_hash
from .runfiles import atomic_write_text
from .stage import Stage, StageContext

__all__ = ["SCRIPT_FILE", "Writer", "check_script"]

SCRIPT_FILE = "script.txt"
#: The hash of script.txt as the writer last wrote it (to tell hand edits apart).
WRITTEN_FILE = ".script.written"


class Writer(Stage[Any]):
    """Base of script writers (LLM or offline)."""

    kind: ClassVar[str] = "write"
    reads: ClassVar[tuple[str, ...]] = ("document",)
    writes: ClassVar[tuple[str, ...]] = ("script",)

    def write(self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext) -> Script:
        """Write a dialogue about ``document`` in ``language`` for ``speakers`` (ids, names and
        roles); return a :class:`Script` whose turns use only those speaker ids."""
        raise NotImplementedError

    def cache_salt(self, ctx: StageContext) -> str:
        """Who speaks (ids, names, roles) and the target length also change the script; voices
        do not (``--voice`` re-synthesizes only)."""
        configured = ctx.config.speakers
        hosts = [(sid, {f: v for f, v in configured.get(sid, {}).items() if f in ("name", "role")}) for sid in ctx.config.speaker_ids()]
        return json.dumps([hosts, ctx.config.minutes], sort_keys=True, ensure_ascii=False)

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        document = episode.document
        if document is None:
            raise StageError("the write stage needs an ingested document")
        language = episode.language or document.language or "en"
        speakers = ctx.config.speaker_list(language)
        run_dir = ctx.require_run_dir()
        edited = _edited_script(run_dir)
        if edited is not None and not ctx.config.rewrite:
            return self._keep_edit(episode, edited, language, speakers, ctx)
        if document.kind == "script":
            script = _parse_source_script(document, language, speakers)
        else:
            script = self.write(document, language, speakers, ctx)
        check_script(script)
        if edited is not None:
            kept = _set_aside(edited)
            episode = _warn(episode, ctx, f"script.txt had hand edits; --rewrite wrote a new one and kept them in {kept.name}")
        _save_script(run_dir, script.to_file_text())
        return replace(episode, script=script)

    def reuse(self, episode: Episode, previous: Episode, ctx: StageContext) -> Episode | None:
        """Reuse the saved script file, including any edits the user made to it (unless
        ``--rewrite`` asks for a new script over an edited one)."""
        path = ctx.require_run_dir() / SCRIPT_FILE
        if previous.script is None or not path.exists():
            return None
        if ctx.config.rewrite and _edited_script(path.parent) is not None:
            return None
        script = _read_script(path, previous.script.language, previous.script.speakers)
        return replace(episode, script=script)

    def _keep_edit(
        self, episode: Episode, path: Path, language: str, speakers: tuple[Speaker, ...], ctx: StageContext
    ) -> Episode:
        script = _read_script(path, language, speakers)
        message = f"kept your edited {path} (the writer would have replaced it); pass --rewrite to write a new one"
        return replace(_warn(episode, ctx, message), script=script)


def _read_script(path: Path, language: str, speakers: tuple[Speaker, ...]) -> Script:
    try:
        script = Script.parse(path.read_text(encoding="utf-8"), language, speakers)
    except ValueError as exc:
        raise InputError(f"{path} is not a valid script ({exc}); fix it or delete it to re-write") from None
    check_script(script)
    return script


def _edited_script(run_dir: Path) -> Path | None:
    """``script.txt`` when the user changed it since the writer wrote it (or it has no record)."""
    path = run_dir / SCRIPT_FILE
    if not path.is_file():
        return None
    record = run_dir / WRITTEN_FILE
    written = record.read_text(encoding="utf-8").strip() if record.is_file() else ""
    return path if content_hash(path.read_bytes()) != written else None


def _save_script(run_dir: Path, text: str) -> None:
    atomic_write_text(run_dir / SCRIPT_FILE, text)
    atomic_write_text(run_dir / WRITTEN_FILE, content_hash(text.encode("utf-8")) + "\n")


def _set_aside(path: Path) -> Path:
    """Rename the edited ``script.txt`` to the first free ``script.<n>.txt``."""
    number = 1
    while (kept := path.with_name(f"script.{number}.txt")).exists():
        number += 1
    path.rename(kept)
    return kept


def _warn(episode: Episode, ctx: StageContext, message: str) -> Episode:
    ctx.log.warning(message)
    return replace(episode, warnings=(*episode.warnings, message))


def _parse_source_script(document: Document, language: str, speakers: tuple[Speaker, ...]) -> Script:
    try:
        script = Script.parse(document.text, language, speakers)
    except ValueError as exc:
        raise InputError(f"{document.source} is not a valid [S1]/[S2] script: {exc}") from None
    return replace(script, title=script.title or document.title)


def check_script(script: Script) -> None:
    """Refuse scripts the synthesizers cannot speak (unknown speakers, empty turns)."""
    known = {s.id for s in script.speakers}
    for index, turn in enumerate(script.turns):
        if known and turn.speaker not in known:
            raise InputError(
                f"turn {index + 1} uses speaker {turn.speaker} but only {', '.join(sorted(known))} are configured"
            )
        if not turn.text.strip():
            raise InputError(f"turn {index + 1} ({turn.speaker}) is empty; remove it or add text")
