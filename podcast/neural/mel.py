"""Spectral front ends shared by the engines (torch; no librosa or torchaudio needed).

Every function reproduces a reference implementation exactly (same windows, padding, filter
banks and floors), so features computed here match the features an upstream model was trained
on:

* :func:`mel_filters` — triangular mel filters on the Slaney or HTK scale, optionally Slaney
  area-normalised (``librosa.filters.mel`` and ``torchaudio.functional.melscale_fbanks``).
* :func:`spectrogram` / :func:`mel_spectrogram` — ``torchaudio.transforms.MelSpectrogram``.
* :func:`whisper_log_mel` — Whisper's log-mel features (speech tokenizers, XY-Tokenizer).
* :func:`kaldi_fbank` — ``torchaudio.compliance.kaldi.fbank`` (speaker-embedding front ends).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "kaldi_fbank",
    "mel_filters",
    "mel_spectrogram",
    "spectrogram",
    "whisper_log_mel",
]

Scale = Literal["slaney", "htk"]

_SLANEY_BREAK_HZ = 1000.0
_SLANEY_LINEAR_STEP = 200.0 / 3.0  # Hz per mel below the break
_SLANEY_LOG_STEP = math.log(6.4) / 27.0  # log-Hz per mel above the break


def _hz_to_mel(hz: np.ndarray, scale: Scale) -> np.ndarray:
    hz = np.asarray(hz, dtype=np.float64)
    if scale == "htk":
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    mel = hz / _SLANEY_LINEAR_STEP
    brk = _SLANEY_BREAK_HZ / _SLANEY_LINEAR_STEP
    high = hz >= _SLANEY_BREAK_HZ
    mel[high] = brk + np.log(hz[high] / _SLANEY_BREAK_HZ) / _SLANEY_LOG_STEP
    return mel


def _mel_to_hz(mel: np.ndarray, scale: Scale) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    if scale == "htk":
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    hz = mel * _SLANEY_LINEAR_STEP
    brk = _SLANEY_BREAK_HZ / _SLANEY_LINEAR_STEP
    high = mel >= brk
    hz[high] = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOG_STEP * (mel[high] - brk))
    return hz


def _triangles(bins: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Triangular filters [len(bins), len(edges) - 2]: filter i rises over edges i..i+1, falls
    over i+1..i+2 (the same expression for every scale)."""
    widths = np.diff(edges)
    offsets = edges[None, :] - bins[:, None]
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    return np.maximum(0.0, np.minimum(rising, falling))


def mel_filters(
    n_fft: int,
    n_mels: int,
    sample_rate: int,
    *,
    f_min: float = 0.0,
    f_max: float | None = None,
    scale: Scale = "slaney",
    norm: Literal["slaney"] | None = "slaney",
) -> np.ndarray:
    """Mel filter bank, float64 ``[n_fft // 2 + 1, n_mels]`` (multiply a power or magnitude
    spectrum ``[..., freqs]`` by it).

    ``scale="htk", norm=None`` equals torchaudio's ``melscale_fbanks`` defaults;
    ``scale="slaney", norm="slaney"`` equals ``librosa.filters.mel`` (transposed), which is also
    Whisper's filter bank.
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    lo, hi = _hz_to_mel(np.array([f_min, f_max]), scale)
    edges = _mel_to_hz(np.linspace(lo, hi, n_mels + 2), scale)
    bins = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    filters = _triangles(bins, edges)
    if norm == "slaney":
        filters = filters * (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[None, :]
    return filters


def _as_tensor(bank: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    import torch

    return torch.from_numpy(bank).to(device=like.device, dtype=torch.float32)


def spectrogram(
    wav: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int | None = None,
    center: bool = True,
    pad_mode: str = "reflect",
    power: float | None = 1.0,
    eps: float = 0.0,
    window: torch.Tensor | None = None,
) -> torch.Tensor:
    """STFT of ``wav [..., N]`` with a periodic Hann window of ``win_length`` (zero-padded
    centrally to ``n_fft``, as ``torch.stft`` does), or with ``window`` when given (a model
    that stores its window as a buffer, e.g. a torchaudio ``Spectrogram`` loaded from weights).

    Returns ``[..., n_fft // 2 + 1, frames]``: the complex STFT when ``power`` is None, ``|X|^2``
    for ``power=2``, else ``sqrt(re^2 + im^2 + eps) ** power`` (``eps=0``: plain ``|X|``).
    """
    import torch

    win_length = win_length or n_fft
    shape = wav.shape
    flat = wav.reshape(-1, shape[-1]).float()
    if window is None:
        window = torch.hann_window(win_length, device=wav.device)
    spec = torch.stft(
        flat, n_fft, hop_length, win_length, window, center=center, pad_mode=pad_mode, return_complex=True
    )
    spec = spec.reshape(*shape[:-1], *spec.shape[-2:])
    if power is None:
        return spec
    if power == 2.0 and not eps:
        return spec.abs() ** 2
    magnitude = spec.abs() if not eps else torch.sqrt(spec.real**2 + spec.imag**2 + eps)
    return magnitude if power == 1.0 else magnitude**power


def mel_spectrogram(
    wav: torch.Tensor,
    *,
    sample_rate: int,
    n_fft: int,
    hop_length: int,
    n_mels: int,
    win_length: int | None = None,
    f_min: float = 0.0,
    f_max: float | None = None,
    power: float = 1.0,
    center: bool = True,
    pad_mode: str = "reflect",
    scale: Scale = "htk",
    norm: Literal["slaney"] | None = None,
    eps: float = 0.0,
) -> torch.Tensor:
    """Mel spectrogram ``[..., n_mels, frames]`` of ``wav [..., N]`` (no log); with the same
    arguments it equals ``torchaudio.transforms.MelSpectrogram``."""
    spec = spectrogram(
        wav, n_fft=n_fft, hop_length=hop_length, win_length=win_length, center=center,
        pad_mode=pad_mode, power=power, eps=eps,
    )  # fmt: skip
    bank = _as_tensor(mel_filters(n_fft, n_mels, sample_rate, f_min=f_min, f_max=f_max, scale=scale, norm=norm), spec)
    return (spec.transpose(-1, -2) @ bank).transpose(-1, -2)


def whisper_log_mel(
    wav: torch.Tensor,
    *,
    n_mels: int = 80,
    n_fft: int = 400,
    hop_length: int = 160,
    sample_rate: int = 16000,
    f_max: float | None = None,
) -> torch.Tensor:
    """Whisper's log-mel features ``[..., n_mels, N // hop_length]`` of ``wav [..., N]``.

    Power STFT (centred, reflect padding), last frame dropped, Slaney mel filters, ``log10`` with
    a 1e-10 floor, floored again at (the item's maximum - 8), then ``(x + 4) / 4``. The maximum
    is taken per item (every leading index), as the reference computes one clip at a time.
    """
    import torch

    power = spectrogram(wav, n_fft=n_fft, hop_length=hop_length, power=2.0)[..., :-1]
    bank = _as_tensor(mel_filters(n_fft, n_mels, sample_rate, f_max=f_max), power)
    logs = torch.clamp(bank.T @ power, min=1e-10).log10()
    peak = logs.amax(dim=(-2, -1), keepdim=True)
    return (torch.maximum(logs, peak - 8.0) + 4.0) / 4.0


# ── Kaldi fbank ───────────────────────────────────────────────────────────────────────────


def _kaldi_mel(hz: np.ndarray) -> np.ndarray:
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _kaldi_banks(num_bins: int, padded: int, sample_rate: float, low: float, high: float) -> np.ndarray:
    """Kaldi's mel banks [num_bins, padded // 2 + 1] (the Nyquist column is zero)."""
    nyquist = 0.5 * sample_rate
    high = high if high > 0.0 else nyquist + high
    lo, hi = _kaldi_mel(np.array([low, high]))
    delta = (hi - lo) / (num_bins + 1)
    edges = lo + delta * np.arange(num_bins + 2)  # left, centre, right of each bin, on the mel scale
    mel = _kaldi_mel((sample_rate / padded) * np.arange(padded // 2))
    banks = _triangles(mel, edges).T
    return np.pad(banks, ((0, 0), (0, 1)))


def _kaldi_window(kind: str, size: int) -> torch.Tensor:
    import torch

    if kind == "povey":
        return torch.hann_window(size, periodic=False, dtype=torch.float64).pow(0.85)
    if kind == "hanning":
        return torch.hann_window(size, periodic=False, dtype=torch.float64)
    if kind == "hamming":
        return torch.hamming_window(size, periodic=False, alpha=0.54, beta=0.46, dtype=torch.float64)
    if kind == "rectangular":
        return torch.ones(size, dtype=torch.float64)
    raise ValueError(f"unknown Kaldi window {kind!r} (povey, hanning, hamming, rectangular)")


def _kaldi_frames(wav: torch.Tensor, size: int, shift: int, snip_edges: bool) -> torch.Tensor:
    """Frames [F, size] of a 1-D wave, Kaldi's framing (with snip_edges or reflected edges)."""
    import torch

    n = wav.shape[0]
    if snip_edges:
        count = 0 if n < size else 1 + (n - size) // shift
        return wav.as_strided((count, size), (shift, 1)) if count else wav.new_zeros((0, size))
    count = (n + shift // 2) // shift
    pad = size // 2 - shift // 2
    mirrored = wav.flip(0)
    padded = torch.cat([mirrored[n - pad :], wav, mirrored]) if pad > 0 else torch.cat([wav[-pad:], mirrored])
    return padded.as_strided((count, size), (shift, 1))


def kaldi_fbank(
    wav: torch.Tensor,
    *,
    sample_rate: float = 16000,
    num_mel_bins: int = 80,
    frame_length_ms: float = 25.0,
    frame_shift_ms: float = 10.0,
    dither: float = 0.0,
    preemphasis: float = 0.97,
    remove_dc_offset: bool = True,
    window: str = "povey",
    round_to_power_of_two: bool = True,
    snip_edges: bool = True,
    low_freq: float = 20.0,
    high_freq: float = 0.0,
    energy_floor: float = 1.0,
    use_log: bool = True,
) -> torch.Tensor:
    """Kaldi filter-bank features ``[frames, num_mel_bins]`` of a 1-D waveform (or ``[1, N]``).

    Same options and defaults as ``torchaudio.compliance.kaldi.fbank`` (power spectrum, no
    energy column); the caller scales the waveform as its reference does (often by 32768).
    ``energy_floor`` is accepted for signature compatibility (it only affects the energy column).
    """
    import torch

    del energy_floor
    wave = wav.reshape(-1).to(torch.float64) if wav.dim() == 1 or wav.shape[0] == 1 else None
    if wave is None:
        raise ValueError("kaldi_fbank takes one channel: a [N] or [1, N] waveform")
    size = int(sample_rate * frame_length_ms * 0.001)
    shift = int(sample_rate * frame_shift_ms * 0.001)
    padded = 1 << (size - 1).bit_length() if round_to_power_of_two else size
    frames = _kaldi_frames(wave, size, shift, snip_edges)
    if dither:
        frames = frames + dither * torch.randn_like(frames)
    if remove_dc_offset:
        frames = frames - frames.mean(dim=1, keepdim=True)
    if preemphasis:
        previous = torch.cat([frames[:, :1], frames[:, :-1]], dim=1)
        frames = frames - preemphasis * previous
    frames = frames * _kaldi_window(window, size).to(frames.device)
    frames = torch.nn.functional.pad(frames, (0, padded - size))
    power = torch.fft.rfft(frames).abs().pow(2.0)
    banks = torch.from_numpy(_kaldi_banks(num_mel_bins, padded, sample_rate, low_freq, high_freq))
    energies = power @ banks.to(power).T
    if use_log:
        energies = torch.clamp(energies, min=torch.finfo(torch.float32).eps).log()
    return energies.to(wav.dtype if wav.is_floating_point() else torch.float32)
