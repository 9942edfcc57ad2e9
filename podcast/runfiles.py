"""Run-directory rules: atomic writes, the episode lock and folder naming.

Every file is written to a temporary name in the same folder and renamed into place, so a
crash never leaves a half-written file under its final name.  A lock file keeps two runs
(say, overlapping cron jobs) from writing the same episode.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import LockedError, OutputError

__all__ = [
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "episode_lock",
    "make_folder",
    "run_dir_name",
    "slugify",
]

PARTIAL = ".part"


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final`` (same suffix, so format sniffing by suffix
    works); on success rename it to ``final``, on failure delete it."""
    final = Path(final)
    make_folder(final.parent)
    tmp = final.with_name(f".{final.stem}.{secrets.token_hex(4)}{PARTIAL}{final.suffix}")
    try:
        yield tmp
        if not tmp.exists():
            raise OutputError(f"nothing was written for {final.name}")
        os.replace(tmp, final)
    except OSError as exc:  # disk full, read-only folder, a folder where the file goes
        cause = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
        raise OutputError(f"cannot write {final}: {cause}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def make_folder(folder: Path) -> Path:
    """``folder`` and its parents, created as needed.

    :raises OutputError: with the path and the cause (a file in the way, no permission, disk full).
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise OutputError(f"cannot create the folder {folder}: a file of that name is in the way") from None
    except NotADirectoryError:
        raise OutputError(f"cannot create the folder {folder}: a part of that path is a file, not a folder") from None
    except OSError as exc:
        raise OutputError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    return folder


def atomic_write_bytes(final: Path, data: bytes) -> Path:
    """Write ``data`` to ``final`` atomically (fsync before rename); returns ``final``."""
    with atomic_path(final) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return Path(final)


def atomic_write_text(final: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``final`` atomically; returns ``final``."""
    return atomic_write_bytes(final, text.encode("utf-8"))


def atomic_write_json(final: Path, value: Any) -> Path:
    """Write ``value`` as indented UTF-8 JSON atomically; returns ``final``."""
    text = json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False)
    return atomic_write_text(final, text + "\n")


def remove_partials(folder: Path) -> int:
    """Delete temporary files left by a killed run; returns how many were removed."""
    count = 0
    for leftover in folder.rglob(f".*{PARTIAL}*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            count += 1
    return count


@contextlib.contextmanager
def episode_lock(run_dir: Path, timeout: float) -> Iterator[None]:
    """Hold the episode's lock, waiting up to ``timeout`` seconds for another run.

    :raises LockedError: another process still holds it after ``timeout``.
    """
    from filelock import FileLock, Timeout

    make_folder(run_dir)
    lock = FileLock(str(run_dir / ".lock"))
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise LockedError(
            f"another run is writing {run_dir} (waited {timeout:g} s); try again later or raise pipeline.lock_timeout"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot lock {run_dir}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        lock.release()


def slugify(text: str, limit: int = 48) -> str:
    """A filesystem-safe slug; keeps CJK characters, drops accents and punctuation."""
    normalized = unicodedata.normalize("NFKC", text)
    ascii_ish = "".join(c for c in unicodedata.normalize("NFKD", normalized) if not unicodedata.combining(c))
    slug = re.sub(r"[^\w]+", "-", ascii_ish.lower(), flags=re.UNICODE).strip("-_")
    return slug[:limit].strip("-_") or "episode"


def run_dir_name(title: str, digest: str) -> str:
    """``<slug-of-title>-<first 8 hex of the content hash>``."""
    return f"{slugify(title)}-{digest[:8]}"
