"""Audio on the wire: decoding server responses and encoding reference prompts.

Responses are decoded with soundfile (WAV, FLAC, OGG/Opus, MP3 through libsndfile ≥ 1.1)
or read as raw 16-bit little-endian PCM; anything else is a one-line
:class:`~podcast.errors.SynthesisError` naming the server.  Prompts go out as 16-bit PCM
mono WAV, optionally as ``data:audio/wav;base64,…`` URIs.
"""

from __future__ import annotations

import base64
import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from podcast import Audio, SynthesisError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ReferenceCache",
    "data_uri",
    "decode_audio",
    "decode_base64_audio",
    "decode_pcm16",
    "encode_wav",
]


def decode_audio(data: bytes, source: str) -> Audio:
    """Decode a complete audio file in ``data`` → float32 ``(channels, n)`` at its own rate.

    :param source: who sent it (for the message), e.g. ``sglang server http://host:30000``.
    :raises SynthesisError: empty, truncated or not audio.
    """
    import soundfile as sf

    from podcast.audio import as_channels

    if not data:
        raise SynthesisError(f"{source} returned an empty body instead of audio")
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError) as exc:
        raise SynthesisError(
            f"{source} returned audio that cannot be decoded "
            f"({len(data)} bytes starting {data[:12]!r}: {exc})"
        ) from None
    if samples.shape[0] == 0:
        raise SynthesisError(f"{source} returned audio with no samples")
    return Audio(as_channels(samples.T), int(rate))


def decode_base64_audio(text: object, source: str) -> Audio:
    """Decode base64 (optionally a ``data:`` URI) that holds an audio file."""
    if not isinstance(text, str) or not text:
        raise SynthesisError(f"{source} returned no base64 audio in its answer")
    payload = "".join((text.split(",", 1)[1] if text.startswith("data:") else text).split())
    try:
        data = base64.b64decode(payload, validate=True)
    except ValueError:
        raise SynthesisError(
            f"{source} returned audio that is not valid base64 ({len(text)} characters)"
        ) from None
    return decode_audio(data, source)


def decode_pcm16(data: bytes, rate: int, source: str) -> Audio:
    """Raw signed 16-bit little-endian mono PCM (OpenAI ``response_format=pcm``)."""
    import numpy as np

    if not data or len(data) % 2:
        raise SynthesisError(f"{source} returned {len(data)} bytes, which is not 16-bit PCM audio")
    samples = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    return Audio(samples, rate)


def encode_wav(samples: np.ndarray, rate: int) -> bytes:
    """Mono ``(n,)`` float audio at ``rate`` Hz → 16-bit PCM WAV bytes."""
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def data_uri(wav: bytes) -> str:
    return "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii")


class ReferenceCache:
    """Reference recordings read once per run, as mono float32 ``(n,)`` at a requested rate
    (thread-safe: workers build requests concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[Path, int], np.ndarray] = {}

    def mono(self, path: Path, rate: int) -> np.ndarray:
        with self._lock:
            if (path, rate) not in self._loaded:
                self._loaded[(path, rate)] = _load_mono(path, rate)
            return self._loaded[(path, rate)]


def _load_mono(path: Path, rate: int) -> np.ndarray:
    from podcast.audio import read_audio, resample, to_mono
    from podcast import InputError

    try:
        samples, source_rate = read_audio(path)
    except InputError as exc:
        raise SynthesisError(f"reference voice: {exc}") from None
    return to_mono(resample(samples, source_rate, rate))
