"""Reading sources: files, ``-`` (standard input, read once) and URL detection.

Several ingesters sniff the same source to decide whether they accept it; standard input
can be read only once, so its bytes are kept for the lifetime of the ``sys.stdin`` object.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

from podcast.errors import InputError

__all__ = [
    "DEFAULT_MAX_BYTES",
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
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# (stdin object, the bytes read so far, whether its end was reached): re-read when sys.stdin
# is replaced (tests, embedding apps).
_stdin_cache: tuple[object, bytes, bool] | None = None


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


def _stdin_prefix(count: int | None) -> bytes:
    """At least ``count`` bytes of standard input (all of it for ``None``; fewer at its
    end), read once and kept."""
    global _stdin_cache
    stream = sys.stdin
    if _stdin_cache is None or _stdin_cache[0] is not stream:
        _stdin_cache = (stream, b"", False)
    _, data, ended = _stdin_cache
    if not ended and (count is None or len(data) < count):
        raw = getattr(stream, "buffer", None)
        want = -1 if count is None else count - len(data)
        more = (raw.read(want) if raw is not None else stream.read(want).encode("utf-8")) or b""
        data, ended = data + more, want < 0 or len(more) < want
        _stdin_cache = (stream, data, ended)
    return data


def _stdin_bytes(limit: int | None, option: str = "") -> bytes:
    """All of standard input; refused (having kept at most ``limit`` + 1 bytes) when larger."""
    if limit is None:
        data = _stdin_prefix(None)
    else:
        data = _stdin_prefix(limit + 1)
        if len(data) > limit:
            raise too_large(STDIN, None, limit, option)
    return data


def too_large(source: str, size: int | None, limit: int, option: str) -> InputError:
    """The one-line refusal of a source over its size limit (what raises the limit)."""
    how_big = f"is {_mb(size)}, over" if size is not None else "is larger than"
    where = f" ({option}); raise it with --set {option}=BYTES" if option else ""
    return InputError(f"{display_name(source)} {how_big} the {_mb(limit)} size limit{where}")


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.3g} MB" if size >= 1024 * 1024 else f"{size} bytes"


def _regular_file(source: str) -> Path:
    """The path of a local source after checking it is a regular file (a FIFO, device or
    socket would block or never end)."""
    path = Path(source).expanduser()
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise InputError(f"no such file: {source}") from None
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{source} is a directory; pass a file, URL or '-'")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file"
        raise InputError(f"{source} is {kind}; pass a regular file, a URL, or '-' to read a pipe")
    return path


def read_source(source: str, max_bytes: int | None = None, option: str = "") -> bytes:
    """All bytes of a file or of standard input, refused when larger than ``max_bytes``
    (``option`` names the setting that raises the limit in the message).

    :raises InputError: missing file, a directory, a FIFO or device, too large, or unreadable.
    """
    if source == STDIN:
        return _stdin_bytes(max_bytes, option)
    path = _regular_file(source)
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if max_bytes is not None and size > max_bytes:
                raise too_large(source, size, max_bytes, option)
            data = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read {source}: {exc.strerror or exc}") from None
    if max_bytes is not None and len(data) > max_bytes:  # grew while being read
        raise too_large(source, len(data), max_bytes, option)
    return data


def sniff(source: str, size: int = _SNIFF) -> bytes:
    """The first ``size`` bytes of a file or stdin; ``b''`` when it cannot be read or is not
    a regular file (the ingester that reads it says why)."""
    if is_url(source):
        return b""
    if source == STDIN:
        return _stdin_prefix(size)[:size]
    try:
        with _regular_file(source).open("rb") as handle:
            return handle.read(size)
    except (OSError, InputError):
        return b""


# Control characters (category Cc) except tab and newline, private-use (Co) and surrogate
# (Cs) code points: one regular expression, linear in the text (a 20 MB file takes seconds).
_DROPPED = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]"
)
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
    text = _DROPPED.sub("", text)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    text = _CJK_BREAK.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
