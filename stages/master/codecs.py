"""Encode the master to a delivery format and decode deliverables back for measurement.

Formats: ``mp3`` (LAME CBR through lameenc; pedalboard when lameenc is missing), ``wav``
and ``flac`` (24-bit, soundfile), ``opus`` (Ogg Opus at 48 kHz, soundfile) and ``m4a`` (AAC
in MP4 through an ``ffmpeg`` binary).  MP3 is decoded by libsndfile's mpg123 when present.
Audio is float32 ``(channels, n)``; a mono master written as stereo is duplicated chunk by
chunk, so no stereo copy of the episode is ever held in memory.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np

from podcast.errors import InputError, OutputError

from .meter import Loudness, LoudnessMeter
from .verify import HALF_MIN, Early, Piece, measure_pieces, widened

if TYPE_CHECKING:
    from .reuse import Reuse, Verified

__all__ = [
    "FORMATS",
    "Encoding",
    "Written",
    "chunks",
    "decode_blocks",
    "encode",
    "encode_parts",
    "measure_file",
    "read_any",
]

FORMATS = ("mp3", "wav", "flac", "opus", "m4a")
BLOCK = 1 << 20
FRAME_SAMPLES = 1152  # samples per MPEG-1 layer III frame
# Level lost in encoding (dB, measured on speech): pre-compensated so the decoded file lands
# on target without a second encode.  LAME CBR is flat-ish ≈0.45 dB low; see mastering.md §4.
CODEC_LOSS_DB = {"mp3": 0.45, "m4a": 0.06, "opus": 0.26, "wav": 0.0, "flac": 0.0}


@dataclass(frozen=True, slots=True)
class Encoding:
    """How to write the deliverable: format, channels (1 or 2), rate (Hz), bitrate (kbps),
    for ffmpeg-encoded formats an FFMETADATA1 text (tags and chapters), and LAME's algorithm
    quality for MP3 (2 best … 7 fastest)."""

    format: str
    channels: int
    sample_rate: int
    bitrate: int
    ffmetadata: str = ""
    mp3_quality: int = 7


@dataclass(frozen=True, slots=True)
class Written:
    """Where an encoded MP3's frames lie: ``offsets`` of every frame and, last, the end
    of the audio (before tagging).  For a mono master carried in joint-stereo frames (see
    :mod:`.mp3stereo`), ``twin`` is an unlinked file holding the mono stream it carries
    (frame offsets ``twin_offsets``), which decodes to the samples of each of the file's
    two channels: :func:`measure_file` decodes it instead, half the work."""

    offsets: array
    twin: BinaryIO | None = None
    twin_offsets: array | None = None
    reused: float = 0.0  # seconds of frames kept from the previous master (see .reuse)
    verified: Verified | None = None  # its verification's pieces, for measure_file
    early: dict[Piece, LoudnessMeter] | None = None  # pieces measured as it was written

    def close(self) -> None:
        """Drop the twin (its space is freed)."""
        if self.twin is not None:
            self.twin.close()


class _Tee:
    """Write to two file-like objects."""

    def __init__(self, *sinks: Any) -> None:
        self.sinks = sinks

    def write(self, data: bytes) -> int:
        for sink in self.sinks:
            sink.write(data)
        return len(data)


def ffmpeg_binary() -> str | None:
    """Path of an ``ffmpeg`` executable, or ``None``."""
    return shutil.which("ffmpeg")


def chunks(audio: np.ndarray, size: int = BLOCK) -> Iterator[np.ndarray]:
    """Consecutive ``(c, size)`` views of ``(c, n)`` ``audio`` (the last may be shorter)."""
    for start in range(0, audio.shape[1], size):
        yield audio[:, start : start + size]


def _resampled(
    parts: Iterable[np.ndarray], channels: int, rate: int, enc: Encoding
) -> Iterator[np.ndarray]:
    """``(c, m)`` float32 blocks of the ``(c, k)`` ``parts`` resampled from ``rate`` to
    ``enc.sample_rate`` (soxr, streaming), still in the master's channels."""
    if rate == enc.sample_rate:
        yield from parts
        return
    import soxr

    stream = soxr.ResampleStream(rate, enc.sample_rate, channels, dtype="float32", quality="HQ")
    for part in parts:
        block = stream.resample_chunk(np.ascontiguousarray(part.T))
        if block.shape[0]:
            yield block.T
    tail = stream.resample_chunk(np.zeros((0, channels), np.float32), last=True)
    if tail.shape[0]:
        yield tail.T


def _downmixed(block: np.ndarray, channels: int) -> np.ndarray:
    """``block`` averaged to one channel unless it already has ``channels`` or is mono (a
    mono block is duplicated by the caller, after any conversion)."""
    if block.shape[0] in (1, channels):
        return block
    return block.mean(axis=0, keepdims=True)


def _blocks(
    parts: Iterable[np.ndarray], channels: int, rate: int, enc: Encoding
) -> Iterator[np.ndarray]:
    """``(enc.channels, m)`` float32 blocks of ``parts`` resampled to ``enc.sample_rate``, a
    mono master duplicated to stereo and a multi-channel one averaged to mono."""
    for block in _resampled(parts, channels, rate, enc):
        block = _downmixed(block, enc.channels)
        if block.shape[0] != enc.channels:
            block = np.repeat(block, enc.channels, axis=0)
        yield np.ascontiguousarray(block, dtype=np.float32)


def pcm16(block: np.ndarray, channels: int) -> np.ndarray:
    """Float ``(c, m)`` ``block`` as read-only interleaved 16-bit PCM ``(m, channels)``
    (rounded, clipped).  A mono block is converted once and then duplicated."""
    scaled = np.multiply(_downmixed(block, channels), np.float32(32767.0), dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768.0, 32767.0, out=scaled)
    ints = scaled.astype(np.int16)
    rows = range(channels) if ints.shape[0] == channels else [0] * channels
    pcm = np.stack([ints[c] for c in rows], axis=1)  # 4x faster than a broadcast copy
    pcm.setflags(write=False)  # lameenc takes read-only buffers without a copy
    return pcm


def encode(audio: np.ndarray, rate: int, path: Path, enc: Encoding) -> None:
    """Write ``audio`` (float32 ``(c, n)`` at ``rate`` Hz) to ``path`` as ``enc`` says.

    :raises OutputError: unknown format, no ffmpeg for m4a, or the encoder failed.
    """
    written = encode_parts(chunks(audio), audio.shape[0], rate, path, enc, audio.shape[1])
    if written is not None:
        written.close()


def encode_parts(
    parts: Iterable[np.ndarray],
    channels: int,
    rate: int,
    path: Path,
    enc: Encoding,
    frames: int | None = None,
    reuse: Path | None = None,
) -> Written | None:
    """:func:`encode` for audio that arrives as consecutive float32 ``(channels, k)``
    parts (a master rendered chunk by chunk is never held whole).  ``frames``, the
    number of samples the parts hold in all, lets MP3 encoding use every core; it then
    returns where the MP3 frames lie (for :func:`measure_file`; close it after).  With a
    ``reuse`` folder, MP3 frames of the previous master written there are kept where the
    PCM is the same, and this master is recorded there for the next (see :mod:`.reuse`).

    :raises OutputError: unknown format, no ffmpeg for m4a, or the encoder failed.
    """
    try:
        if enc.format == "mp3":
            return _encode_mp3(parts, channels, rate, path, enc, frames, reuse)
        elif enc.format in ("wav", "flac", "opus"):
            _encode_soundfile(_blocks(parts, channels, rate, enc), path, enc)
        elif enc.format == "m4a":
            _encode_ffmpeg(_blocks(parts, channels, rate, enc), path, enc)
        else:
            raise OutputError(
                f"unknown output format {enc.format!r}; choose one of {', '.join(FORMATS)}"
            )
    except (RuntimeError, ValueError) as exc:  # OSError: the caller names the file
        raise OutputError(f"encoding {path.name} as {enc.format} failed: {exc}") from None
    return None


def _encode_mp3(
    parts: Iterable[np.ndarray],
    channels: int,
    rate: int,
    path: Path,
    enc: Encoding,
    frames: int | None = None,
    reuse: Path | None = None,
) -> Written | None:
    """LAME through lameenc (its quality knob makes it ~1.7x faster than pedalboard's fixed
    setting on one core), on every core when the length is known and the rate is an
    MPEG-1 one (see :mod:`.mp3split`); pedalboard's LAME when lameenc is not installed.
    There, at quality 7, a mono master delivered as stereo is encoded once as mono and
    carried in joint-stereo frames (see :mod:`.mp3stereo`)."""
    try:
        import lameenc
    except ImportError:
        _encode_pedalboard(_blocks(parts, channels, rate, enc), path, enc)
        return
    from .mp3split import parallel_workers, split_encode

    def new_encoder(channels: int = enc.channels, kbps: int = enc.bitrate) -> lameenc.Encoder:
        encoder = lameenc.Encoder()
        encoder.set_bit_rate(kbps)
        encoder.set_in_sample_rate(enc.sample_rate)
        encoder.set_channels(channels)
        encoder.set_quality(min(max(enc.mp3_quality, 2), 7))
        return encoder

    if frames and enc.sample_rate in (32000, 44100, 48000):
        # one channel stays one channel until the encoders duplicate it
        blocks = (
            pcm16(block, 1 if block.shape[0] == 1 else enc.channels)
            for block in _resampled(parts, channels, rate, enc)
        )
        total = math.ceil(frames * enc.sample_rate / rate)
        carrier = _carrier(channels, enc)
        kbps = carrier or enc.bitrate
        keep = _reuse(reuse, channels, enc, carrier)
        encode = partial(
            split_encode,
            blocks,
            total,
            path,
            1 if carrier else enc.channels,
            (lambda: new_encoder(1, carrier)) if carrier else new_encoder,
            enc.sample_rate,
            kbps,
            parallel_workers(),
            reuse=keep,
        )
        try:
            written = _split_mp3(encode, path, enc, carrier, keep, total // FRAME_SAMPLES)
        except BaseException:
            if keep is not None:
                keep.close()
            raise
        if keep is not None:
            try:
                keep.commit()
            except BaseException:
                written.close()
                keep.close()
                raise
            if written.twin is None:  # else the twin is the kept stream: closed with it
                keep.close()
            seconds = keep.reused * FRAME_SAMPLES / enc.sample_rate
            written = replace(written, reused=seconds, verified=keep.verified())
        return written
    encoder = new_encoder()
    with open(path, "wb") as out:
        for block in _resampled(parts, channels, rate, enc):
            out.write(encoder.encode(pcm16(block, enc.channels)))
        out.write(encoder.flush())
    return None


def _reuse(folder: Path | None, channels: int, enc: Encoding, carrier: int | None) -> Reuse | None:
    """The reuse folder's record for this encoding (see :mod:`.reuse`), or ``None``."""
    if folder is None:
        return None
    from importlib.metadata import version

    from .reuse import Reuse, cell_samples

    kbps = carrier or enc.bitrate
    key = {
        "rate": enc.sample_rate,
        "kbps": kbps,
        "channels": enc.channels,
        "master_channels": channels,
        "carried": carrier is not None,
        "quality": min(max(enc.mp3_quality, 2), 7),
        "lameenc": version("lameenc"),
    }
    return Reuse(folder, key, cell_samples(enc.sample_rate, kbps))


def _split_mp3(
    encode: Callable[..., array],
    path: Path,
    enc: Encoding,
    carrier: int | None,
    keep: Reuse | None,
    frames: int,
) -> Written:
    """Run ``encode`` (:func:`~.mp3split.split_encode` with all but its sink) into
    ``path``; a stream kept for reuse gets a copy of what the encoders write (for a
    carried master, the mono stream, which is also the twin decoded to verify).  A
    stream long enough to be verified in pieces (``frames``: about how many it will
    hold) is measured as it is written, see :class:`~.verify.Early`."""
    if carrier is None:
        with open(path, "wb") as out:
            early = _early(path, frames, enc, keep)
            try:
                sink = _Tee(out, keep.keep()) if keep is not None else out
                marks = encode(sink=sink, wrote=_noting(out, early))
            finally:  # stopped before the file is tagged (which moves its frames)
                measured = early.finish() if early is not None else None
        return Written(marks, early=measured)
    import tempfile

    from .mp3stereo import JointStereo

    # the twin is reopened by name through /proc (Linux) to be decoded
    proc = Path("/proc/self/fd").is_dir()
    if keep is not None:
        twin = keep.keep()
    else:
        twin = tempfile.TemporaryFile(dir=path.parent) if proc else None
    early = None
    try:
        if twin is not None and proc:
            early = _early(Path(f"/proc/self/fd/{twin.fileno()}"), frames, enc, keep, 2)
        with open(path, "wb") as out:
            stereo = JointStereo(out, enc.bitrate)
            sink = _Tee(stereo, twin) if twin is not None else stereo
            marks = encode(sink=sink, wrote=_noting(twin, early))
            stereo.close()
        if twin is not None:
            twin.flush()
    except BaseException:
        if twin is not None and keep is None:
            twin.close()
        raise
    finally:
        measured = early.finish() if early is not None else None
    if not proc and twin is not None:
        return Written(stereo.offsets)
    return Written(stereo.offsets, twin, marks, early=measured)


def _early(
    path: Path, frames: int, enc: Encoding, keep: Reuse | None, channels: int | None = None
) -> Early | None:
    """A :class:`~.verify.Early` measuring ``path`` as it is written, for a stream long
    enough to be measured in pieces."""
    if frames <= 2 * HALF_MIN:
        return None
    return Early(path, enc.sample_rate, channels or enc.channels, keep)


def _noting(stream: BinaryIO | None, early: Early | None) -> Callable[[array], None] | None:
    """What the encoders call after each write: flush ``stream`` (the file ``early``
    reads) and tell ``early`` the frames written."""
    if stream is None or early is None:
        return None

    def wrote(marks: array) -> None:
        stream.flush()
        early.wrote(marks)

    return wrote


def _carrier(channels: int, enc: Encoding) -> int | None:
    """The mono bitrate that carries a one-channel master in ``enc``'s joint-stereo
    frames (see :mod:`.mp3stereo`), at LAME quality 7 (the fastest) only; ``None`` when
    the master is encoded as it is."""
    from .mp3stereo import carrier_kbps

    if channels != 1 or enc.channels != 2 or enc.mp3_quality < 7:
        return None
    return carrier_kbps(enc.bitrate, enc.sample_rate)


def _encode_pedalboard(blocks: Iterator[np.ndarray], path: Path, enc: Encoding) -> None:
    from pedalboard.io import AudioFile

    with AudioFile(
        str(path), "w", enc.sample_rate, enc.channels, quality=f"{enc.bitrate} kbps"
    ) as out:
        for block in blocks:
            out.write(block)


def _encode_soundfile(blocks: Iterator[np.ndarray], path: Path, enc: Encoding) -> None:
    import soundfile as sf

    kinds = {"wav": ("WAV", "PCM_24"), "flac": ("FLAC", "PCM_24"), "opus": ("OGG", "OPUS")}
    container, subtype = kinds[enc.format]
    with sf.SoundFile(
        str(path), "w", enc.sample_rate, enc.channels, subtype, format=container
    ) as out:
        for block in blocks:
            out.write(block.T)


def _encode_ffmpeg(blocks: Iterator[np.ndarray], path: Path, enc: Encoding) -> None:
    binary = ffmpeg_binary()
    if binary is None:
        raise OutputError(
            "m4a output needs an ffmpeg binary on PATH; install ffmpeg or choose format mp3"
        )
    command = [
        binary,
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "f32le",
        "-ar",
        str(enc.sample_rate),
        "-ac",
        str(enc.channels),
        "-i",
        "pipe:0",
    ]
    meta_path = path.with_name(path.name + ".ffmeta")
    if enc.ffmetadata:
        meta_path.write_text(enc.ffmetadata, encoding="utf-8")
        command += ["-i", str(meta_path), "-map", "0:a", "-map_metadata", "1", "-map_chapters", "1"]
    command += [
        "-c:a",
        "aac",
        "-b:a",
        f"{enc.bitrate}k",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        str(path),
    ]
    try:
        with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdin is not None
            for block in blocks:
                proc.stdin.write(block.T.astype("<f4").tobytes())
            proc.stdin.close()
            error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode:
            raise OutputError(f"ffmpeg could not encode {path.name}: {last_line(error)}")
    finally:
        meta_path.unlink(missing_ok=True)


def last_line(text: str) -> str:
    """The last non-empty line of an error output (or "failed")."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "failed"


def decode_blocks(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    """``(sample_rate, channels, blocks)`` of any supported file, blocks float32 ``(c, m)``.

    :raises InputError: missing or undecodable file.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such audio file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".m4a", ".mp4", ".aac"):
        return _ffmpeg_blocks(path)
    if suffix == ".mp3":
        return _mp3_blocks(path)
    try:
        return _soundfile_blocks(path)
    except InputError:
        return _pedalboard_blocks(path)


def _soundfile_blocks(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise InputError(f"cannot decode audio file {path}: {exc}") from None

    def blocks() -> Iterator[np.ndarray]:
        for block in sf.blocks(str(path), blocksize=BLOCK, dtype="float32", always_2d=True):
            yield np.ascontiguousarray(block.T)

    return int(info.samplerate), int(info.channels), blocks()


def _mp3_blocks(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    """MP3 through libsndfile's mpg123 (about twice as fast as pedalboard's decoder, same
    samples within 1e-6) when this libsndfile has it, else through pedalboard."""
    import soundfile as sf

    if "MP3" not in sf.available_formats():
        return _pedalboard_blocks(path)
    try:
        handle = sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return _pedalboard_blocks(path)

    def blocks() -> Iterator[np.ndarray]:
        # read until empty: for MP3 ``frames`` is only an estimate (``sf.blocks`` trusts it)
        with handle:
            while (block := handle.read(BLOCK, dtype="float32", always_2d=True)).shape[0]:
                yield block.T

    return int(handle.samplerate), int(handle.channels), blocks()


def _pedalboard_blocks(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    from pedalboard.io import AudioFile

    try:
        handle = AudioFile(str(path))
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot decode audio file {path}: {exc}") from None

    def blocks() -> Iterator[np.ndarray]:
        with handle:
            while handle.tell() < handle.frames:
                yield handle.read(BLOCK).astype(np.float32, copy=False)

    return int(handle.samplerate), int(handle.num_channels), blocks()


def _ffmpeg_blocks(path: Path) -> tuple[int, int, Iterator[np.ndarray]]:
    binary = ffmpeg_binary()
    if binary is None:
        raise InputError(
            f"reading {path.suffix} files needs an ffmpeg binary on PATH; install ffmpeg"
        )
    rate, channels = _ffprobe(binary, path)
    command = [
        binary,
        "-nostdin",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-f",
        "f32le",
        "-ac",
        str(channels),
        "-ar",
        str(rate),
        "pipe:1",
    ]

    def blocks() -> Iterator[np.ndarray]:
        with subprocess.Popen(command, stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            while chunk := proc.stdout.read(BLOCK * 4 * channels):
                frames = np.frombuffer(
                    chunk[: len(chunk) // (4 * channels) * 4 * channels], dtype="<f4"
                )
                yield np.ascontiguousarray(frames.reshape(-1, channels).T)

    return rate, channels, blocks()


def _ffprobe(binary: str, path: Path) -> tuple[int, int]:
    """Sample rate and channel count from ffmpeg's stream banner."""
    import re

    banner = subprocess.run(
        [binary, "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    match = re.search(r"Audio: .*?(\d+) Hz, (mono|stereo|(\d+) channels)", banner)
    if match is None:
        raise InputError(f"cannot decode audio file {path}: ffmpeg found no audio stream")
    channels = {"mono": 1, "stereo": 2}.get(match.group(2)) or int(match.group(3))
    return int(match.group(1)), channels


def read_any(path: Path) -> tuple[np.ndarray, int]:
    """Decode a whole file to float32 ``(channels, n)`` and its sample rate.

    :raises InputError: missing, undecodable or empty file.
    """
    rate, _, blocks = decode_blocks(path)
    try:
        parts = list(blocks)
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot decode audio file {path}: {exc}") from None
    if not parts or sum(p.shape[1] for p in parts) == 0:
        raise InputError(f"audio file {path} holds no samples")
    return np.concatenate(parts, axis=1), rate


def measure_file(path: Path, frames: Written | Sequence[int] | None = None) -> Loudness:
    """Loudness, true peak and LRA of a file, decoded block by block.

    An MP3 file whose frames are known (from :func:`encode_parts`, before tagging) is
    decoded in pieces on every core, see :mod:`.verify` (pieces of the previous
    master's verification are reused where the file kept its frames); a carried mono
    master through its mono twin, measured as two identical channels."""
    channels, kept, early = None, None, None
    if isinstance(frames, Written):
        kept, early = frames.verified, frames.early
        if frames.twin is not None:
            path, channels = Path(f"/proc/self/fd/{frames.twin.fileno()}"), 2
            frames = frames.twin_offsets
        else:
            frames = frames.offsets
    if frames is not None and len(frames) > 2 * HALF_MIN:
        measured = measure_pieces(Path(path), frames, channels, kept, early)
        if measured is not None:
            return measured
    # the twin's name has no suffix: read it as MP3 (to its end, not to libsndfile's guess)
    rate, decoded, blocks = _mp3_blocks(path) if channels else decode_blocks(path)
    meter = LoudnessMeter(rate, channels or decoded)
    for block in blocks:
        meter.feed(widened(block, channels))
    return meter.result()
