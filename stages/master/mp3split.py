"""Gapless MP3 encoding on several cores, byte-compatible with one LAME pass.

The PCM is cut into segments whose starts fall on a *grid*: whole frames (1152 samples)
and whole periods of LAME's CBR padding pattern (a frame gets a padding byte when a running
remainder wraps, so the pattern repeats every ``rate / gcd(rate, 144 000·kbps mod rate)``
frames).  A segment's encoder therefore lays out frames exactly where one encoder running
from the start would, and each segment but the last also encodes a few seconds past its
end.  In that overlap the two encoders see the same samples, and once the state the first
one carries from earlier audio has washed out (a pause of silence does it: the bit
reservoir fills up, the filter banks hold zeros) both emit the same frames: same header,
same side information (``main_data_begin`` included) and the same main-data bits; only
LAME's ancillary filler bits, which decoders skip, may differ.  The episode is joined at
the first frame of such a run, so the joined stream decodes to exactly the samples one
pass would give.  When no run shows up (continuous sound without pauses), the earlier
encoder simply carries on into the next segment, serially, until one does.

The PCM goes through a spool file beside the output, so encoders can start as soon as
their samples exist and memory stays flat whatever the length.

The same join lets a new master keep the previous master's frames (see :mod:`.reuse`):
where the PCM is the same from the start, an encoder started a few seconds before the
first difference takes over from the kept frames at a run of identical frames.
"""

from __future__ import annotations

import math
import os
from array import array
import sys
import threading
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

import numpy as np

if TYPE_CHECKING:
    from .reuse import Reuse

__all__ = ["MIN_RUN", "Mp3Stream", "grid", "on_every_core", "parallel_workers", "split_encode"]

FRAME = 1152  # samples per MPEG-1 layer III frame
MIN_RUN = 16  # identical frames (≈0.4 s) that must close a segment's overlap to join there
OVERLAP = 8.0  # seconds a segment's encoder runs past its end
SEGMENT = 240.0  # target seconds per segment
READ = 1 << 16  # samples per encoder call
COPY = 1 << 20  # bytes of kept frames written at a time
_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_RATES = (44100, 48000, 32000)


def grid(rate: int, kbps: int) -> int:
    """Samples between possible segment starts: whole frames times the period of LAME's
    CBR padding pattern at ``rate`` Hz and ``kbps``."""
    remainder = 144_000 * kbps % rate
    return FRAME * (rate // math.gcd(rate, remainder) if remainder else 1)


T = TypeVar("T")
_END = object()

def parallel_workers() -> int:
    """Cores this process may run on (``taskset`` and cgroup affinity respected)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def on_every_core(job: Callable[[T], None], items: Iterable[T]) -> list[BaseException]:
    """Run ``job(item)`` for each of ``items`` on as many threads as cores (the caller's
    among them), in order of taking; after the first failure no more are started.
    Returns what the jobs raised (empty when all ran)."""
    pending = list(items)
    queue = iter(pending)
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        while not errors:
            with lock:
                item = next(queue, _END)
            if item is _END:
                return
            try:
                job(item)  # type: ignore[arg-type]
            except BaseException as exc:  # handed to the caller
                errors.append(exc)

    count = min(len(pending), parallel_workers()) - 1
    threads = [threading.Thread(target=run, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    run()
    for thread in threads:
        thread.join()
    return errors


# ── frames ──────────────────────────────────────────────────────────────────────


def _frame_size(header: int, at: int) -> int:
    """Bytes of the MPEG-1 layer III frame whose 32-bit header is ``header``.

    :raises ValueError: not such a header (``at``: its byte offset, for the message)."""
    index, rate = (header >> 12) & 15, (header >> 10) & 3
    mpeg1_layer3 = header >> 21 == 0x7FF and (header >> 19) & 3 == 3 and (header >> 17) & 3 == 1
    if not mpeg1_layer3 or index in (0, 15) or rate == 3:
        raise ValueError(f"not an MPEG-1 layer III frame at byte {at}")
    return 144_000 * _BITRATES[index] // _RATES[rate] + ((header >> 9) & 1)


def _cbr_offsets(data: bytes) -> array | None:
    """The frame offsets (and, last, the length) of a CBR stream laid out as LAME pads
    (frame ``f`` padded when ``f·(144000·kbps mod rate)`` passes a multiple of the rate),
    checked against every frame's header at once; ``None`` when the stream is not so."""
    if len(data) < 4:
        return None
    header = int.from_bytes(data[:4], "big")
    try:
        plain = _frame_size(header & ~(1 << 9), 0)
    except ValueError:
        return None
    kbps, rate = _BITRATES[(header >> 12) & 15], _RATES[(header >> 10) & 3]
    step = 144_000 * kbps % rate
    count = int(len(data) / (plain + step / rate)) + 3
    frames = np.arange(count + 1, dtype=np.int64)
    offsets = frames * plain + np.maximum(((frames - 1) * step + rate - 1) // rate, 0)
    n = int(np.searchsorted(offsets, len(data)))
    if n > count or offsets[n] != len(data):
        return None
    offsets = offsets[: n + 1]
    raw, starts = np.frombuffer(data, np.uint8), offsets[:-1]
    padded = (raw[starts + 2] >> 1) & 1
    same = (raw[starts] == data[0]) & (raw[starts + 1] == data[1])
    same &= (raw[starts + 2] & 0xFD) == (data[2] & 0xFD)
    same &= (raw[starts + 3] == data[3]) & (padded == np.diff(offsets) - plain)
    return array("q", offsets.tolist()) if bool(same.all()) else None


class Mp3Stream:
    """An MPEG-1 layer III byte stream parsed frame by frame as bytes arrive.

    Frame ``i`` starts at ``offsets[i]``; :meth:`key` gives what decoding the frame depends
    on (header, side information and its main-data bits, wherever they lie), so two
    frames with equal keys decode alike once the decoder's state agrees."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.offsets: list[int] = []
        self._side: list[tuple[int, int]] = []  # (side-info start, its length) per frame
        self._next = 0  # offset of the next unparsed frame

    def feed(self, chunk: bytes) -> None:
        """Append encoder output; complete frames are parsed."""
        self.data += chunk
        data, at = self.data, self._next
        while at + 4 <= len(data):
            header = int.from_bytes(data[at : at + 4], "big")
            size = _frame_size(header, at)
            if at + size > len(data):
                break
            side = at + 4 + (0 if header >> 16 & 1 else 2)
            length = 17 if (header >> 6) & 3 == 3 else 32
            self.offsets.append(at)
            self._side.append((side, length))
            at += size
        self._next = at

    def __len__(self) -> int:
        return len(self.offsets)

    @staticmethod
    def frame_offsets(data: bytes) -> array:
        """The byte offset of every frame of the whole stream ``data`` and, last, its
        length.

        :raises ValueError: ``data`` is not MPEG-1 layer III frames from end to end."""
        predicted = _cbr_offsets(data)
        if predicted is not None:
            return predicted
        offsets, at = array("q"), 0
        while at + 4 <= len(data):
            offsets.append(at)
            at += _frame_size(int.from_bytes(data[at : at + 4], "big"), at)
        if at != len(data):
            raise ValueError("the MP3 stream ends inside a frame")
        offsets.append(at)
        return offsets

    def end(self, i: int) -> int:
        """Byte offset where frame ``i`` ends (the end of the parsed data for the last)."""
        return self.offsets[i + 1] if i + 1 < len(self.offsets) else self._next

    def key(self, i: int) -> bytes:
        """Header, side information and main-data bits of frame ``i`` (filler bits
        after the main data masked out)."""
        side, length = self._side[i]
        info = bytes(self.data[side : side + length])
        bits = int.from_bytes(info, "big")
        size = length * 8
        mono = length == 17
        begin = bits >> (size - 9)
        first, channels = (18, 1) if mono else (20, 2)
        total = sum(
            (bits >> (size - first - 59 * g - 12)) & 0xFFF for g in range(2 * channels)
        )
        main = self._main_data(i, begin, (total + 7) // 8)
        if total % 8 and main:
            main[-1] &= (0xFF << (8 - total % 8)) & 0xFF
        return bytes(self.data[self.offsets[i] : side]) + info + bytes(main)

    def _main_data(self, i: int, back: int, size: int) -> bytearray:
        """``size`` bytes of the main-data stream from ``back`` bytes before frame ``i``'s
        payload (the bit reservoir lies in earlier frames' payloads)."""
        parts, have, j = [], 0, i
        while have < back and j > 0:
            j -= 1
            side, length = self._side[j]
            parts.append(self.data[side + length : self.offsets[j + 1]])
            have += len(parts[-1])
        side, length = self._side[i]
        stream = b"".join(reversed(parts)) + self.data[side + length : self.end(i)]
        return bytearray(stream[have - back : have - back + size])


# ── segments ────────────────────────────────────────────────────────────────────


class Spool:
    """Int16 PCM ``(n, channels)`` written once by a producer and read concurrently by
    encoders, through a file (memory stays flat)."""

    def __init__(self, path: Path, channels: int) -> None:
        self.path = path
        self.channels = channels
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        path.unlink()  # the open descriptor keeps it: nothing is left behind, even if killed
        self._written = 0
        self._done = False
        self._failed = False
        self._cond = threading.Condition()

    def write(self, pcm: np.ndarray) -> None:
        data = np.ascontiguousarray(pcm, dtype="<i2").tobytes()
        view, at = memoryview(data), self._written * 2 * self.channels
        while view:
            count = os.pwrite(self._fd, view, at)
            view, at = view[count:], at + count
        with self._cond:
            self._written += pcm.shape[0]
            self._cond.notify_all()

    def finish(self, failed: bool = False) -> None:
        with self._cond:
            self._done, self._failed = True, failed
            self._cond.notify_all()

    @property
    def failed(self) -> bool:
        return self._failed

    @property
    def total(self) -> int:
        """Samples written (the final count once :meth:`finish` was called)."""
        return self._written

    def read(self, start: int, stop: int) -> np.ndarray | None:
        """Samples ``[start, stop)`` (fewer at the end), waiting until they are written;
        ``None`` when the producer failed."""
        with self._cond:
            self._cond.wait_for(lambda: self._done or self._written >= stop)
            if self._failed:
                return None
            stop = min(stop, self._written)
        size = 2 * self.channels
        raw = os.pread(self._fd, max(0, stop - start) * size, start * size)
        return np.frombuffer(raw, dtype="<i2").reshape(-1, self.channels)

    def close(self) -> None:
        os.close(self._fd)
        self.path.unlink(missing_ok=True)


@dataclass
class Segment:
    """One encoder's work: samples ``[start, stop)`` plus the overlap up to ``until``
    (the last segment runs to the end of the audio)."""

    start: int
    stop: int
    until: int
    last: bool
    stream: Mp3Stream = field(default_factory=Mp3Stream)
    encoder: object = None
    covered: int = 0  # samples fed to the encoder so far (from start)
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)
    pause: int = 0  # feed up to this sample first and note the frames encoded by then
    fixed: int = -1  # the frames encoded from samples before ``pause`` alone
    held: threading.Event = field(default_factory=threading.Event)  # ``fixed`` is known

    @property
    def first(self) -> int:
        """Global index of this segment's first frame."""
        return self.start // FRAME


def plan(total: int, rate: int, unit: int) -> list[tuple[int, int]]:
    """Segment ``(start, stop)`` pairs for an estimated ``total`` samples: an even number
    of about SEGMENT seconds each, starts on multiples of ``unit``; one segment when the
    audio is too short to be worth splitting.  The plan depends on the audio alone, not
    on the cores at hand, so the bytes do not either."""
    overlap = round(OVERLAP * rate)
    if total < 4 * overlap + 2 * unit:
        return [(0, total)]
    count = max(2, 2 * round(total / rate / SEGMENT / 2))
    starts = sorted({round(total * k / count / unit) * unit for k in range(count)})
    starts = [s for s in starts if s < total - 2 * overlap]
    return list(zip(starts, [*starts[1:], total], strict=True))


def split_encode(
    blocks: Iterable[np.ndarray],
    total: int,
    path: Path,
    channels: int,
    new_encoder: Callable[[], object],
    rate: int,
    kbps: int,
    workers: int = 2,
    sink: BinaryIO | None = None,
    reuse: Reuse | None = None,
    wrote: Callable[[array], None] | None = None,
) -> array:
    """Encode int16 ``(m, c)`` ``blocks`` (``c`` is 1 or ``channels``; one channel is
    duplicated) of about ``total`` samples at ``rate`` Hz into the MP3 file ``path``,
    ``workers`` encoders from ``new_encoder`` at a time.  The file decodes to the samples
    one encoder's output decodes to.  Returns the byte offset of every frame and, last,
    the file's size.  With ``sink`` the frames are written there instead (``path`` then
    only places the spool).  With ``reuse`` the PCM's cells are hashed on the way, and
    when the previous master encoded the same PCM up to some cell, its frames are kept up
    to a join before that cell (see :mod:`.reuse`): encoders start only there.
    ``wrote(offsets)`` is told after each write what the output holds so far (the offset
    of every frame, then the end), from the thread that wrote.

    :raises OSError: the spool or the output could not be written.
    """
    spool: Spool | None = None
    threads: list[threading.Thread] = []
    marks = array("q")
    failure: list[BaseException] = []
    cells = reuse.cells if reuse is not None else None
    waiting = reuse is not None and reuse.previous is not None  # for the first changed cell

    def begin(out: BinaryIO, total: int) -> list[threading.Thread]:
        assert spool is not None
        unit = grid(rate, kbps)
        head = _head(reuse, unit, rate, new_encoder) if waiting else None
        base = head.start if head is not None else 0
        spans = [(base + a, base + b) for a, b in plan(total - base, rate, unit)]
        segments = _segments(spans, rate)
        if head is not None:
            segments[0].pause = head.change
        started = _start(segments, spool, channels, new_encoder, workers)
        # frames are joined and written as segments finish: only a few segments' bytes
        # are ever held
        joiner = (segments, spool, channels, out, marks, head)
        return [*started, _thread(_join, failure, *joiner)]

    try:
        with open(path, "wb") if sink is None else nullcontext(sink) as out:
            if wrote is not None:
                out = _Noted(out, lambda: wrote(marks))
            try:
                for block in blocks:
                    if spool is None:
                        spool = Spool(path.with_name(f".{path.name}.pcm"), block.shape[1])
                    spool.write(block)
                    if cells is not None:
                        cells.feed(block)
                    if not threads and not (waiting and cells.changed is None):
                        threads = begin(out, total)
                if spool is None:
                    raise ValueError("no audio to encode")
                spool.finish()
                if cells is not None:
                    cells.finish()
                if waiting and cells.changed is None:  # the very same PCM: the same frames
                    _keep_frames(out, reuse, len(reuse.previous.offsets) - 1, marks)
                elif not threads:
                    threads = begin(out, spool.total)
            except BaseException:
                if spool is not None:
                    spool.finish(failed=True)
                raise
            finally:
                for thread in threads:
                    thread.join()
        if failure:
            raise failure[0]
    finally:
        if spool is not None:
            spool.close()
    return marks


class _Noted:
    """A sink that calls ``note()`` after each write."""

    def __init__(self, out: BinaryIO, note: Callable[[], None]) -> None:
        self.out, self.note = out, note

    def write(self, data: bytes) -> int:
        count = self.out.write(data)
        self.note()
        return count


@dataclass(frozen=True, slots=True)
class Head:
    """Where a re-encode starts: the first sample that may differ from the previous
    master (``change``) and the grid point ``start``, OVERLAP seconds or more before it,
    where the first new encoder starts."""

    reuse: Reuse
    start: int
    change: int
    new_encoder: Callable[[], object]


def _head(
    reuse: Reuse, unit: int, rate: int, new_encoder: Callable[[], object]
) -> Head | None:
    """The :class:`Head` for the first changed cell; ``None`` when it comes too early for
    anything to be kept."""
    change = reuse.cells.changed * reuse.cells.size
    start = (change - round(OVERLAP * rate)) // unit * unit
    return Head(reuse, start, change, new_encoder) if start >= unit else None


def _thread(
    job: Callable[..., None], failure: list[BaseException], *args: object
) -> threading.Thread:
    """A started thread running ``job(*args)``; what it raises goes to ``failure``."""

    def run() -> None:
        try:
            job(*args)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _segments(spans: list[tuple[int, int]], rate: int) -> list[Segment]:
    overlap = round(OVERLAP * rate)
    return [
        Segment(a, b, sys.maxsize if i == len(spans) - 1 else b + overlap, i == len(spans) - 1)
        for i, (a, b) in enumerate(spans)
    ]


def _start(
    segments: list[Segment],
    spool: Spool,
    channels: int,
    new_encoder: Callable[[], object],
    workers: int,
) -> list[threading.Thread]:
    """Threads that encode the segments in order, ``workers`` at a time (LAME releases
    the GIL while it encodes)."""
    queue = iter(list(segments))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                segment = next(queue, None)
            if segment is None:
                return
            try:
                segment.encoder = new_encoder()
                if segment.pause:
                    _feed(segment, spool, channels, segment.pause)
                    segment.fixed = len(segment.stream)
                    segment.held.set()
                _feed(segment, spool, channels, segment.until)
            except BaseException as exc:  # re-raised by the joiner
                segment.error = exc
            finally:
                segment.held.set()
                segment.done.set()

    count = min(workers, len(segments))
    threads = [threading.Thread(target=work, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


def _feed(segment: Segment, spool: Spool, channels: int, until: int) -> None:
    """Feed the segment's encoder from where it stopped up to sample ``until``; the
    last segment's encoder is flushed at the end of the audio."""
    at = segment.start + segment.covered
    while at < until:
        pcm = spool.read(at, min(until, at + READ))
        if pcm is None:
            return  # the producer failed; its error is raised
        if not pcm.shape[0]:
            break
        if pcm.shape[1] != channels:
            pcm = np.stack([pcm[:, 0]] * channels, axis=1)
        segment.stream.feed(segment.encoder.encode(pcm))
        at += pcm.shape[0]
    segment.covered = at - segment.start
    if segment.last and until == sys.maxsize:  # the loop ran to the end of the audio
        segment.stream.feed(segment.encoder.flush())
        segment.encoder = None


def _join_point(chain: Segment, nxt: Segment, limit: int | None = None) -> int | None:
    """The global frame from which ``nxt`` can replace ``chain``: the start of a run of
    at least MIN_RUN equal frames lasting to the end of what both have encoded (of
    ``nxt``'s first ``limit`` frames)."""
    offset = nxt.first - chain.first  # chain's local index of nxt's first frame
    count = len(nxt.stream) if limit is None else min(limit, len(nxt.stream))
    last = min(len(chain.stream), count + offset) - 1
    i, run = last, 0
    while i > offset and chain.stream.key(i) == nxt.stream.key(i - offset):
        i, run = i - 1, run + 1
    return chain.first + i + 1 if run >= MIN_RUN else None


def _ready(segment: Segment, spool: Spool, held: bool = False) -> Segment:
    """``segment`` once it is done (or ``held``: has passed its pause); raises what
    stopped it."""
    (segment.held if held else segment.done).wait()
    if spool.failed:
        raise RuntimeError("the audio stopped before the end")
    if segment.error is not None:
        raise segment.error
    return segment


def _join(
    segments: list[Segment],
    spool: Spool,
    channels: int,
    out: BinaryIO,
    marks: array,
    head: Head | None = None,
) -> None:
    """Write the segments' frames in order, each segment taking over from the frame where
    its predecessor's frames have become equal to its own (the first from the previous
    master's frames, after a ``head``)."""
    if head is None:  # begin: chain's first unwritten frame (local)
        chain, begin, rest = _ready(segments[0], spool), 0, segments[1:]
    else:
        chain, begin, rest = _take_over(head, segments, spool, channels, out, marks)
    for nxt in rest:
        _ready(nxt, spool)
        while (point := _join_point(chain, nxt)) is None:
            if spool.failed:
                raise RuntimeError("the audio stopped before the end")
            reach = chain.start + chain.covered
            if reach >= nxt.start + nxt.covered:
                break  # chain covers all nxt encoded: drop nxt, compare with the next one
            step = max(2 * MIN_RUN * FRAME, (nxt.until - nxt.stop) // 4)
            _feed(chain, spool, channels, reach + step)  # carry on into nxt's samples
        if point is None:
            nxt.stream, nxt.encoder = Mp3Stream(), None
            continue
        _write(out, chain.stream, begin, point - chain.first, marks)
        chain.stream, chain.encoder = Mp3Stream(), None  # release its frames
        chain, begin = nxt, point - nxt.first
    if chain.encoder is not None:  # a chain that outlived the last segment
        chain.last = True
        _feed(chain, spool, channels, sys.maxsize)
    _write(out, chain.stream, begin, len(chain.stream), marks)


def _write(out: BinaryIO, stream: Mp3Stream, begin: int, cut: int, marks: array) -> None:
    """Write frames ``[begin, cut)`` of ``stream``, noting where each lands in ``marks``."""
    base = (marks[-1] if marks else 0) - stream.offsets[begin]
    start, stop = stream.offsets[begin], stream.end(cut - 1)
    # marks holds the end of the file so far as its last item
    if marks:
        marks.pop()
    marks.extend(o + base for o in stream.offsets[begin:cut])
    marks.append(stop + base)
    out.write(stream.data[start:stop])


def _take_over(
    head: Head,
    segments: list[Segment],
    spool: Spool,
    channels: int,
    out: BinaryIO,
    marks: array,
) -> tuple[Segment, int, list[Segment]]:
    """Keep the previous master's frames up to a run of frames equal to the first new
    segment's, among those it encoded from samples before the change alone; returns the
    chain, its first unwritten frame and the segments still to join.  Without such a run
    an encoder from the start takes the kept frames' place (nothing was written yet).
    The kept frames are written while the new segments are being encoded."""
    nxt = _ready(segments[0], spool, held=True)
    previous = head.reuse.previous
    assert previous is not None
    first = max(0, nxt.first - 4)  # a few frames before: the bit reservoir lies in them
    last = min(len(previous.offsets) - 1, nxt.first + nxt.fixed)
    kept = Segment(first * FRAME, nxt.start, nxt.start, False)
    if last > first:
        kept.stream.feed(previous.data[previous.offsets[first] : previous.offsets[last]])
    point = _join_point(kept, nxt, nxt.fixed)
    if point is not None:
        _keep_frames(out, head.reuse, point, marks)
        return _ready(nxt, spool), point - nxt.first, segments[1:]
    catch = Segment(0, nxt.start, head.change, False)
    catch.encoder = head.new_encoder()
    _feed(catch, spool, channels, catch.until)
    return catch, 0, segments


def _keep_frames(out: BinaryIO, reuse: Reuse, count: int, marks: array) -> None:
    """Write the previous master's first ``count`` frames (the start of the output)."""
    previous = reuse.previous
    assert previous is not None and not marks
    end = previous.offsets[count]
    view = memoryview(previous.data)
    for at in range(0, end, COPY):
        out.write(view[at : min(end, at + COPY)])
    marks.extend(previous.offsets[:count])
    marks.append(end)
    reuse.reused = count
