"""MP3 encoding on several cores is gapless: the joined file decodes to exactly the samples
one LAME pass decodes to, whatever the cores; the decoded file measured in pieces
gives the one-piece figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import podcast.stages.master.mp3split as split
from podcast.stages.master.codecs import Encoding, encode, measure_file, read_any
from podcast.stages.master.mp3split import Mp3Stream, grid
from podcast.stages.master.verify import measure_pieces, plan_pieces

from .master_signals import speech_like

lameenc = pytest.importorskip("lameenc")
RATE = 24000


def talk(seconds: float, seed: int = 0) -> np.ndarray:
    """Speech-like turns of 2-9 s with pauses of exact silence, float32 ``(1, n)``."""
    rng = np.random.default_rng(seed)
    out, total = [], 0
    while total < seconds * RATE:
        turn = speech_like(float(rng.uniform(2.0, 9.0)), RATE, seed=total, level=0.5)
        pause = np.zeros(round(rng.uniform(0.3, 0.5) * RATE), np.float32)
        out += [turn, pause]
        total += turn.size + pause.size
    return np.concatenate(out)[: round(seconds * RATE)][np.newaxis]


def one_pass(audio: np.ndarray, path: Path, enc: Encoding) -> None:
    """The reference: one LAME encoder over the whole (mono) signal, as before splitting;
    at quality 7 a stereo deliverable is the mono encode carried in joint-stereo frames
    (see test_mp3stereo)."""
    import soxr

    from podcast.stages.master.codecs import pcm16
    from podcast.stages.master.mp3stereo import JointStereo, carrier_kbps

    carrier = carrier_kbps(enc.bitrate, enc.sample_rate) if enc.mp3_quality >= 7 else None
    channels = 1 if carrier else enc.channels
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(carrier or enc.bitrate)
    encoder.set_in_sample_rate(enc.sample_rate)
    encoder.set_channels(channels)
    encoder.set_quality(enc.mp3_quality)
    resampled = soxr.resample(audio[0], RATE, enc.sample_rate, quality="HQ")
    data = encoder.encode(pcm16(resampled[np.newaxis], channels)) + encoder.flush()
    with open(path, "wb") as out:
        if carrier and enc.channels == 2:
            stereo = JointStereo(out, enc.bitrate)
            stereo.write(data)
            stereo.close()
        else:
            out.write(data)


@pytest.fixture
def short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    """Segments of 20 s with 3 s of overlap, so a test signal of a minute has several."""
    monkeypatch.setattr(split, "SEGMENT", 20.0)
    monkeypatch.setattr(split, "OVERLAP", 3.0)


@pytest.mark.parametrize("workers", [1, 2])
def test_joined_segments_decode_exactly_like_one_pass(
    tmp_path: Path, short_segments: None, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    monkeypatch.setattr(split, "parallel_workers", lambda: workers)
    audio = talk(75.0)
    enc = Encoding("mp3", 2, 44100, 128)
    joined, single = tmp_path / "joined.mp3", tmp_path / "single.mp3"
    encode(audio, RATE, joined, enc)
    one_pass(audio, single, enc)
    assert len(split.plan(round(75.0 * 44100), 44100, grid(44100, 128))) >= 3
    ours, theirs = read_any(joined)[0], read_any(single)[0]
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)  # not one sample moved, lost or changed
    frames = Mp3Stream()
    frames.feed(joined.read_bytes())
    assert len(frames) * 1152 == ours.shape[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joined.mp3", "single.mp3"]


@pytest.mark.parametrize(("channels", "kbps"), [(1, 96), (2, 128)])  # (2, 128): carried mono
def test_bytes_do_not_depend_on_the_cores(
    tmp_path: Path, short_segments: None, monkeypatch: pytest.MonkeyPatch, channels: int, kbps: int
) -> None:
    audio = talk(50.0, seed=1)
    enc = Encoding("mp3", channels, 44100, kbps)
    files = []
    for workers in (1, 2, 2):
        monkeypatch.setattr(split, "parallel_workers", lambda w=workers: w)
        files.append(tmp_path / f"w{workers}-{len(files)}.mp3")
        encode(audio, RATE, files[-1], enc)
    assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()


def test_sound_without_pauses_still_joins_exactly(tmp_path: Path, short_segments: None) -> None:
    """No silence to wash the encoder state out: the earlier encoder carries on until the
    frames agree (or to the end); the result still decodes like one pass.  (Quality 6:
    LAME's own joint stereo, not a carried mono stream.)"""
    audio = speech_like(50.0, RATE, seed=3, level=0.5)[np.newaxis]
    audio += 0.05 * np.random.default_rng(4).standard_normal(audio.shape).astype(np.float32)
    enc = Encoding("mp3", 2, 44100, 128, mp3_quality=6)
    joined, single = tmp_path / "joined.mp3", tmp_path / "single.mp3"
    encode(audio, RATE, joined, enc)
    one_pass(audio, single, enc)
    assert np.array_equal(read_any(joined)[0], read_any(single)[0])


def test_grid_follows_lames_padding_period() -> None:
    assert grid(44100, 128) == 49 * 1152  # 144000·128 mod 44100 = 42300, gcd 900
    assert grid(48000, 128) == 1152  # no padding at 48 kHz
    assert grid(32000, 96) == 1152


def test_key_ignores_filler_bits_but_not_audio(tmp_path: Path) -> None:
    audio = talk(6.0, seed=5)
    path = tmp_path / "a.mp3"
    one_pass(audio, path, Encoding("mp3", 2, 44100, 128))
    stream = Mp3Stream()
    stream.feed(path.read_bytes())
    keys = {stream.key(i) for i in range(len(stream))}
    assert len(keys) > len(stream) // 2  # speech frames differ from one another
    with pytest.raises(ValueError, match="MPEG-1 layer III"):
        Mp3Stream().feed(b"RIFF" + bytes(2000))


@pytest.mark.parametrize("workers", [1, 2])
def test_pieces_measure_like_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    import podcast.stages.master.verify as verify

    monkeypatch.setattr(split, "parallel_workers", lambda: workers)
    monkeypatch.setattr(verify, "PIECE", 600)  # four pieces
    audio = talk(70.0, seed=2)
    np.multiply(audio, 1.8, out=audio)  # loud: true peaks near full scale
    path = tmp_path / "m.mp3"
    frames = encode_frames(audio, path)
    from mutagen.id3 import ID3, TIT2

    tag = ID3()
    tag.add(TIT2(encoding=3, text=["x" * 5000]))  # the offsets move by the tag's size
    tag.save(str(path))
    assert len(plan_pieces(frames, 44100)) == 4
    halves, whole = measure_pieces(path, frames), measure_file(path)
    assert halves is not None  # the decoder gave the samples the pieces expect
    assert halves.duration == whole.duration
    assert halves.true_peak == whole.true_peak and halves.sample_peak == whole.sample_peak
    assert abs(halves.integrated - whole.integrated) < 1e-6
    assert abs(halves.lra - whole.lra) < 1e-6
    assert abs(halves.max_momentary - whole.max_momentary) < 1e-6


def encode_frames(audio: np.ndarray, path: Path) -> list[int]:
    from podcast.stages.master.codecs import chunks, encode_parts

    frames = encode_parts(
        chunks(audio), 1, RATE, path, Encoding("mp3", 2, 44100, 128, mp3_quality=6), audio.shape[1]
    )
    assert frames is not None and frames.offsets[-1] == path.stat().st_size
    return list(frames.offsets)
