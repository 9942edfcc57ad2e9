"""Reusing the previous master's MP3 frames never changes the result: after one late turn
changed, a warm master of the episode folder decodes to exactly the samples (and reports
the figures) of a master from scratch, while it keeps most of the old frames (and the
verifying decode's measurements of them); every way
reuse can fail (an early change, a gain that moved, a damaged or missing record, no run
of equal frames to join at) falls back to encoding, with the same result."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import podcast.stages.master.mp3split as split
from podcast.models import Episode
from podcast.stages.master.codecs import read_any
from podcast.stages.master.options import MasterOptions
from podcast.stages.master.produce import REUSE, master_episode
from podcast.stages.master.reuse import PIECES, SIDECAR, STREAM, Cells, quantized

from .master_signals import clip_episode, speech_like

pytest.importorskip("lameenc")
RATE = 24000
TURNS = 11
LATE = 9  # changed turn, about 80 % of the way


def turns(changed: int | None = None, seconds: float = 4.4, level: float = 1.0) -> list:
    """Speech-like turns of 3-7 s, two speakers 6 dB apart; turn ``changed`` replaced by
    other audio of ``seconds`` at ``level`` times its speaker's level."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(TURNS):
        length, seed, scale = float(rng.uniform(3.0, 7.0)), i, 0.2 if i % 2 else 0.1
        if i == changed:
            length, seed, scale = seconds, 100 + i, scale * level
        audio = speech_like(length, RATE, seed=seed, level=scale)
        out.append(("S1" if i % 2 == 0 else "S2", f"Turn {i} says something.", audio))
    return out


def master(folder: Path, clips: list, options: MasterOptions) -> Episode:
    return master_episode(clip_episode(folder, clips, RATE), options, folder)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """The report without timings and the reuse figure."""
    report = json.loads(json.dumps(report))
    report.pop("reused_seconds")
    for attempt in report["attempts"]:
        attempt.pop("seconds")
    return report


COLD: dict[bool, tuple] = {}


@pytest.fixture(scope="module", autouse=True)
def short_pieces() -> Iterator[None]:
    """Verifying decodes in pieces of 400 frames (about 10 s), so that a minute has several."""
    import podcast.stages.master.verify as verify

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verify, "PIECE", 400)
        yield


@pytest.fixture
def pieces_reused(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the verification pieces taken from the previous master instead of decoded."""
    from podcast.stages.master.meter import LoudnessMeter

    calls: list[int] = []
    rebuild = LoudnessMeter.from_summary.__func__

    def counted(cls: type, *args: object) -> LoudnessMeter:
        calls.append(1)
        return rebuild(cls, *args)

    monkeypatch.setattr(LoudnessMeter, "from_summary", classmethod(counted))
    return calls


def cold_master(mono: bool, folder: Path) -> tuple:
    """A master from scratch of the episode whose late turn changed (made once per
    layout): options, decoded samples, report and duration."""
    if mono not in COLD:
        options = MasterOptions(mono=mono)
        done = master(folder, turns(LATE), options)
        assert done.outputs.report["reused_seconds"] == 0.0  # no previous master
        samples = read_any(done.outputs.audio)[0]
        COLD[mono] = options, samples, done.outputs.report, done.outputs.duration
    return COLD[mono]


@pytest.fixture(params=[False, True], ids=["carried", "mono"])
def layouts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The cold master, for a mono master carried in stereo MP3 and for a mono MP3."""
    return cold_master(request.param, tmp_path_factory.mktemp("cold"))


@pytest.fixture
def cold(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    """The cold master of the default layout (a mono master carried in stereo MP3)."""
    return cold_master(False, tmp_path_factory.mktemp("cold"))


def same_as_cold(done: Episode, cold: tuple) -> float:
    """Assert ``done`` decodes and reports like ``cold``; returns its reused seconds."""
    _, samples, report, _ = cold
    decoded = read_any(done.outputs.audio)[0]
    assert decoded.shape == samples.shape
    assert np.array_equal(decoded, samples)
    assert comparable(done.outputs.report) == comparable(report)
    assert done.outputs.report["passed"]
    return done.outputs.report["reused_seconds"]


def test_a_late_change_keeps_most_frames_and_decodes_like_a_cold_master(
    tmp_path: Path, layouts: tuple, pieces_reused: list[int]
) -> None:
    cold = layouts
    options, _, _, duration = cold
    first = master(tmp_path, turns(), options)
    for name in (SIDECAR, STREAM, PIECES):
        assert (tmp_path / REUSE / name).is_file()
    assert not pieces_reused
    warm = master(tmp_path, turns(LATE), options)
    assert len(pieces_reused) >= 3  # the verifying decode of the kept frames was kept too
    reused = same_as_cold(warm, cold)
    start = warm.segments[LATE].start
    assert start - split.OVERLAP - 2.0 <= reused <= start  # kept up to a join before the turn
    assert reused > 0.6 * duration
    # gains on the grid, and the one-turn edit left them as they were
    gains = [a["gain_db"] for a in warm.outputs.report["attempts"]]
    assert gains == [a["gain_db"] for a in first.outputs.report["attempts"]]
    again = master(tmp_path, turns(LATE), options)  # nothing changed: every frame kept
    assert same_as_cold(again, cold) == pytest.approx(again.outputs.duration, abs=0.1)


def test_a_change_in_the_first_turn_keeps_nothing(tmp_path: Path, cold: tuple) -> None:
    options, _, _, _ = cold
    master(tmp_path, turns(0), options)
    assert same_as_cold(master(tmp_path, turns(LATE), options), cold) == 0.0


def test_a_gain_that_moved_a_grid_step_keeps_nothing(tmp_path: Path, cold: tuple) -> None:
    options, _, _, _ = cold
    before = master(tmp_path, turns(LATE, level=4.0), options)  # a loud turn: other gains
    moved = before.outputs.report["speakers"]["S2"]["gain_db"]
    assert moved != cold[2]["speakers"]["S2"]["gain_db"]
    assert same_as_cold(master(tmp_path, turns(LATE), options), cold) == 0.0


@pytest.mark.slow
def test_a_damaged_verification_record_means_a_full_verifying_decode(
    tmp_path: Path, cold: tuple, pieces_reused: list[int]
) -> None:
    options, _, _, _ = cold
    master(tmp_path, turns(), options)
    (tmp_path / REUSE / PIECES).write_bytes(b"PK\x03\x04 not quite")
    assert same_as_cold(master(tmp_path, turns(LATE), options), cold) > 0.0
    assert not pieces_reused


@pytest.mark.parametrize("damage", ["stream", "sidecar", "missing", "other-encoding"])
def test_a_damaged_record_means_a_full_encode(tmp_path: Path, cold: tuple, damage: str) -> None:
    options, _, _, _ = cold
    master(tmp_path, turns(), options)
    folder = tmp_path / REUSE
    if damage == "stream":
        data = bytearray((folder / STREAM).read_bytes())
        data[len(data) // 3] ^= 0x40
        (folder / STREAM).write_bytes(bytes(data))
    elif damage == "sidecar":
        (folder / SIDECAR).write_text('{"version": 1, "cells": [')
    elif damage == "missing":
        (folder / STREAM).unlink()
    else:
        record = json.loads((folder / SIDECAR).read_text())
        (folder / SIDECAR).write_text(json.dumps({**record, "quality": 5}))
    assert same_as_cold(master(tmp_path, turns(LATE), options), cold) == 0.0


def test_without_a_run_of_equal_frames_the_start_is_encoded_again(
    tmp_path: Path, cold: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    options, _, _, _ = cold
    master(tmp_path, turns(), options)
    monkeypatch.setattr(split, "MIN_RUN", 10**6)  # no join anywhere: encoders carry on
    assert same_as_cold(master(tmp_path, turns(LATE), options), cold) == 0.0


def test_a_record_from_another_folder_is_used_only_where_the_pcm_matches(
    tmp_path: Path, cold: tuple
) -> None:
    """The record describes PCM, not an episode: a copy of the unchanged episode's record
    next to the changed one is as good as its own; the deliverable itself is never read."""
    options, _, _, _ = cold
    first = master(tmp_path / "a", turns(), options)
    shutil.copytree(tmp_path / "a" / REUSE, tmp_path / "b" / REUSE)
    first.outputs.audio.write_bytes(b"not an mp3")
    assert same_as_cold(master(tmp_path / "b", turns(LATE), options), cold) > 0.0


def test_cells_find_the_first_difference() -> None:
    rng = np.random.default_rng(1)
    pcm = rng.integers(-3000, 3000, (10_000, 1), dtype=np.int16)

    def digests(x: np.ndarray, before: tuple = (), block: int = 777) -> Cells:
        cells = Cells(1000, before)
        for start in range(0, x.shape[0], block):
            cells.feed(x[start : start + block])
        cells.finish()
        return cells

    base = digests(pcm)
    assert len(base.digests) == 10 and base.changed == 0
    assert digests(pcm, tuple(base.digests), block=4096).changed is None  # any blocks
    edited = pcm.copy()
    edited[4321] += 1
    assert digests(edited, tuple(base.digests)).changed == 4
    assert digests(pcm[:9500], tuple(base.digests)).changed == 9  # shorter: last cell
    assert digests(pcm[:9000], tuple(base.digests)).changed == 9  # a prefix: where it ends
    assert digests(np.concatenate([pcm, pcm[:5]]), tuple(base.digests)).changed == 10


def test_gains_sit_on_the_grid() -> None:
    assert quantized(6.3749) == 6.35 and quantized(-0.026) == -0.05
    assert quantized(quantized(1.234)) == quantized(1.234)


@pytest.mark.parametrize(("channels", "kbps", "rate"), [(1, 112, 44100), (2, 128, 44100), (1, 96, 48000)])
def test_frame_offsets_of_a_lame_stream_match_a_frame_by_frame_parse(
    channels: int, kbps: int, rate: int
) -> None:
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(rate)
    encoder.set_channels(channels)
    encoder.set_quality(7)
    audio = speech_like(20.0, rate, level=0.3)
    pcm = np.repeat(np.round(audio * 32767).astype(np.int16)[:, np.newaxis], channels, axis=1)
    data = bytes(encoder.encode(pcm) + encoder.flush())
    predicted = split._cbr_offsets(data)
    assert predicted is not None
    stream = split.Mp3Stream()
    stream.feed(data)
    assert list(predicted) == [*stream.offsets, len(data)]
    damaged = bytearray(data)
    damaged[predicted[len(predicted) // 2] + 2] ^= 0x02  # one frame's padding bit
    assert split._cbr_offsets(bytes(damaged)) is None
    with pytest.raises(ValueError):
        split.Mp3Stream.frame_offsets(bytes(damaged))
