"""Already written scripts: ``[S1]…[S2]…`` files skip the writer and go straight to speech.

A source is a script when its name ends in ``.script.txt`` or when its first line that is
neither blank nor a ``#`` comment/title line starts with a speaker tag (``[S1]``, ``[S2]``…).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from podcast.errors import InputError
from podcast.models import Document, Script, Section, frozen_mapping
from podcast.stage import Ingester

from .charset import decode_text
from .language import guess_language
from .source import display_name, is_url, read_source, sniff, stem_title

if TYPE_CHECKING:
    from podcast.stage import StageContext

__all__ = ["SCRIPT_SUFFIX", "ScriptIngester", "looks_like_script", "script_document"]

SCRIPT_SUFFIX = ".script.txt"
_TAG = re.compile(r"^\[S\d+\]")


def looks_like_script(text: str) -> bool:
    """True when the first non-blank, non-``#`` line starts with a speaker tag."""
    for line in text.splitlines():
        line = line.strip().lstrip("\ufeff")
        if line and not line.startswith("#"):
            return bool(_TAG.match(line))
    return False


class ScriptIngester(Ingester):
    """Script files (``*.script.txt`` or text whose first line is ``[S1]…``)."""

    name: ClassVar[str] = "script"
    priority: ClassVar[int] = 50

    @classmethod
    def accepts(cls, source: str) -> bool:
        if is_url(source):
            return False
        if source.lower().endswith(SCRIPT_SUFFIX):
            return True
        head = sniff(source)
        return b"\x00" not in head and looks_like_script(head.decode("utf-8", "replace"))

    def ingest(self, source: str, ctx: StageContext) -> Document:
        return script_document(decode_text(read_source(source)), source)


def script_document(text: str, source: str) -> Document:
    """A ``kind="script"`` document whose single section holds the script text verbatim.

    :raises InputError: the text has no ``[S1]``/``[S2]`` turns.
    """
    text = text.replace("\r\n", "\n").strip()
    language = guess_language(re.sub(r"\[S\d+\]", " ", text))
    try:
        script = Script.parse(text, language)
    except ValueError as exc:
        raise InputError(f"{display_name(source)} is not a valid [S1]/[S2] script: {exc}") from None
    title = script.title or stem_title(source).removesuffix(".script")
    return Document(
        source,
        "script",
        title,
        (Section("", text),),
        language,
        frozen_mapping({"turns": len(script.turns)}),
    )
