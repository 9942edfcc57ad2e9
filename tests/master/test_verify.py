"""The verifying decode measured while the stream is written (``verify.Early``) gives, piece
for piece, the figures of the finished file, and the file measured with those pieces
reads exactly as the file measured from scratch."""

from __future__ import annotations

import os
import sys
import threading
import time
from array import array
from pathlib import Path

import pytest

import podcast.stages.master.verify as verify
from podcast.stages.master.codecs import Encoding, chunks, encode_parts, measure_file

from .test_parallel import RATE, talk

pytest.importorskip("lameenc")


@pytest.fixture
def short_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of 400 frames (about 10 s), so that two minutes have a dozen."""
    monkeypatch.setattr(verify, "PIECE", 400)


def encoded(path: Path, seconds: float, quality: int = 6) -> tuple[list[int], object]:
    """A mono master of ``seconds`` encoded to ``path`` as 128 kbps stereo MP3 (at quality
    6 its own frames, at 7 a mono stream carried in stereo frames); its frame offsets and
    what the encode returned."""
    audio = talk(seconds, seed=5)
    enc = Encoding("mp3", 2, 44100, 128, mp3_quality=quality)
    written = encode_parts(chunks(audio), 1, RATE, path, enc, audio.shape[1])
    assert written is not None
    return list(written.offsets), written


def summary(meter: object) -> tuple:
    sums, samples, sample_peak, peak = meter.summary()  # type: ignore[attr-defined]
    return sums.tobytes(), samples, sample_peak, peak


def test_a_stream_measured_as_it_grows_gives_the_pieces_of_the_finished_file(
    tmp_path: Path, short_pieces: None
) -> None:
    path = tmp_path / "m.mp3"
    offsets, written = encoded(path, 130.0)
    written.close()
    plan = verify.plan_pieces(offsets, 44100)
    assert len(plan) > 6
    early = verify.Early(path, 44100, 2)
    for count in (300, 900, 2000, len(offsets) - 1):  # the frames written so far
        early.wrote(array("q", offsets[: count + 1]))
        time.sleep(0.05)
    deadline = time.monotonic() + 60
    while len(early.measured) < len(plan) - 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    measured = early.finish()
    # every piece but the last (its end is the file's) is known before the stream ends
    assert set(measured) == set(plan[:-1])
    for piece, meter in measured.items():
        fresh, end = verify.measure_piece(path, offsets, piece, 44100, 2)
        assert end == piece[2]
        assert summary(meter) == summary(fresh)


def test_a_piece_is_not_measured_before_its_frames_and_the_next_piece_exist(
    tmp_path: Path, short_pieces: None
) -> None:
    offsets, written = encoded(tmp_path / "m.mp3", 130.0)
    written.close()
    plan = verify.plan_pieces(offsets, 44100)
    # the second piece's start depends on the frames after it; its end is the third's cut
    first_unknown = next(
        n for n in range(len(offsets)) if verify._known_piece(offsets[: n + 1], 1, 44100)
    )
    assert first_unknown > 2 * verify.PIECE + verify.PIECE // 2
    assert verify._known_piece(offsets[: first_unknown + 1], 1, 44100) == plan[1]
    assert verify._known_piece(offsets, len(plan) - 1, 44100) is None  # the last: never


@pytest.mark.parametrize("quality", [6, 7], ids=["stereo", "carried"])
def test_a_master_measured_while_encoded_reads_as_measured_from_scratch(
    tmp_path: Path, short_pieces: None, monkeypatch: pytest.MonkeyPatch, quality: int
) -> None:
    told = verify.Early.wrote

    def slowly(self: verify.Early, marks: array) -> None:
        told(self, marks)
        time.sleep(0.3)  # the writer waits: the pieces written so far are measured

    monkeypatch.setattr(verify.Early, "wrote", slowly)
    monkeypatch.setattr(verify, "_lowest_priority", lambda: None)
    path = tmp_path / "m.mp3"
    offsets, written = encoded(path, 130.0, quality)
    try:
        assert written.early  # measured from the file while it grew
        with_early = measure_file(path, written)
    finally:
        written.close()
    again = verify.measure_pieces(path, offsets)
    assert again is not None
    if quality == 7:  # the carried file's frames decode to the mono stream on both sides
        assert abs(with_early.integrated - again.integrated) < 1e-6
        assert with_early.true_peak == again.true_peak
    else:
        assert with_early == again


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities: Linux")
def test_the_priority_drop_touches_only_its_own_thread() -> None:
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    niceness: list[int] = []

    def lowered() -> None:
        verify._lowest_priority()
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join()
    assert niceness == [19]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


@pytest.mark.parametrize("quality", [6, 7], ids=["stereo", "carried"])
def test_ctrl_c_while_encoding_stops_the_measuring_thread_too(
    tmp_path: Path, short_pieces: None, quality: int
) -> None:
    audio = talk(130.0, seed=5)

    def interrupted() -> object:
        for i, part in enumerate(chunks(audio, 1 << 16)):
            if i == 40:  # 109 s in: segments are joined and measured by then
                raise KeyboardInterrupt
            yield part

    before = threading.active_count()
    enc = Encoding("mp3", 2, 44100, 128, mp3_quality=quality)
    with pytest.raises(KeyboardInterrupt):
        encode_parts(interrupted(), 1, RATE, tmp_path / "m.mp3", enc, audio.shape[1])
    assert threading.active_count() == before
