"""Transformer building blocks of the XY-Tokenizer (encoders, adapters, decoder, resamplers).

Parameter and buffer names and shapes follow the reference ``state_dict`` exactly. Sequences
are channel-first ``[B, D, T]`` between modules, with a per-row valid length ``[B]``; positions at
or beyond the valid length are zeroed at the end of every transformer stack, as the reference
does, and padded keys never influence valid positions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import AdapterConfig, DecoderConfig, EncoderConfig

__all__ = ["AudioDecoder", "AudioEncoder", "DownConv", "TransformerAdapter", "UpConv", "sinusoids"]

_ACTIVATIONS = {
    "gelu": F.gelu,
    "relu": F.relu,
    "silu": F.silu,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
}


def sinusoids(length: int, channels: int, max_timescale: float = 10000.0) -> torch.Tensor:
    """Whisper sinusoidal position table [length, channels]: sin half then cos half."""
    half = channels // 2
    step = math.log(max_timescale) / (half - 1)
    inv = torch.exp(-step * torch.arange(half))
    angles = torch.arange(length)[:, None] * inv[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def key_padding_mask(lengths: torch.Tensor, total: int) -> torch.Tensor | None:
    """Boolean mask [B, 1, 1, T] (True = attend) or None when every row is fully valid."""
    if bool((lengths >= total).all()):
        return None
    # A zero-length row would mask every key (NaN softmax); let it see key 0, its output is unused.
    lengths = lengths.clamp(min=1)
    return (torch.arange(total, device=lengths.device)[None, :] < lengths[:, None])[
        :, None, None, :
    ]


def valid_positions(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """Boolean [B, T, 1]: True where the position is inside the row's valid length."""
    return (torch.arange(total, device=lengths.device)[None, :] < lengths[:, None])[..., None]


class SelfAttention(nn.Module):
    """Bidirectional multi-head self-attention (k_proj has no bias, as in Whisper)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.k_proj = nn.Linear(dim, dim, bias=False)
        self.v_proj = nn.Linear(dim, dim, bias=True)
        self.q_proj = nn.Linear(dim, dim, bias=True)
        self.out_proj = nn.Linear(dim, dim, bias=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """x [B, T, D] -> [B, T, D]; ``mask`` from :func:`key_padding_mask`."""
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


class TransformerLayer(nn.Module):
    """Pre-norm transformer layer: self-attention then a two-layer feed-forward block."""

    def __init__(self, dim: int, heads: int, ffn_dim: int, activation: str) -> None:
        super().__init__()
        self.self_attn = SelfAttention(dim, heads)
        self.self_attn_layer_norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, ffn_dim)
        self.fc2 = nn.Linear(ffn_dim, dim)
        self.final_layer_norm = nn.LayerNorm(dim)
        self._act = _ACTIVATIONS[activation]

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.self_attn(self.self_attn_layer_norm(x), mask)
        h = self.fc2(self._act(self.fc1(self.final_layer_norm(x))))
        x = x + h
        if x.dtype in (torch.float16, torch.bfloat16):
            # Same overflow guard as the reference for half-precision runs.
            lim = torch.finfo(x.dtype).max - 1000
            x = torch.clamp(x, -lim, lim)
        return x


class _Stack(nn.Module):
    """Position table + layers + final LayerNorm + zeroing of padded positions."""

    def _init_stack(
        self, dim: int, positions: int, layers: int, heads: int, ffn: int, act: str
    ) -> None:
        self.register_buffer("positional_embedding", sinusoids(positions, dim))
        self.layers = nn.ModuleList(TransformerLayer(dim, heads, ffn, act) for _ in range(layers))
        self.layer_norm = nn.LayerNorm(dim)

    def _run_stack(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x [B, T, D] (before positions) -> [B, T, D] with padded positions zeroed."""
        t = x.shape[1]
        x = (x.float() + self.positional_embedding[:t].float()).to(x.dtype)
        mask = key_padding_mask(lengths, t)
        for layer in self.layers:
            x = layer(x, mask)
        x = self.layer_norm(x)
        return torch.where(
            valid_positions(lengths, t), x, torch.zeros((), dtype=x.dtype, device=x.device)
        )


class AudioEncoder(_Stack):
    """Mel [B, n_mels, T] -> hidden [B, d_model, T // stride] (two convs + transformer)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.stride = cfg.stride_size
        # Registration order = state_dict order: convs before the stack, as in the reference.
        self.conv1 = nn.Conv1d(cfg.num_mel_bins, cfg.d_model, cfg.kernel_size, padding=1)
        self.conv2 = nn.Conv1d(
            cfg.d_model, cfg.d_model, cfg.kernel_size, stride=cfg.stride_size, padding=1
        )
        self._init_stack(
            cfg.d_model,
            cfg.max_source_positions,
            cfg.encoder_layers,
            cfg.encoder_attention_heads,
            cfg.encoder_ffn_dim,
            cfg.activation_function,
        )

    def forward(
        self, mel: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (hidden [B, D, T'], lengths // stride)."""
        x = F.gelu(self.conv1(mel.to(self.conv1.weight.dtype)))
        x = F.gelu(self.conv2(x))
        out_len = torch.div(lengths, self.stride, rounding_mode="floor").long()
        return self._run_stack(x.transpose(1, 2), out_len).transpose(1, 2), out_len


class TransformerAdapter(_Stack):
    """[B, input_dim, T] -> [B, output_dim, T]; optional linear projections around the stack."""

    def __init__(self, cfg: AdapterConfig) -> None:
        super().__init__()
        self.proj = nn.Linear(cfg.input_dim, cfg.d_model) if cfg.input_dim != cfg.d_model else None
        self._init_stack(
            cfg.d_model,
            cfg.max_source_positions,
            cfg.encoder_layers,
            cfg.encoder_attention_heads,
            cfg.encoder_ffn_dim,
            cfg.activation_function,
        )
        self.out_proj = (
            nn.Linear(cfg.d_model, cfg.output_dim) if cfg.output_dim != cfg.d_model else None
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (hidden [B, output_dim, T], lengths). Padded positions: 0 (or out_proj bias)."""
        x = x.transpose(1, 2)
        if self.proj is not None:
            x = self.proj(x)
        x = self._run_stack(x, lengths.long())
        if self.out_proj is not None:
            x = self.out_proj(x)
        return x.transpose(1, 2), lengths.long()


class AudioDecoder(_Stack):
    """Hidden [B, d_model, T] -> mel-like features [B, n_mels, T * stride]."""

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.stride = cfg.stride_size
        self.deconv1 = nn.ConvTranspose1d(
            cfg.d_model, cfg.d_model, cfg.kernel_size, stride=cfg.stride_size
        )
        self.deconv2 = nn.ConvTranspose1d(cfg.d_model, cfg.num_mel_bins, cfg.kernel_size, stride=1)
        self._init_stack(
            cfg.d_model,
            cfg.max_source_positions,
            cfg.decoder_layers,
            cfg.decoder_attention_heads,
            cfg.decoder_ffn_dim,
            cfg.activation_function,
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Returns (features [B, n_mels, T * stride], lengths * stride)."""
        t = x.shape[2]
        x = self._run_stack(x.transpose(1, 2), lengths.long()).transpose(1, 2)
        x = F.gelu(self.deconv2(F.gelu(self.deconv1(x))))
        return x[:, :, : t * self.stride], lengths.long() * self.stride


class DownConv(nn.Module):
    """Gated strided conv + residual frame stacking: [B, D, T] -> [B, D * k, T // k]."""

    def __init__(self, d_model: int, factor: int) -> None:
        super().__init__()
        self.factor = factor
        wide = d_model * factor
        self.gate_proj = nn.Conv1d(d_model, wide, factor, factor, bias=False)
        self.up_proj = nn.Conv1d(d_model, wide, factor, factor, bias=False)
        self.down_proj = nn.Linear(wide, wide, bias=False)
        self.layer_norm = nn.LayerNorm(wide)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``T`` is zero-padded to a multiple of the factor (the reference only sees such T)."""
        pad = (-x.shape[2]) % self.factor
        if pad:
            x = F.pad(x, (0, pad))
        b, d, t = x.shape
        gate = self.gate_proj(x).transpose(1, 2)
        up = self.up_proj(x).transpose(1, 2)
        stacked = x.transpose(1, 2).reshape(b, t // self.factor, d * self.factor)
        out = self.layer_norm(self.down_proj(F.silu(gate) * up) + stacked)
        return out.transpose(1, 2), torch.div(lengths, self.factor, rounding_mode="floor")


class UpConv(nn.Module):
    """Transposed conv unstacking frames: [B, D * k, T] -> [B, D, T * k]."""

    def __init__(self, d_model: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.up_conv = nn.ConvTranspose1d(stride * d_model, d_model, stride, stride, bias=False)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.up_conv(x), lengths * self.stride
