"""Audio I/O and resampling (soundfile + soxr; no torchaudio, no pydub).

Arrays are float32 in [-1, 1] with shape ``(channels, samples)`` unless a function says
otherwise; sample rates are in Hz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError, OutputError
from .runfiles import atomic_path

__all__ = ["as_channels", "read_audio", "resample", "to_mono", "write_audio"]


def as_channels(samples: np.ndarray) -> np.ndarray:
    """Return float32 ``(channels, samples)`` from a 1-D or 2-D array (2-D taken as
    ``(channels, samples)`` when it has fewer rows than columns)."""
    array = np.asarray(samples, dtype=np.float32)
    if array.ndim == 1:
        return array[np.newaxis, :]
    if array.ndim == 2 and array.shape[0] > array.shape[1]:
        return np.ascontiguousarray(array.T)
    return array


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Average channels: ``(channels, n)`` or ``(n,)`` → ``(n,)`` float32."""
    array = as_channels(samples)
    return array.mean(axis=0, dtype=np.float32) if array.shape[0] > 1 else array[0]


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """High-quality resampling with soxr; keeps the ``(channels, n)`` layout."""
    array = as_channels(samples)
    if rate_in == rate_out:
        return array
    import soxr

    out = soxr.resample(array.T, rate_in, rate_out, quality="HQ")
    return np.ascontiguousarray(np.asarray(out, dtype=np.float32).reshape(-1, array.shape[0]).T)


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Read any libsndfile format (WAV, FLAC, OGG, MP3) → ``((channels, n) float32, rate)``.

    :raises InputError: missing or undecodable file.
    """
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except FileNotFoundError:
        raise InputError(f"no such audio file: {path}") from None
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise InputError(f"cannot decode audio file {path}: {exc}") from None
    return np.ascontiguousarray(data.T), int(rate)


def write_audio(path: Path, samples: np.ndarray, rate: int, subtype: str | None = None) -> Path:
    """Write ``(channels, n)`` or ``(n,)`` float audio atomically (format from the suffix).

    WAV defaults to 32-bit float so clips keep full precision between stages.
    """
    import soundfile as sf

    array = as_channels(samples)
    if subtype is None and Path(path).suffix.lower() == ".wav":
        subtype = "FLOAT"
    with atomic_path(Path(path)) as tmp:
        try:
            sf.write(str(tmp), array.T, rate, subtype=subtype)
        except sf.LibsndfileError as exc:  # "System error" is how libsndfile says ENOSPC/EIO
            raise OutputError(f"cannot write {path}: {_write_cause(Path(path), exc)}") from None
    return Path(path)


def _write_cause(path: Path, exc: Exception) -> str:
    """Why a write failed, in words: a full disk is named as such."""
    import shutil

    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        free = None
    if free is not None and free < 1024 * 1024:
        return f"the disk is full ({free} bytes free)"
    return " ".join(str(exc).split()) or type(exc).__name__
