"""The writer contract: Document → Script.

Every ``write`` stage subclasses :class:`Writer` and implements :meth:`Writer.write`.  The
base class handles what all writers share: a source that already is a script is parsed
instead of written, the script is validated and saved as the editable ``script.txt``, and
on a re-run an edited ``script.txt`` wins over the cached result.

Reads ``Episode.document``; writes ``Episode.script``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from .errors import InputError, StageError
from .models import Document, Episode, Script, Speaker
from .runfiles import atomic_write_text
from .stage import Stage, StageContext

__all__ = ["SCRIPT_FILE", "Writer", "check_script"]

SCRIPT_FILE = "script.txt"


class Writer(Stage):
    """Base of script writers (LLM or offline)."""

    kind: ClassVar[str] = "write"
    reads: ClassVar[tuple[str, ...]] = ("document",)
    writes: ClassVar[tuple[str, ...]] = ("script",)

    def write(self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext) -> Script:
        """Write a dialogue about ``document`` in ``language`` for ``speakers``."""
        raise NotImplementedError

    def cache_salt(self, ctx: StageContext) -> str:
        """Speaker names/roles and the target length also change the script."""
        hosts = [(k, dict(v)) for k, v in sorted(ctx.config.speakers.items())]
        return f"{hosts!r}|{ctx.config.minutes}"

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        document = episode.document
        if document is None:
            raise StageError("the write stage needs an ingested document")
        language = episode.language or document.language or "en"
        speakers = ctx.config.speaker_list(language)
        if document.kind == "script":
            script = _parse_source_script(document, language, speakers)
        else:
            script = self.write(document, language, speakers, ctx)
        check_script(script)
        atomic_write_text(ctx.require_run_dir() / SCRIPT_FILE, script.to_file_text())
        return replace(episode, script=script)

    def reuse(self, episode: Episode, previous: Episode, ctx: StageContext) -> Episode | None:
        """Reuse the saved script file, including any edits the user made to it."""
        path = ctx.require_run_dir() / SCRIPT_FILE
        if previous.script is None or not path.exists():
            return None
        try:
            script = Script.parse(path.read_text(encoding="utf-8"), previous.script.language, previous.script.speakers)
        except ValueError as exc:
            raise InputError(f"{path} is not a valid script ({exc}); fix it or delete it to re-write") from None
        check_script(script)
        return replace(episode, script=script)


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
