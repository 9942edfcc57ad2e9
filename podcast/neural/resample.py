"""Band-limited (windowed-sinc) resampling that matches ``torchaudio.transforms.Resample``.

Several reference front ends resample prompts with torchaudio's default kernel (Hann window,
``lowpass_filter_width`` 6, ``rolloff`` 0.99, built in float64); parity with their features needs
the same kernel, which a general-purpose resampler (soxr) does not give.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["sinc_resample"]


def _kernel(orig: int, new: int, width: int, rolloff: float) -> tuple[torch.Tensor, int]:
    base = min(orig, new) * rolloff
    pad = math.ceil(width * orig / base)
    taps = torch.arange(-pad, pad + orig, dtype=torch.float64)[None, None] / orig
    t = (torch.arange(0, -new, -1, dtype=torch.float64)[:, None, None] / new + taps) * base
    t = t.clamp(-width, width)
    window = torch.cos(t * math.pi / width / 2) ** 2
    t = t * math.pi
    sinc = torch.where(t == 0, torch.ones_like(t), torch.sin(t) / torch.where(t == 0, torch.ones_like(t), t))
    return (sinc * window * (base / orig)).float(), pad


def sinc_resample(wav: torch.Tensor, orig_rate: int, new_rate: int, *, lowpass_filter_width: int = 6,
                  rolloff: float = 0.99) -> torch.Tensor:  # fmt: skip
    """``wav [..., N]`` from ``orig_rate`` to ``new_rate``: ``ceil(N * new / orig)`` samples."""
    if orig_rate == new_rate:
        return wav
    g = math.gcd(int(orig_rate), int(new_rate))
    orig, new = int(orig_rate) // g, int(new_rate) // g
    kernel, pad = _kernel(orig, new, lowpass_filter_width, rolloff)
    shape = wav.shape
    flat = wav.reshape(-1, shape[-1])
    out = F.conv1d(F.pad(flat, (pad, pad + orig))[:, None], kernel.to(flat), stride=orig)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)[:, : math.ceil(new * shape[-1] / orig)]
    return out.reshape(*shape[:-1], -1)
