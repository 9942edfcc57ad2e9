"""Whisper-style log-mel front end of the XY-Tokenizer (torch, no librosa/torchaudio).

Matches the reference torch feature path: zero-pad the 16 kHz waveform, power STFT (periodic
Hann ``n_fft``, hop ``hop_length``, centred, reflect padding), drop the last frame, Slaney mel
filters, ``log10`` with a 1e-10 floor, clamp to ``max - 8`` (max over the whole padded row),
then ``(x + 4) / 4``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from .config import MelConfig

if TYPE_CHECKING:
    import torch

__all__ = ["log_mel", "mel_filter_bank", "mel_frames_needed"]

_SLANEY_BREAK_HZ = 1000.0
_SLANEY_LINEAR_STEP = 200.0 / 3.0  # Hz per mel below the break
_SLANEY_LOG_STEP = math.log(6.4) / 27.0  # log-Hz per mel above the break


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / _SLANEY_LINEAR_STEP
    brk = _SLANEY_BREAK_HZ / _SLANEY_LINEAR_STEP
    high = hz >= _SLANEY_BREAK_HZ
    mel[high] = brk + np.log(hz[high] / _SLANEY_BREAK_HZ) / _SLANEY_LOG_STEP
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * _SLANEY_LINEAR_STEP
    brk = _SLANEY_BREAK_HZ / _SLANEY_LINEAR_STEP
    high = mel >= brk
    hz[high] = _SLANEY_BREAK_HZ * np.exp(_SLANEY_LOG_STEP * (mel[high] - brk))
    return hz


def mel_filter_bank(
    n_freqs: int, n_mels: int, sample_rate: int, f_max: float | None = None
) -> np.ndarray:
    """Slaney-normalised triangular mel filters, float64 array [n_freqs, n_mels].

    ``n_freqs`` linearly spaced FFT bins cover 0..sample_rate/2; filter edges are equally
    spaced on the Slaney mel scale between 0 Hz and ``f_max`` (default Nyquist).
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    edges_mel = np.linspace(
        _hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([f_max]))[0], n_mels + 2
    )
    edges = _mel_to_hz(edges_mel)
    bins = np.linspace(0, sample_rate // 2, n_freqs)
    widths = np.diff(edges)
    offsets = edges[None, :] - bins[:, None]  # [n_freqs, n_mels + 2]
    rising = -offsets[:, :-2] / widths[:-1]
    falling = offsets[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(rising, falling))
    # Slaney area normalisation: each triangle integrates to a constant.
    return filters * (2.0 / (edges[2 : n_mels + 2] - edges[:n_mels]))[None, :]


def mel_frames_needed(num_samples: int, cfg: MelConfig) -> int:
    """Valid mel frames for ``num_samples`` input samples (the reference attention-mask sum)."""
    return -(-num_samples // cfg.hop_length)


def _filters(cfg: MelConfig, device: torch.device) -> torch.Tensor:
    import torch

    bank = mel_filter_bank(
        1 + cfg.n_fft // 2, cfg.feature_size, cfg.sampling_rate, cfg.max_frequency
    )
    return torch.from_numpy(bank).to(device=device, dtype=torch.float32)


def log_mel(wav: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """Log-mel features of already padded audio.

    Args:
        wav: float waveform [B, N] at ``cfg.sampling_rate`` Hz; the caller pads it (the
            reference pads to exactly ``cfg.n_samples`` with ``cfg.padding_value``).
    Returns:
        float32 features [B, feature_size, N // hop_length] (one frame per hop, last dropped).
    """
    import torch

    wav = wav.to(torch.float32)
    if cfg.dither:
        wav = wav + cfg.dither * torch.randn_like(wav)
    window = torch.hann_window(cfg.n_fft, device=wav.device)
    spec = torch.stft(wav, cfg.n_fft, cfg.hop_length, window=window, return_complex=True)
    # |X|**2 via abs() then square, as the reference does (keeps rounding identical).
    power = spec[..., :-1].abs() ** 2
    mel = _filters(cfg, wav.device).T @ power
    logs = torch.clamp(mel, min=1e-10).log10()
    peak = logs.amax(dim=(1, 2), keepdim=True)
    return (torch.maximum(logs, peak - 8.0) + 4.0) / 4.0
