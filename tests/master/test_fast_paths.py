"""The speed-ups of the master stage give the same answers as the straightforward versions
they replace (scipy.signal / scipy.ndimage filters, pedalboard's MP3 decoder, the old PCM
conversion and per-sample envelope)."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from podcast.stages.master.codecs import Encoding, decode_blocks, encode, pcm16
from podcast.stages.master.iir import butter_highpass_sos, sosfilt_inplace
from podcast.stages.master.limiter import running_min, trailing_mean
from podcast.stages.master.meter import LoudnessMeter, measure
from podcast.stages.master.peak import PHASE_TAPS, _group_values, block_envelope, run_max

from .master_signals import speech_like


@pytest.mark.parametrize(("cutoff", "rate"), [(70.0, 24000), (60.0, 44100), (80.0, 48000)])
@pytest.mark.parametrize("kernel", ["direct", "fallback"])
def test_highpass_design_and_filter_match_scipy(
    cutoff: float, rate: int, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scipy.signal import butter, sosfilt

    import podcast.stages.master.iir as iir

    if kernel == "fallback":  # the public scipy.signal.sosfilt, as on another scipy layout
        monkeypatch.setattr(iir, "_kernel", lambda: None)
    else:
        assert iir._kernel() is not None
    sos = butter(2, cutoff, btype="highpass", fs=rate, output="sos")
    assert np.abs(butter_highpass_sos(cutoff, rate) - sos).max() < 1e-12
    x = np.random.default_rng(0).standard_normal((2, 30_000)).astype(np.float32)
    head, tail = np.ascontiguousarray(x[:, :10_000]), np.ascontiguousarray(x[:, 10_000:])
    state = np.zeros((2, 1, 2), np.float32)
    sosfilt_inplace(sos.astype(np.float32), head, state)
    sosfilt_inplace(sos.astype(np.float32), tail, state)  # streaming: the state carries on
    ours = np.concatenate([head, tail], axis=1)
    assert np.abs(ours - sosfilt(sos.astype(np.float32), x, axis=-1)).max() < 1e-6


def test_filter_module_loads_without_scipy_signal() -> None:
    code = (
        "import sys, numpy as np\n"
        "from podcast.stages.master.meter import measure\n"
        "measure(np.ones((1, 24000), np.float32) * 0.1, 24000)\n"
        "print('scipy.signal' in sys.modules, 'scipy.ndimage' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_running_filters_match_scipy_ndimage() -> None:
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    a = np.random.default_rng(1).random(5000).astype(np.float32)
    for ahead, back in ((15, 45), (28, 83), (2, 3)):  # the limiter's windows at 24/44.1 kHz
        size, box = ahead + back, max(1, ahead // 2)
        before = size // 2 + size // 2 - ahead + 1
        expected = minimum_filter1d(a, size=size, origin=size // 2 - ahead + 1, mode="nearest")
        assert np.array_equal(running_min(a, before, size - 1 - before), expected)
        smooth = uniform_filter1d(a, size=box, origin=(box - 1) // 2, mode="nearest")
        assert np.abs(trailing_mean(a, box) - smooth).max() < 1e-6


def test_run_max_equals_reshaped_max() -> None:
    a = np.random.default_rng(2).standard_normal(4096).astype(np.float32)
    for run in (1, 2, 16, 256):
        assert np.array_equal(run_max(a, run), a.reshape(-1, run).max(axis=1))


@pytest.mark.parametrize("n", [5, 1000, 1037, 20_011])
def test_block_envelope_equals_dense_per_sample_envelope(n: int) -> None:
    """Every run's maximum equals the dense envelope's (oversampling everything) wherever
    either exceeds the floor, and never exceeds it elsewhere."""
    x = (np.random.default_rng(n).standard_normal(n) * 0.5).astype(np.float32)
    padded = np.concatenate([np.zeros(5, np.float32), x, np.zeros(PHASE_TAPS, np.float32)])
    blocks = np.arange(-(-padded.size // 1024))
    starts, values = _group_values(padded, blocks)
    env = np.abs(x)
    for index in (starts, starts + 1):  # a window sits between samples r and r + 1
        keep = index < n
        env[index[keep]] = np.maximum(env[index[keep]], values[keep])
    dense = np.zeros(-(-n // 16) * 16, np.float32)
    dense[:n] = env
    dense = dense.reshape(-1, 16).max(axis=1)
    for floor in (0.0, 0.6, 5.0):
        got = block_envelope(x, floor, 16)
        hot = (got > floor) | (dense > floor)
        assert np.array_equal(got[hot], dense[hot])
        assert (got <= dense).all()


def test_pcm16_matches_round_clip_convert() -> None:
    block = (np.random.default_rng(3).standard_normal((2, 4000)) * 0.6).astype(np.float32)

    def reference(b: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(b.T * 32767.0), -32768, 32767).astype("<i2")

    assert np.array_equal(pcm16(block, 2), reference(block))
    assert np.array_equal(pcm16(block[:1], 2), reference(np.repeat(block[:1], 2, axis=0)))
    assert np.array_equal(pcm16(block, 1), reference(block.mean(axis=0, keepdims=True)))


def test_silence_keeps_the_meter_exact() -> None:
    """The -400 dBFS guard against subnormal floats changes no figure: silence is still
    gated out and a tone's loudness is unchanged to 1e-6 LU."""
    rate = 24000
    assert measure(np.zeros((2, 2 * rate), np.float32), rate).integrated == -math.inf
    t = np.arange(10 * rate) / rate
    tone = (10 ** (-23 / 20) * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    gapped = np.concatenate([tone, np.zeros(3 * rate, np.float32), tone])
    meter = LoudnessMeter(rate, 1, true_peak=False)
    meter.feed(gapped)
    hops = meter.hop_energies()
    assert float(hops[105:130].max()) < 1e-20  # the pause, once the filter has rung out
    assert measure(np.stack([tone, tone]), rate).integrated == pytest.approx(-23.0, abs=0.05)


def test_mp3_decodes_like_pedalboard(tmp_path: Path) -> None:
    """libsndfile's decoder (used when present) gives pedalboard's samples and length."""
    sf = pytest.importorskip("soundfile")
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile cannot read MP3")
    from pedalboard.io import AudioFile

    rate = 24000
    x = speech_like(6, rate, seed=9)[np.newaxis]
    path = tmp_path / "x.mp3"
    encode(x, rate, path, Encoding("mp3", 2, 44100, 128))
    out_rate, channels, blocks = decode_blocks(path)
    ours = np.concatenate(list(blocks), axis=1)
    with AudioFile(str(path)) as handle:
        theirs = handle.read(handle.frames)
    assert (out_rate, channels) == (44100, 2)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-5
    assert np.array_equal(ours[0], ours[1])  # L = R survives joint stereo: one pass suffices


def test_envelope_computed_alongside_equals_the_serial_one() -> None:
    """A long episode's limiter envelope is computed on another thread while the first
    chunks are used: the limited audio is the same as from the envelope made at once."""
    from podcast.stages.master import limiter as lim

    rate = 24000
    x = speech_like(2.3 * lim.CHUNK / rate, rate, seed=11, level=0.9)[np.newaxis]
    limiter = lim.Limiter(x, rate, -1.5, 9.0)
    rendered = np.concatenate(list(limiter.chunks(6.0)), axis=1)
    serial = lim._envelope(x, lim.db_to_gain(-1.5 - 9.0))
    assert np.array_equal(limiter._peaks, serial)
    assert rendered.shape == x.shape and float(np.abs(rendered).max()) <= 10 ** (-1.5 / 20) + 1e-6
    assert np.array_equal(rendered, limiter.apply(6.0))


def test_a_failed_envelope_chunk_is_raised_where_the_envelope_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An error on an envelope thread reaches the limiter's caller (no hang, no silence)."""
    from podcast.stages.master import limiter as lim
    from podcast.stages.master import mp3split

    real = lim._envelope_chunk

    def failing(x: np.ndarray, floor: float, start: int) -> tuple[int, np.ndarray]:
        if start == lim.CHUNK:
            raise MemoryError("chunk 2")
        return real(x, floor, start)

    monkeypatch.setattr(lim, "_envelope_chunk", failing)
    monkeypatch.setattr(mp3split, "parallel_workers", lambda: 2)
    rate = 24000
    x = speech_like(3.5 * lim.CHUNK / rate, rate, seed=5, level=0.9)[np.newaxis]
    limiter = lim.Limiter(x, rate, -1.5, 9.0)
    raised: list[BaseException] = []

    def use() -> None:
        try:
            limiter.apply(6.0)
        except MemoryError as exc:
            raised.append(exc)

    user = threading.Thread(target=use, daemon=True)
    user.start()
    user.join(timeout=60)  # a lost error would leave the caller waiting forever
    assert not user.is_alive() and [str(e) for e in raised] == ["chunk 2"]


def test_jobs_on_every_core_run_once_each_and_stop_after_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from podcast.stages.master import mp3split

    monkeypatch.setattr(mp3split, "parallel_workers", lambda: 3)
    done: list[int] = []
    threads: set[int] = set()
    both = threading.Barrier(3, timeout=10)

    def job(k: int) -> None:
        if k < 3:  # the first three wait for each other: three threads ran them
            both.wait()
        threads.add(threading.get_ident())
        done.append(k)

    assert mp3split.on_every_core(job, range(40)) == []
    assert sorted(done) == list(range(40)) and len(threads) == 3

    started: list[int] = []

    def failing(k: int) -> None:
        started.append(k)
        if k == 0:
            raise ValueError("first")

    monkeypatch.setattr(mp3split, "parallel_workers", lambda: 1)
    errors = mp3split.on_every_core(failing, range(10))
    assert [str(e) for e in errors] == ["first"] and started == [0]
