"""The Vocos vocoder: a ConvNeXt backbone over acoustic features and an ISTFT head.

Features ``[B, C, F]`` (mel spectrogram or codec decoder output) -> waveform ``[B, F * hop]``.
Parameter names follow the ``vocos`` package (``backbone.embed``, ``backbone.convnext.{i}.*``,
``head.out``, ``head.istft.window``), so its checkpoints load strictly. The ISTFT always runs
in float32, whatever the module's dtype.

Two paddings: ``"center"`` is ``torch.istft(center=True)``; ``"same"`` trims
``(n_fft - hop) / 2`` samples from each side of a plain overlap-add, so F frames give exactly
``F * hop`` samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ISTFTHead", "Vocos", "VocosBackbone", "VocosConfig"]


@dataclass(frozen=True, slots=True)
class VocosConfig:
    """Sizes of a Vocos vocoder (the ``vocos`` package's hyper-parameter names)."""

    input_channels: int = 100
    dim: int = 512
    intermediate_dim: int = 1536
    num_layers: int = 8
    n_fft: int = 1024
    hop_length: int = 256
    padding: Literal["same", "center"] = "same"


class ConvNeXtBlock(nn.Module):
    """Depthwise conv (k=7) -> LayerNorm -> MLP (GELU) -> layer scale, with a residual."""

    def __init__(self, dim: int, intermediate_dim: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, D, F] -> [B, D, F]."""
        h = self.norm(self.dwconv(x).transpose(1, 2))
        h = self.gamma * self.pwconv2(F.gelu(self.pwconv1(h)))
        return x + h.transpose(1, 2)


class VocosBackbone(nn.Module):
    """Embedding conv + LayerNorm + ConvNeXt blocks + final LayerNorm; returns [B, F, D]."""

    def __init__(self, cfg: VocosConfig) -> None:
        super().__init__()
        self.embed = nn.Conv1d(cfg.input_channels, cfg.dim, kernel_size=7, padding=3)
        self.norm = nn.LayerNorm(cfg.dim, eps=1e-6)
        self.convnext = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.intermediate_dim, 1.0 / cfg.num_layers) for _ in range(cfg.num_layers)
        )
        self.final_layer_norm = nn.LayerNorm(cfg.dim, eps=1e-6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.convnext:
            x = block(x)
        return self.final_layer_norm(x.transpose(1, 2))


class ISTFT(nn.Module):
    """Inverse STFT with "same" or "center" padding (see the module docstring)."""

    def __init__(self, n_fft: int, hop: int, padding: str) -> None:
        super().__init__()
        if padding not in ("same", "center"):
            raise ValueError(f"Vocos padding must be 'same' or 'center', not {padding!r}")
        self.n_fft, self.hop, self.padding = n_fft, hop, padding
        self.register_buffer("window", torch.hann_window(n_fft))

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        """spec complex [B, n_fft // 2 + 1, F] -> waveform [B, N] (float32)."""
        window = self.window.float()
        if self.padding == "center":
            return torch.istft(spec, self.n_fft, self.hop, self.n_fft, window, center=True)
        frames = spec.shape[-1]
        trim = (self.n_fft - self.hop) // 2
        total = (frames - 1) * self.hop + self.n_fft
        chunks = torch.fft.irfft(spec, self.n_fft, dim=1, norm="backward") * window[None, :, None]
        y = _overlap_add(chunks, total, self.n_fft, self.hop)[:, trim:-trim]
        env = _overlap_add(window.square()[None, :, None].expand(1, -1, frames), total, self.n_fft, self.hop)
        return y / env[0, trim:-trim]


def _overlap_add(chunks: torch.Tensor, total: int, size: int, hop: int) -> torch.Tensor:
    """Sum frames [B, size, F] placed every ``hop`` samples into [B, total]."""
    return F.fold(chunks, output_size=(1, total), kernel_size=(1, size), stride=(1, hop))[:, 0, 0, :]


class ISTFTHead(nn.Module):
    """Linear to log-magnitude + phase, then ISTFT."""

    def __init__(self, cfg: VocosConfig) -> None:
        super().__init__()
        self.out = nn.Linear(cfg.dim, cfg.n_fft + 2)
        self.istft = ISTFT(cfg.n_fft, cfg.hop_length, cfg.padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [B, F, D] -> waveform [B, N] in float32."""
        mag, phase = self.out(x).transpose(1, 2).chunk(2, dim=1)
        # exp clipped at 100: the reference's guard against huge magnitudes.
        mag = torch.clip(torch.exp(mag), max=1e2).float()
        spec = mag * (torch.cos(phase).float() + 1j * torch.sin(phase).float())
        return self.istft(spec)


class Vocos(nn.Module):
    """Features [B, C, F] -> waveform [B, N] (float32); N = F * hop for "same" padding."""

    def __init__(self, cfg: VocosConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.backbone = VocosBackbone(cfg)
        self.head = ISTFTHead(cfg)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(features))
