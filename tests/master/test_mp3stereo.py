"""A mono MP3 carried in joint-stereo frames: valid 128 kbps joint-stereo MP3 that decoders
play as left = right = the mono decode, with LAME's own frame layout, and a sound no more
than a little below LAME's own joint stereo of the same master."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from podcast.stages.master.codecs import pcm16, read_any
from podcast.stages.master.mp3split import Mp3Stream
from podcast.stages.master.mp3stereo import JointStereo, carrier_kbps

from .master_signals import speech_like

lameenc = pytest.importorskip("lameenc")
soxr = pytest.importorskip("soxr")
RATE = 44100


def talk(seconds: float, seed: int = 0, level: float = 0.5) -> np.ndarray:
    """Int16 mono PCM ``(n, 1)`` at 44.1 kHz: speech-like turns with pauses."""
    rng = np.random.default_rng(seed)
    parts = []
    while sum(p.size for p in parts) < seconds * 24000:
        parts.append(speech_like(float(rng.uniform(2.0, 6.0)), 24000, seed=len(parts), level=level))
        parts.append(np.zeros(round(rng.uniform(0.2, 0.5) * 24000), np.float32))
    audio = soxr.resample(np.concatenate(parts), 24000, RATE, quality="HQ")
    return pcm16(audio[np.newaxis], 1)


def lame(pcm: np.ndarray, channels: int, kbps: int) -> bytes:
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(RATE)
    encoder.set_channels(channels)
    encoder.set_quality(7)
    data = pcm if channels == 1 else np.stack([pcm[:, 0]] * 2, axis=1)
    return bytes(encoder.encode(data) + encoder.flush())


def carry(mono: bytes, kbps: int = 128, step: int = 5000) -> tuple[bytes, list[int]]:
    """The carried stream, fed in pieces that cut frames anywhere, and its offsets."""
    out = io.BytesIO()
    stereo = JointStereo(out, kbps)
    for at in range(0, len(mono), step):
        stereo.write(mono[at : at + step])
    stereo.close()
    return out.getvalue(), list(stereo.offsets)


def decode(data: bytes, path: Path) -> np.ndarray:
    path.write_bytes(data)
    return read_any(path)[0]


@pytest.fixture(scope="module")
def streams() -> tuple[np.ndarray, bytes, bytes, bytes]:
    """Source PCM, its mono 112 kbps encode, that carried at 128 kbps, LAME's 128 kbps
    joint stereo of the same PCM on both channels."""
    pcm = talk(40.0)
    mono = lame(pcm, 1, 112)
    return pcm, mono, carry(mono)[0], lame(pcm, 2, 128)


def test_carrier_bitrates() -> None:
    assert carrier_kbps(128, 44100) == 112
    assert carrier_kbps(128, 48000) == 112
    assert carrier_kbps(192, 44100) == 160
    assert carrier_kbps(32, 44100) is None  # the stereo side information leaves no room
    assert carrier_kbps(128, 24000) is None  # not an MPEG-1 rate
    assert carrier_kbps(100, 44100) is None


def test_decodes_as_the_mono_stream_on_both_channels(
    streams: tuple[np.ndarray, bytes, bytes, bytes], tmp_path: Path
) -> None:
    _, mono, carried, _ = streams
    ours, theirs = decode(carried, tmp_path / "c.mp3"), decode(mono, tmp_path / "m.mp3")
    assert ours.shape == (2, theirs.shape[1])
    assert np.array_equal(ours[0], ours[1])
    assert np.abs(ours[0] - theirs[0]).max() < 1e-6  # M/S gain: √2 up, √2 down
    assert np.abs(theirs).max() > 0.1


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary on PATH")
def test_ffmpeg_decodes_it_alike(
    streams: tuple[np.ndarray, bytes, bytes, bytes], tmp_path: Path
) -> None:
    _, mono, carried, _ = streams
    (tmp_path / "c.mp3").write_bytes(carried)
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(tmp_path / "c.mp3"), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    )
    assert done.stderr == b""  # no damaged frame, no reservoir complaint
    pcm = np.frombuffer(done.stdout, np.float32).reshape(-1, 2)
    reference = decode(mono, tmp_path / "m.mp3")[0]
    assert np.array_equal(pcm[:, 0], pcm[:, 1])
    n = min(pcm.shape[0], reference.size)
    assert n >= reference.size - 1152
    assert np.abs(pcm[:n, 0] - reference[:n]).max() < 1e-4


def test_frames_are_lames_joint_stereo_layout(
    streams: tuple[np.ndarray, bytes, bytes, bytes],
) -> None:
    _, mono, carried, stereo = streams
    ours, theirs, source = Mp3Stream(), Mp3Stream(), Mp3Stream()
    ours.feed(carried)
    theirs.feed(stereo)
    source.feed(mono)
    assert len(ours) == len(theirs) == len(source)
    assert len(carried) == len(stereo)  # same padding pattern, so the same bytes per frame
    for at in ours.offsets:
        header = carried[at : at + 4]
        assert header[2] >> 4 == 9  # 128 kbps
        assert header[3] >> 4 == 0b0110  # joint stereo, M/S on, intensity off
        assert header[1] & 1  # no CRC
    assert carry(mono, step=len(mono))[1] == [*ours.offsets, len(carried)]


def test_sound_is_close_to_lames_own_joint_stereo(
    streams: tuple[np.ndarray, bytes, bytes, bytes], tmp_path: Path
) -> None:
    """The price of the fast path: 112 kbps for the mid channel instead of about 120."""
    pcm, _, carried, stereo = streams
    source = pcm[:, 0].astype(np.float32) / 32767.0

    def snr(data: bytes, name: str) -> float:
        decoded = decode(data, tmp_path / name)[0][1105 : 1105 + source.size]  # LAME's delay
        error = decoded - source[: decoded.size]
        return 10.0 * np.log10(np.sum(source[: decoded.size] ** 2) / np.sum(error**2))

    ours, theirs = snr(carried, "c.mp3"), snr(stereo, "s.mp3")
    assert theirs > 15.0  # the alignment is right
    assert theirs - 1.0 < ours < theirs + 1.0, (ours, theirs)


def test_refuses_what_it_cannot_carry() -> None:
    pcm = talk(4.0)
    with pytest.raises(ValueError, match="mono"):
        carry(lame(pcm, 2, 128))
    with pytest.raises(ValueError, match="MPEG-1 layer III"):
        carry(b"RIFF" + bytes(2000))
    noise = np.random.default_rng(1).integers(-20000, 20000, (RATE * 8, 1)).astype(np.int16)
    with pytest.raises(ValueError, match="more data"):  # 128 kbps mono does not fit
        carry(lame(noise, 1, 128))


def test_the_mono_twin_measures_like_the_deliverable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Verification decodes the mono stream the file carries, as two equal channels: the
    figures are those of decoding the delivered file itself, and nothing is left behind."""
    import podcast.stages.master.mp3split as split
    from podcast.stages.master.codecs import Encoding, chunks, encode_parts, measure_file

    monkeypatch.setattr(split, "parallel_workers", lambda: 2)
    pcm = talk(70.0, seed=4, level=0.9)
    audio = soxr.resample(pcm[:, 0].astype(np.float32) / 32767.0, RATE, 24000, quality="HQ")
    path = tmp_path / "episode.mp3"
    written = encode_parts(chunks(audio[np.newaxis]), 1, 24000, path, Encoding("mp3", 2, RATE, 128), audio.size)
    assert written is not None and written.twin is not None
    assert written.offsets[-1] == path.stat().st_size
    twin, whole = measure_file(path, written), measure_file(path)
    written.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["episode.mp3"]
    assert whole.true_peak > -3.0  # loud enough for the peaks to matter
    assert abs(twin.integrated - whole.integrated) < 1e-4
    assert abs(twin.true_peak - whole.true_peak) < 1e-4
    assert abs(twin.lra - whole.lra) < 1e-3
    assert abs(twin.max_momentary - whole.max_momentary) < 1e-4
    assert twin.duration == whole.duration


def test_a_short_twin_is_read_to_its_end(tmp_path: Path) -> None:
    """Below the length decoded in halves, the twin is read in one piece, as MP3."""
    from podcast.stages.master.codecs import Encoding, chunks, encode_parts, measure_file

    audio = soxr.resample(talk(5.0, seed=6)[:, 0].astype(np.float32) / 32767.0, RATE, 24000)
    path = tmp_path / "short.mp3"
    written = encode_parts(chunks(audio[np.newaxis]), 1, 24000, path, Encoding("mp3", 2, RATE, 128), audio.size)
    assert written is not None and written.twin is not None
    twin, whole = measure_file(path, written), measure_file(path)
    written.close()
    assert twin.duration == whole.duration
    assert abs(twin.integrated - whole.integrated) < 1e-4
    assert abs(twin.true_peak - whole.true_peak) < 1e-4
