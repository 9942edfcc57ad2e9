"""Reading sources: files, ``-`` (standard input, read once) and URL detection.

Several ingesters sniff the same source to decide whether they accept it; standard input
can be read only once, so its bytes are kept for the lifetime of the ``sys.stdin`` object.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

from podcast.errors import InputError

__all__ = [
    "STDIN",
    "clean_text",
    "display_name",
    "is_url",
    "read_source",
    "sniff",
    "source_suffix",
    "stem_title",
]

STDIN = "-"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SNIFF = 4096
# (stdin object, its bytes): re-read when sys.stdin is replaced (tests, embedding apps).
_stdin_cache: tuple[object, bytes] | None = None


def is_url(source: str) -> bool:
    """True for anything shaped like ``scheme://…`` (the URL ingester refuses bad schemes)."""
    return bool(_URL.match(source))


def source_suffix(source: str) -> str:
    """Lower-case file suffix of a path source ('' for ``-`` and URLs)."""
    if source == STDIN or is_url(source):
        return ""
    return Path(source).suffix.lower()


def display_name(source: str) -> str:
    """How a source is named in messages."""
    return "standard input" if source == STDIN else source


def stem_title(source: str) -> str:
    """A fallback title: the file name without suffixes, or 'stdin'."""
    if source == STDIN:
        return "stdin"
    name = Path(source).name
    return name.split(".", 1)[0] or name


def _stdin_bytes() -> bytes:
    global _stdin_cache
    stream = sys.stdin
    if _stdin_cache is None or _stdin_cache[0] is not stream:
        raw = getattr(stream, "buffer", None)
        data = raw.read() if raw is not None else stream.read().encode("utf-8")
        _stdin_cache = (stream, data)
    return _stdin_cache[1]


def read_source(source: str) -> bytes:
    """All bytes of a file or of standard input.

    :raises InputError: missing file, a directory, or unreadable.
    """
    if source == STDIN:
        return _stdin_bytes()
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise InputError(f"{source} is a directory; pass a file, URL or '-'") from None
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None


def sniff(source: str, size: int = _SNIFF) -> bytes:
    """The first ``size`` bytes of a file or stdin; ``b''`` when it cannot be read."""
    if is_url(source):
        return b""
    if source == STDIN:
        return _stdin_bytes()[:size]
    try:
        with Path(source).expanduser().open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


_PRIVATE_USE = frozenset({"Co", "Cs"})
_CJK_BREAK = re.compile(
    r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])\n(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])"
)


def clean_text(text: str) -> str:
    """Normalize extracted text without changing its words.

    Drops private-use and surrogate code points (icon fonts), NUL and other control
    characters except newlines and tabs, unifies line endings, trims trailing spaces, joins
    lines broken between two CJK characters, and collapses three or more blank lines.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in _PRIVATE_USE | {"Cc"}
    )
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _CJK_BREAK.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
