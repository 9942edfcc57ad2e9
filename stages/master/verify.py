"""The verifying decode of an MP3 master: decoded in pieces on every core, partly while
the encoders are still writing it.

A file whose frame offsets are known (from :func:`~.codecs.encode_parts`) is cut into
*pieces* of PIECE frames, planned from the frames alone (:func:`plan_pieces`), so the same
file is always measured the same way.  Each piece is decoded from WARM frames before its
start, which rebuild the decoder's state (the bit reservoir and the overlap), and its
meter is primed with the samples before its cut; the meters merged in order give the
figures of one decode of the whole file.

:class:`Early` measures the pieces whose frames the encoders have already written, on
one more thread of the lowest priority, while the segments are still being encoded: it
runs only where a core is idle (mostly while the last segment is encoded alone), so it
does not slow the encoders, and leaves only the last pieces for the decode after the
encode (:func:`measure_pieces`, on every core).  Pieces decoded from
frames kept from the previous master are taken from its record instead (see
:mod:`.reuse`).
"""

from __future__ import annotations

import os
import sys
import threading
from array import array
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .meter import Loudness, LoudnessMeter
from .mp3split import FRAME, on_every_core

if TYPE_CHECKING:
    from .reuse import Reuse, Verified

__all__ = ["HALF_MIN", "PIECE", "Early", "measure_pieces", "plan_pieces", "widened"]

HALF_MIN = 1000  # frames: files of less than twice this are measured in one piece
PIECE = 2048  # frames per piece of a verifying decode (about 53 s at 44.1 kHz)
WARM = 4  # frames decoded before a piece's start (3 rebuild the decoder's state)
AHEAD = 64  # frames written past a piece's end before it is decoded early (read-ahead)
READ = 1 << 18  # samples per read (the figures depend on it in the last digits)
Piece = tuple[int, int, int]  # (start frame, first measured sample, end sample)


def widened(block: np.ndarray, channels: int | None) -> np.ndarray:
    """``(1, m)`` ``block`` as ``channels`` identical rows (a view), else as it is."""
    if channels is None or block.shape[0] == channels:
        return block
    return np.broadcast_to(block, (channels, block.shape[1]))


def id3_size(path: Path) -> int:
    """Bytes of the ID3v2 tag at the start of ``path`` (0 when there is none)."""
    with open(path, "rb") as handle:
        head = handle.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:
        size = size << 7 | (byte & 0x7F)
    return 10 + size + (10 if head[5] & 0x10 else 0)


@contextmanager
def opened_at(path: Path, base: int) -> Iterator[Any]:
    """A soundfile handle on ``path`` read from byte ``base`` on.  libsndfile takes a
    descriptor's position as the start of the file and reads it in C: a Python
    file-like object would be called back for every read of a few hundred bytes, each
    call taking the GIL, which serialises the decoding threads."""
    import soundfile as sf

    fd = os.open(path, os.O_RDONLY)
    try:
        os.lseek(fd, base, os.SEEK_SET)
        with sf.SoundFile(fd, closefd=False) as handle:
            yield handle
    finally:
        os.close(fd)


def reads(handle: Any, limit: int | None = None) -> Iterator[np.ndarray]:
    """Float32 ``(m, c)`` blocks read from a soundfile ``handle`` until the end (MP3
    lengths are estimates) or ``limit`` samples, into one reused buffer (a fresh array
    per read costs more in page faults than decoding it)."""
    buffer = np.empty((READ, handle.channels), dtype=np.float32)
    left = limit if limit is not None else -1
    while left:
        size = READ if left < 0 else min(READ, left)
        block = handle.read(size, dtype="float32", always_2d=True, out=buffer[:size])
        if not block.shape[0]:
            return
        yield block
        left -= block.shape[0] if left > 0 else 0


def _piece_start(frames: Sequence[int], base: int, hop: int) -> tuple[int, int]:
    """``(start, cut)`` of the piece that begins after frame ``base``: WARM frames after
    the first of the next 100 frames without the padding byte (libsndfile guesses a
    headerless MP3's length from its first frame: then the guess is long), its cut on
    the first 100 ms boundary after ``start``."""
    sizes = [frames[i + 1] - frames[i] for i in range(base, min(len(frames) - 1, base + 100))]
    start = base + sizes.index(min(sizes)) + WARM
    return start, -(-((start + 1) * FRAME) // hop) * hop


def plan_pieces(frames: Sequence[int], rate: int) -> list[Piece]:
    """``(start, cut, end)`` of each piece of a verifying decode: the piece decodes from
    frame ``start - WARM`` (the first from 0) and measures samples ``[cut, end)``.  A piece
    starts after every PIECE frames (see :func:`_piece_start`); the last runs to the end."""
    count, hop = len(frames) - 1, round(rate / 10)
    starts = [(0, 0)]
    starts += [_piece_start(frames, base, hop) for base in range(PIECE, count - PIECE // 2, PIECE)]
    ends = [cut for _, cut in starts[1:]] + [count * FRAME]
    return [(start, cut, end) for (start, cut), end in zip(starts, ends, strict=True)]


def _known_piece(frames: Sequence[int], k: int, rate: int) -> Piece | None:
    """Piece ``k`` of the plan of a stream whose first frames are ``frames`` (offsets and
    the end so far), when it is certain to be so whatever follows (the stream is already
    long enough for a piece ``k + 1`` to exist) and all its frames are written (AHEAD to
    spare); else ``None``.  Never the last piece."""
    count, hop, after = len(frames) - 1, round(rate / 10), (k + 1) * PIECE
    if count <= after + PIECE // 2 or count < after + 101:
        return None
    start, cut = _piece_start(frames, k * PIECE, hop) if k else (0, 0)
    end = _piece_start(frames, after, hop)[1]
    return (start, cut, end) if count >= -(-end // FRAME) + AHEAD else None


def measure_piece(
    path: Path,
    frames: Sequence[int],
    piece: Piece,
    rate: int,
    channels: int,
    shift: int = 0,
    last: bool = False,
) -> tuple[LoudnessMeter, int]:
    """The meter of ``piece`` of the MP3 ``path`` (its audio from byte ``shift`` on), and
    the sample the decode stopped at (the piece's end, unless the decoder gave fewer
    samples).  ``channels``: the meter's, a mono file's samples measured on each."""
    start, cut, end = piece
    meter = LoudnessMeter(rate, channels)
    base = shift + frames[start - WARM] if start else 0
    at = (start - WARM) * FRAME if start else 0
    with opened_at(path, base) as handle:
        for block in reads(handle, None if last else end - at):
            head = min(block.shape[0], max(0, cut - at))
            if head:
                meter.prime(widened(block[:head].T, channels))
            if head < block.shape[0]:
                meter.feed(widened(block[head:].T, channels))
            at += block.shape[0]
    return meter, at


class Early:
    """Measures the pieces of a stream's verifying decode on a thread of its own while
    the stream is written.  The writer calls :meth:`wrote` after each write; the stream
    is read by name (``path``, a path through ``/proc`` for an unlinked file).  Pieces
    that lie in frames kept from the previous master (``reuse``) are left to its record.
    :meth:`finish` stops the thread and returns what it measured."""

    def __init__(
        self, path: Path, rate: int, channels: int, reuse: Reuse | None = None
    ) -> None:
        self.path, self.rate, self.channels, self.reuse = path, rate, channels, reuse
        self._frames: Sequence[int] = ()
        self._stop = False
        self._cond = threading.Condition()
        self.measured: dict[Piece, LoudnessMeter] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def wrote(self, marks: array) -> None:
        """The stream now holds the frames at ``marks`` (offsets, then the end)."""
        with self._cond:
            self._frames = array("q", marks)
            self._cond.notify()

    def finish(self) -> dict[Piece, LoudnessMeter]:
        """Stop (after the piece being decoded) and return the pieces measured."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join()
        return self.measured

    def _next(self, k: int) -> tuple[Sequence[int], Piece] | None:
        """Wait until piece ``k`` is known and written; ``None`` once stopped."""
        with self._cond:
            while not self._stop:
                piece = _known_piece(self._frames, k, self.rate)
                if piece is not None:
                    return self._frames, piece
                self._cond.wait()
        return None

    def _run(self) -> None:
        _lowest_priority()
        k = 0
        while (job := self._next(k)) is not None:
            frames, piece = job
            k += 1
            kept = self.reuse.reused if self.reuse is not None else 0
            if (piece[2] - 1) // FRAME + 2 < kept:
                continue  # decodes from kept frames: in the previous master's record
            try:
                meter, at = measure_piece(self.path, frames, piece, self.rate, self.channels)
            except Exception:  # noqa: BLE001 - measured again after the encode
                continue
            if at == piece[2]:
                self.measured[piece] = meter


def _lowest_priority() -> None:
    """Run the calling thread only when a core is idle.  Linux schedules threads on
    their own, so only this thread's niceness changes (elsewhere the call would name a
    process: nothing is done); a no-op where that is not allowed."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError:
        pass


def measure_pieces(
    path: Path,
    frames: Sequence[int],
    channels: int | None = None,
    kept: Verified | None = None,
    early: dict[Piece, LoudnessMeter] | None = None,
) -> Loudness | None:
    """Decode an MP3 in pieces (see :func:`plan_pieces`) on every core (libsndfile
    releases the GIL) and merge the meters in order: exactly the samples one decode
    gives.  Pieces measured ``early`` and pieces ``kept`` from the previous master's
    verification (see :mod:`.reuse`) are not decoded again; the new ones are recorded
    there.  ``None`` (measure in one piece) when the decoder does not return the
    expected number of samples.  ``channels``: measure a mono file as that many
    identical channels."""
    import soundfile as sf

    shift = id3_size(path)
    with sf.SoundFile(str(path)) as probe:
        rate, channels = int(probe.samplerate), channels or int(probe.channels)
    plan = plan_pieces(frames, rate)
    known = kept.known if kept is not None else {}
    early = early or {}
    meters: list[LoudnessMeter | None] = [
        early.get(p)
        or (LoudnessMeter.from_summary(rate, channels, known[p]) if p in known else None)
        for p in plan
    ]
    todo = [k for k, meter in enumerate(meters) if meter is None]
    seen: dict[int, int] = {}

    def piece(k: int) -> None:
        meter, at = measure_piece(path, frames, plan[k], rate, channels, shift, k == len(plan) - 1)
        seen[k], meters[k] = at, meter

    errors = on_every_core(piece, todo)
    stops = [exc for exc in errors if not isinstance(exc, Exception)]
    if stops:  # Ctrl-C (or an exit): raised, never taken for a failure
        raise stops[0]
    if errors or any(seen[k] != plan[k][2] for k in seen):
        return None
    if kept is not None:
        kept.record({p: m.summary() for p, m in zip(plan[:-1], meters, strict=False) if m})
    total = meters[0]
    assert total is not None
    for later in meters[1:]:
        assert later is not None
        total.merge(later)
    return total.result()
