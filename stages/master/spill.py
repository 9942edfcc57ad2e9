"""Float32 arrays kept in a file instead of memory, for audio of any length.

A :class:`Spill` is written once, block by block, and then read by slices as many times
as needed; it answers the few array operations the loudness chain and the limiter use
(``shape``, ``x[:, a:b]``, ``x[c, a:b]``, ``x[a:b]``), so a three-hour input costs a few
blocks of memory instead of gigabytes.  Reads go through ``pread``, so the pages stay in
the page cache and out of the process's resident set.  The file is unlinked as soon as it
is created: nothing is left behind, even after a crash.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["Spill"]


class Spill:
    """A float32 ``(rows, n)`` array (or ``(n,)`` with ``rows=None``) stored in an
    anonymous file in ``folder``."""

    def __init__(self, folder: Path, rows: int | None) -> None:
        self.folder = folder
        self._rows = rows
        self._width = rows or 1
        self._fd, name = tempfile.mkstemp(prefix=".spill-", dir=folder)
        os.unlink(name)
        self._n = 0

    def append(self, block: np.ndarray) -> None:
        """Add columns: ``(rows, m)`` (or ``(m,)``) samples.

        :raises OSError: the file system refused the write (full disk and so on).
        """
        data = np.ascontiguousarray(np.asarray(block, dtype=np.float32).T).tobytes()
        view, at = memoryview(data), self._n * 4 * self._width
        while view:
            count = os.pwrite(self._fd, view, at)
            view, at = view[count:], at + count
        self._n += len(data) // (4 * self._width)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._n,) if self._rows is None else (self._rows, self._n)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def _columns(self, part: slice) -> np.ndarray:
        start, stop, step = part.indices(self._n)
        if step != 1:
            raise IndexError("a Spill is read by contiguous slices")
        count = max(0, stop - start)
        raw = os.pread(self._fd, count * 4 * self._width, start * 4 * self._width)
        return np.frombuffer(raw, dtype=np.float32).reshape(count, self._width).T

    def __getitem__(self, key: object) -> np.ndarray:
        if self._rows is None:
            if not isinstance(key, slice):
                raise IndexError("a 1-D Spill is read by slices")
            return self._columns(key)[0].copy()
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], slice)):
            raise IndexError("a Spill is read as x[rows, a:b]")
        rows, part = key
        return np.ascontiguousarray(self._columns(part)[rows])

    def __array__(self, *args: object, **kwargs: object) -> np.ndarray:
        raise TypeError("a Spill is not loaded whole; read it by slices")

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
