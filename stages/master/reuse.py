"""Reuse the previous master's MP3 frames when only part of an episode changed.

Every MP3 master written with a reuse folder leaves there the stream the encoders wrote
(``stream.mp3``: the file's frames, or the mono stream a carried master is made from, see
:mod:`.mp3stereo`) and a sidecar (``cells.json``) with a SHA-1 digest of every *cell* of
the PCM the encoders were fed: whole periods of :func:`~.mp3split.grid`, about a second
each.  The next master of the same folder hashes its PCM as it streams out and compares:
the cells equal from the start are encoded exactly as before, so up to a few seconds
before the first cell that differs, the previous frames are kept, and encoders start
there instead of at 0 (:func:`~.mp3split.split_encode` joins them to the kept frames at a
run of identical frames, as it joins its own segments).  The verifying decode runs in
pieces planned from the frames alone (:mod:`.verify`); the measurements
of every piece are kept too (``pieces.npz``), and those of the pieces that decode from
kept frames are taken instead of decoded again.

Nothing here can change the result: the digests are of the very samples the encoders
see, the stream is checked against the digest the sidecar recorded, and whatever does
not match (another encoding, a damaged or missing file, a killed run) means a full
encode.  Since every sample moves when a gain moves, the chain's gains are quantized to
:data:`GRID_DB` (in cold runs too), so a one-turn edit usually leaves them unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import secrets
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .verify import READ

__all__ = ["GRID_DB", "Cells", "Previous", "Reuse", "Verified", "cell_samples", "quantized"]

GRID_DB = 0.05  # step of every gain the chain decides (leveling, loudness, correction)
VERSION = 1
STREAM, SIDECAR, PIECES = "stream.mp3", "cells.json", "pieces.npz"
Summary = tuple[np.ndarray, int, float, float]  # see LoudnessMeter.summary
Piece = tuple[int, int, int]  # see verify.plan_pieces


def quantized(db: float) -> float:
    """``db`` on the :data:`GRID_DB` grid (the same float for the same step)."""
    return round(round(db / GRID_DB) * GRID_DB, 6)


def cell_samples(rate: int, kbps: int) -> int:
    """Samples per hashed cell: the smallest multiple of the encoders' grid of at least a
    second."""
    from .mp3split import grid

    unit = grid(rate, kbps)
    return unit * max(1, -(-rate // unit))


class Cells:
    """SHA-1 digests of consecutive ``size``-sample cells of int16 ``(m, c)`` PCM fed block
    by block (the last, partial cell's digest covers its length too), compared on the way
    with the digests ``before``: :attr:`changed` is the first cell that differs (or the
    count of cells, when the PCM stops or goes on where ``before`` does not), ``None``
    while all agree; after :meth:`finish`, ``None`` means the very same PCM."""

    def __init__(self, size: int, before: Sequence[str] = ()) -> None:
        self.size = size
        self.before = before
        self.digests: list[str] = []
        self.changed: int | None = None
        self._hash = hashlib.sha1()
        self._filled = 0

    def feed(self, pcm: np.ndarray) -> None:
        data = memoryview(np.ascontiguousarray(pcm)).cast("B")
        width = data.nbytes // max(1, pcm.shape[0])
        at = 0
        while at < pcm.shape[0]:
            take = min(pcm.shape[0] - at, self.size - self._filled)
            self._hash.update(data[at * width : (at + take) * width])
            self._filled += take
            at += take
            if self._filled == self.size:
                self._close()

    def finish(self) -> None:
        """Close the last cell (its length counts); the PCM ends here."""
        if self._filled:
            self._hash.update(self._filled.to_bytes(8, "little"))
            self._close()
        if self.changed is None and len(self.before) != len(self.digests):
            self.changed = min(len(self.before), len(self.digests))

    def _close(self) -> None:
        i = len(self.digests)
        self.digests.append(self._hash.hexdigest())
        self._hash, self._filled = hashlib.sha1(), 0
        if self.changed is None and (i >= len(self.before) or self.before[i] != self.digests[i]):
            self.changed = i


@dataclass(frozen=True, slots=True)
class Previous:
    """The previous master's stream: its bytes, the byte offset of every frame and, last,
    its length, its SHA-1; and the digests of the cells it encodes."""

    data: bytes
    offsets: array
    cells: tuple[str, ...]
    sha1: str


class Reuse:
    """The reuse folder of one deliverable for one encoding (``key``: whatever shapes the
    frames besides the PCM).  :attr:`previous` is the last master's stream when it
    is intact and was made the same way; :meth:`keep` opens the file the new stream is
    written to, :meth:`commit` records it (with the new cells' digests) for the next
    run, :meth:`close` closes it.  :attr:`reused` tells how many frames were kept (set
    by the encoder)."""

    def __init__(self, folder: Path, key: dict[str, Any], size: int) -> None:
        self.folder = folder
        self.key = {"version": VERSION, "cell": size, **key}
        self.cells = Cells(size, ())
        self.previous = _load(folder, self.key)
        if self.previous is not None:
            self.cells.before = self.previous.cells
        self.reused = 0
        self.sha1 = ""  # the new stream's, once committed
        self._keep: BinaryIO | None = None
        self._name: Path | None = None

    def keep(self) -> BinaryIO:
        """A new file in the folder for the stream being written (read back by the caller)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        from podcast.runfiles import PARTIAL

        self._name = self.folder / f".stream.{secrets.token_hex(4)}{PARTIAL}.mp3"
        self._keep = open(self._name, "w+b")  # noqa: SIM115 - closed by close()
        return self._keep

    def commit(self) -> None:
        """Make the written stream and the PCM digests the folder's previous master (the
        stream first: a sidecar never names a stream it was not written with)."""
        from podcast.runfiles import atomic_write_json

        assert self._keep is not None and self._name is not None
        self._keep.flush()
        self._keep.seek(0)
        digest = hashlib.sha1()
        while chunk := self._keep.read(1 << 23):
            digest.update(chunk)
        os.replace(self._name, self.folder / STREAM)
        self._name = None
        self.sha1 = digest.hexdigest()
        record = {**self.key, "sha1": self.sha1, "cells": self.cells.digests}
        atomic_write_json(self.folder / SIDECAR, record)

    def verified(self) -> Verified:
        """The record of the committed stream's verification, with the previous one's
        pieces that lie in the kept frames."""
        before = self.previous.sha1 if self.previous is not None else ""
        return Verified(self.folder, before, self.sha1, self.reused)

    def close(self) -> None:
        """Close the stream's file; one not committed is deleted (the encode failed)."""
        if self._keep is not None:
            self._keep.close()
        if self._name is not None:
            with contextlib.suppress(OSError):
                self._name.unlink()
            self._name = None


def _load(folder: Path, key: dict[str, Any]) -> Previous | None:
    """The folder's previous master when its sidecar matches ``key`` and its stream the
    recorded digest; ``None`` otherwise (missing, damaged, made another way)."""
    from .mp3split import Mp3Stream

    try:
        record = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
        data = (folder / STREAM).read_bytes()
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(record.get(k) != v for k, v in key.items()):
        return None
    cells = record.get("cells")
    if not isinstance(cells, list) or not all(isinstance(c, str) for c in cells):
        return None
    if hashlib.sha1(data).hexdigest() != record.get("sha1"):
        return None
    try:
        offsets = Mp3Stream.frame_offsets(data)
    except ValueError:
        return None
    return Previous(data, offsets, tuple(cells), record["sha1"])


class Verified:
    """The pieces of a stream's verifying decode (see :mod:`.verify`):
    :attr:`known` holds the previous stream's pieces (``before``, its SHA-1) that decode
    from frames the new stream kept (the first ``kept``), so the same samples;
    :meth:`record` keeps the new stream's (``after``) for the next master."""

    def __init__(self, folder: Path, before: str, after: str, kept: int) -> None:
        self.folder, self.after = folder, after
        self.known: dict[Piece, Summary] = _pieces(folder, before, kept) if kept else {}

    def record(self, pieces: dict[Piece, Summary]) -> None:
        from podcast.runfiles import atomic_write_bytes

        plan = np.array(list(pieces), dtype=np.int64).reshape(-1, 3)
        summaries = list(pieces.values())
        buffer = io.BytesIO()
        np.savez(
            buffer,
            sha1=np.array(self.after),
            read=np.array(READ),
            plan=plan,
            lengths=np.array([s[0].size for s in summaries], dtype=np.int64),
            sums=np.concatenate([s[0] for s in summaries]) if summaries else np.zeros(0),
            samples=np.array([s[1] for s in summaries], dtype=np.int64),
            peaks=np.array([s[2:] for s in summaries], dtype=np.float64).reshape(-1, 2),
        )
        atomic_write_bytes(self.folder / PIECES, buffer.getvalue())


def _pieces(folder: Path, sha1: str, kept: int) -> dict[Piece, Summary]:
    """The recorded pieces of the stream ``sha1`` whose samples lie in its first ``kept``
    frames (a frame's samples depend on it and the frames before); none when the record
    is missing, damaged or of another stream."""
    from .mp3split import FRAME

    try:
        with np.load(folder / PIECES, allow_pickle=False) as record:
            if str(record["sha1"]) != sha1 or int(record["read"]) != READ:
                return {}  # another stream, or measured in other blocks (other last digits)
            plan, lengths, sums = record["plan"], record["lengths"], record["sums"]
            samples, peaks = record["samples"], record["peaks"]
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        if not len(plan) == len(lengths) == len(samples) == len(peaks) or bounds[-1] != sums.size:
            return {}
        return {
            (int(a), int(b), int(c)): (
                sums[bounds[i] : bounds[i + 1]].copy(),
                int(samples[i]),
                float(peaks[i, 0]),
                float(peaks[i, 1]),
            )
            for i, (a, b, c) in enumerate(plan)
            if (int(c) - 1) // FRAME + 2 < kept
        }
    except Exception:  # a damaged record (not a zip, other arrays): nothing is reused
        return {}
