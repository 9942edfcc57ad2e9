"""Already written scripts: ``[S1]…[S2]…`` files skip the writer and go straight to speech.

A source is a script when its name ends in ``.script.txt`` or when its first line that is
neither blank nor a ``#`` comment/title line starts with a speaker tag (``[S1]``, ``[S2]``…).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from podcast.errors import InputError
from podcast.models import Document, Script, Section, frozen_mapping
from podcast.options import option
from podcast.stage import Ingester

from .charset import decode_text, looks_binary, utf16_without_bom
from .language import guess_language
from .source import DEFAULT_MAX_BYTES, display_name, is_url, read_source, sniff, stem_title

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

    @dataclass(frozen=True, slots=True)
    class Options:
        """Options of the script ingester."""

        max_bytes: int = option(DEFAULT_MAX_BYTES, "Refuse script files larger than this many bytes.")

    @classmethod
    def accepts(cls, source: str) -> bool:
        if is_url(source):
            return False
        if source.lower().endswith(SCRIPT_SUFFIX):
            return True
        head = sniff(source)
        if looks_binary(head):
            return False
        codec = utf16_without_bom(head) or ("utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8")
        return looks_like_script(head.decode(codec, "replace"))

    def ingest(self, source: str, ctx: StageContext) -> Document:
        data = read_source(source, self.options.max_bytes, "ingest.script.max_bytes")
        return script_document(decode_text(data), source)


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
