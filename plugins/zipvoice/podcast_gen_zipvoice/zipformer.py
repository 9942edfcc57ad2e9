"""The U-Net Zipformer of ZipVoice, inference only.

Parameter names and shapes match the reference checkpoints (``fm_decoder.*`` and
``text_encoder.*`` of ``model.pt``), so weights load strictly. Everything that only acts in
training (Balancer, Whiten, dropouts, layer skipping, the bypass-scale limits) is an identity at
inference and is simply absent here.

Tensors inside a stack are sequence-first ``[T, B, C]`` like the reference, because the stored
intermediates of the parity fixtures are in that layout.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["StackConfig", "TwoStreamZipformer", "Zipformer", "timestep_embedding"]

# Masked attention logits: exp(-1000) is exactly zero in float32.
MASKED_SCORE = -1000.0


def swoosh_r(x: Tensor) -> Tensor:
    """SwooshR as the reference's stand-alone module computes it: log(1 + e^(x-1)) - 0.08x - 0.313261687."""
    return torch.logaddexp(torch.zeros((), dtype=x.dtype, device=x.device), x - 1.0) - 0.08 * x - 0.313261687


def _softplus_shifted(x: Tensor, shift: float) -> Tensor:
    """log(1 + e^(x - shift)) in float32, falling back to x - shift where it overflows."""
    offset = x.float() - shift
    out = (1.0 + offset.exp()).log().to(x.dtype)
    return torch.where(out == float("inf"), offset, out)


def swoosh_r_fused(x: Tensor) -> Tensor:
    """SwooshR inside the fused activation+linear layers (the conv modules' output projection)."""
    return _softplus_shifted(x, 1.0) - 0.08 * x - 0.313261687


def swoosh_l_fused(x: Tensor) -> Tensor:
    """SwooshL inside the fused activation+linear layers (the feed-forward output projection)."""
    return _softplus_shifted(x, 4.0) - 0.08 * x - 0.035


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of the flow time ``t`` [N] -> [N, dim] (cosines first, then sines)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t[..., None].float() * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[..., :1])], dim=-1)
    return emb


def relative_position_table(length: int, dim: int, *, device: torch.device | None = None) -> Tensor:
    """Compact relative position encodings for offsets ``-(length-1) .. length-1``: [2L-1, dim].

    Offsets are log-compressed beyond about sqrt(dim), squashed into (-pi/2, pi/2) by atan and
    expanded into ``dim / 2`` harmonics; the last channel is a constant 1 (a bias).
    """
    offsets = torch.arange(-(length - 1), length, device=device).to(torch.float32).unsqueeze(1)
    harmonics = 1 + torch.arange(dim // 2, device=device)
    knee = dim**0.5
    compressed = knee * offsets.sign() * ((offsets.abs() + knee).log() - math.log(knee))
    angle = (compressed / (dim / (2.0 * math.pi))).atan()
    table = torch.zeros(offsets.shape[0], dim, device=device)
    table[:, 0::2] = (angle * harmonics).cos()
    table[:, 1::2] = (angle * harmonics).sin()
    table[:, -1] = 1.0
    return table


class BiasNorm(nn.Module):
    """x * exp(log_scale) / rms(x - bias) over the channel axis (the last one)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(1.0))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        scale = torch.mean((x - self.bias) ** 2, dim=-1, keepdim=True) ** -0.5 * self.log_scale.exp()
        return x * scale


class Bypass(nn.Module):
    """A learned per-channel interpolation between a block's input and its output."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bypass_scale = nn.Parameter(torch.full((channels,), 0.5))

    def forward(self, before: Tensor, after: Tensor) -> Tensor:
        return before + (after - before) * self.bypass_scale


class ActivatedLinear(nn.Module):
    """Activation then a linear map, stored flat (``weight``/``bias``) like the reference."""

    def __init__(self, channels_in: int, channels_out: int, activation: Callable[[Tensor], Tensor]) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels_out, channels_in))
        self.bias = nn.Parameter(torch.empty(channels_out))
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(self.activation(x), self.weight, self.bias)


class AttentionWeights(nn.Module):
    """Multi-head attention weights with relative positions: [H, B, T, T] (no value path)."""

    def __init__(self, dim: int, pos_dim: int, heads: int, query_dim: int, pos_head_dim: int) -> None:
        super().__init__()
        self.heads, self.query_dim, self.pos_head_dim = heads, query_dim, pos_head_dim
        self.in_proj = nn.Linear(dim, (2 * query_dim + pos_head_dim) * heads)
        self.linear_pos = nn.Linear(pos_dim, heads * pos_head_dim, bias=False)

    def forward(self, x: Tensor, positions: Tensor, key_padding_mask: Tensor | None) -> Tensor:
        length, batch, _ = x.shape
        heads, qd = self.heads, self.query_dim
        x = self.in_proj(x)
        q = x[..., : qd * heads].reshape(length, batch, heads, qd).permute(2, 1, 0, 3)
        k = x[..., qd * heads : 2 * qd * heads].reshape(length, batch, heads, qd).permute(2, 1, 3, 0)
        p = x[..., 2 * qd * heads :].reshape(length, batch, heads, self.pos_head_dim).permute(2, 1, 0, 3)
        scores = torch.matmul(q, k)
        rel = self.linear_pos(positions).reshape(-1, 2 * length - 1, heads, self.pos_head_dim).permute(2, 0, 3, 1)
        rel_scores = torch.matmul(p, rel).contiguous()  # [H, B, T, 2T-1], column c = offset c - (T-1)
        # Row i needs offsets j - i for j = 0..T-1: a diagonal band, read as a strided view.
        h_stride, b_stride, row_stride, col_stride = rel_scores.stride()
        rel_scores = rel_scores.as_strided(
            (heads, batch, length, length),
            (h_stride, b_stride, row_stride - col_stride, col_stride),
            storage_offset=col_stride * (length - 1),
        )
        scores = scores + rel_scores
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask.unsqueeze(1), MASKED_SCORE)
        return scores.softmax(dim=-1)


class SelfAttention(nn.Module):
    """Values under precomputed attention weights."""

    def __init__(self, dim: int, heads: int, value_dim: int) -> None:
        super().__init__()
        self.in_proj = nn.Linear(dim, heads * value_dim)
        self.out_proj = nn.Linear(heads * value_dim, dim)

    def forward(self, x: Tensor, weights: Tensor) -> Tensor:
        length, batch, _ = x.shape
        heads = weights.shape[0]
        v = self.in_proj(x).reshape(length, batch, heads, -1).permute(2, 1, 0, 3)
        out = torch.matmul(weights, v).permute(2, 1, 0, 3).reshape(length, batch, -1)
        return self.out_proj(out)


class NonlinAttention(nn.Module):
    """tanh-gated values mixed by the first head's attention weights, then gated again."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.hidden = hidden
        self.in_proj = nn.Linear(dim, 3 * hidden)
        self.out_proj = nn.Linear(hidden, dim)

    def forward(self, x: Tensor, weights: Tensor) -> Tensor:
        length, batch, _ = x.shape
        gate, values, post = self.in_proj(x).chunk(3, dim=2)
        values = values * torch.tanh(gate)
        heads = weights.shape[0]
        values = values.reshape(length, batch, heads, -1).permute(2, 1, 0, 3)
        mixed = torch.matmul(weights, values).permute(2, 1, 0, 3).reshape(length, batch, -1)
        return self.out_proj(mixed * post)


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.in_proj = nn.Linear(dim, hidden)
        self.out_proj = ActivatedLinear(hidden, dim, swoosh_l_fused)

    def forward(self, x: Tensor) -> Tensor:
        return self.out_proj(self.in_proj(x))


class ConvolutionModule(nn.Module):
    """GLU, depthwise convolution over time (padded frames zeroed first), SwooshR, linear."""

    def __init__(self, dim: int, kernel: int) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ValueError(f"Zipformer convolution kernels must be odd, not {kernel}")
        self.in_proj = nn.Linear(dim, 2 * dim)
        self.depthwise_conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.out_proj = ActivatedLinear(dim, dim, swoosh_r_fused)

    def forward(self, x: Tensor, key_padding_mask: Tensor | None) -> Tensor:
        x, gate = self.in_proj(x).chunk(2, dim=2)
        x = (x * torch.sigmoid(gate)).permute(1, 2, 0)  # [B, C, T]
        if key_padding_mask is not None:
            x = x.masked_fill(key_padding_mask.unsqueeze(1).expand_as(x), 0.0)
        x = self.depthwise_conv(x).permute(2, 0, 1)
        return self.out_proj(x)


class ZipformerLayer(nn.Module):
    """One Zipformer layer: three feed-forwards, non-linear attention, two self-attentions and
    two convolution modules sharing one set of attention weights, with a mid-layer bypass."""

    def __init__(self, cfg: StackConfig, kernel: int) -> None:
        super().__init__()
        dim, ff = cfg.dim, cfg.feedforward_dim
        self.bypass = Bypass(dim)
        self.bypass_mid = Bypass(dim)
        self.self_attn_weights = AttentionWeights(dim, cfg.pos_dim, cfg.heads, cfg.query_head_dim, cfg.pos_head_dim)
        self.self_attn1 = SelfAttention(dim, cfg.heads, cfg.value_head_dim)
        self.self_attn2 = SelfAttention(dim, cfg.heads, cfg.value_head_dim)
        self.feed_forward1 = FeedForward(dim, ff * 3 // 4)
        self.feed_forward2 = FeedForward(dim, ff)
        self.feed_forward3 = FeedForward(dim, ff * 5 // 4)
        self.nonlin_attention = NonlinAttention(dim, 3 * dim // 4)
        self.conv_module1 = ConvolutionModule(dim, kernel)
        self.conv_module2 = ConvolutionModule(dim, kernel)
        self.norm = BiasNorm(dim)

    def forward(self, src: Tensor, positions: Tensor, time_emb: Tensor | None, mask: Tensor | None) -> Tensor:
        original = src
        weights = self.self_attn_weights(src, positions, mask)
        if time_emb is not None:
            src = src + time_emb
        src = src + self.feed_forward1(src)
        src = src + self.nonlin_attention(src, weights[0:1])
        src = src + self.self_attn1(src, weights)
        if time_emb is not None:
            src = src + time_emb
        src = src + self.conv_module1(src, mask)
        src = src + self.feed_forward2(src)
        src = self.bypass_mid(original, src)
        src = src + self.self_attn2(src, weights)
        if time_emb is not None:
            src = src + time_emb
        src = src + self.conv_module2(src, mask)
        src = src + self.feed_forward3(src)
        src = self.norm(src)
        return self.bypass(original, src)


class TimeProjection(nn.Sequential):
    """SwooshR then a linear map of the shared time embedding (``time_emb.1.*``)."""

    def __init__(self, time_dim: int, dim: int) -> None:
        super().__init__(_SwooshR(), nn.Linear(time_dim, dim))


class _SwooshR(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return swoosh_r(x)


class ZipformerStack(nn.Module):
    """Layers at one frame rate, sharing relative positions and a time projection."""

    def __init__(self, cfg: StackConfig, layers: int, kernel: int) -> None:
        super().__init__()
        self.pos_dim = cfg.pos_dim
        self.time_emb = TimeProjection(cfg.time_embed_dim, cfg.dim) if cfg.time_embed_dim else None
        self.layers = nn.ModuleList(ZipformerLayer(cfg, kernel) for _ in range(layers))
        self.on_layer: Callable[[int, Tensor], None] | None = None

    def forward(self, src: Tensor, time_emb: Tensor | None, mask: Tensor | None) -> Tensor:
        positions = relative_position_table(src.shape[0], self.pos_dim, device=src.device).unsqueeze(0)
        if self.time_emb is not None and time_emb is not None:
            time_emb = self.time_emb(time_emb)
        for i, layer in enumerate(self.layers):
            src = layer(src, positions, time_emb, mask)
            if self.on_layer is not None:
                self.on_layer(i, src)
        return src


class DownsampledStack(nn.Module):
    """A stack run at 1/``factor`` of the frame rate: softmax-weighted frame averaging down,
    repetition up, and a learned bypass with the full-rate input."""

    def __init__(self, stack: ZipformerStack, dim: int, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.downsample = _Downsample(factor)
        self.encoder = stack
        self.out_combiner = Bypass(dim)

    def forward(self, src: Tensor, time_emb: Tensor | None, mask: Tensor | None) -> Tensor:
        length = src.shape[0]
        f = self.factor
        low = self.encoder(self.downsample(src), time_emb, None if mask is None else mask[..., ::f])
        up = low.repeat_interleave(f, dim=0)[:length]
        return self.out_combiner(src, up)


class _Downsample(nn.Module):
    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.bias = nn.Parameter(torch.zeros(factor))

    def forward(self, src: Tensor) -> Tensor:
        length, batch, channels = src.shape
        f = self.factor
        groups = (length + f - 1) // f
        pad = groups * f - length
        src = torch.cat((src, src[-1:].expand(pad, batch, channels)), dim=0)
        weights = self.bias.softmax(dim=0)[:, None, None]
        return (src.reshape(groups, f, batch, channels) * weights).sum(dim=1)


class StackConfig:
    """Sizes shared by every stack of one Zipformer."""

    def __init__(
        self,
        *,
        dim: int,
        feedforward_dim: int,
        heads: int,
        query_head_dim: int,
        value_head_dim: int,
        pos_head_dim: int,
        pos_dim: int,
        time_embed_dim: int = 0,
    ) -> None:
        self.dim, self.feedforward_dim, self.heads = dim, feedforward_dim, heads
        self.query_head_dim, self.value_head_dim, self.pos_head_dim = query_head_dim, value_head_dim, pos_head_dim
        self.pos_dim, self.time_embed_dim = pos_dim, time_embed_dim


def _check_unet(factors: Sequence[int]) -> None:
    n = len(factors)
    ok = factors[0] == 1 and factors[-1] == 1
    ok = ok and all(factors[i] == 2 * factors[i - 1] for i in range(1, n // 2 + 1))
    ok = ok and all(2 * factors[i] == factors[i - 1] for i in range(n // 2 + 1, n))
    if not ok:
        raise ValueError(f"downsampling factors must rise and fall by 2 from 1 to 1, not {list(factors)}")


def _stacks(cfg: StackConfig, factors: Sequence[int], layers: Sequence[int], kernels: Sequence[int]) -> nn.ModuleList:
    _check_unet(factors)
    if not len(factors) == len(layers) == len(kernels):
        raise ValueError("downsampling factors, layer counts and kernels must have the same length")
    stacks: list[nn.Module] = []
    for factor, n, kernel in zip(factors, layers, kernels, strict=True):
        stack = ZipformerStack(cfg, n, kernel)
        stacks.append(stack if factor == 1 else DownsampledStack(stack, cfg.dim, factor))
    return nn.ModuleList(stacks)


class Zipformer(nn.Module):
    """``in_proj`` -> U-Net of stacks -> ``out_proj``; input and output batch-first [B, T, C].

    With ``time_embed_dim`` the flow time ``t`` [B] is embedded (sinusoid -> MLP) and added
    inside every layer; without it (the text encoder) ``t`` must be None.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        cfg: StackConfig,
        factors: Sequence[int],
        layers: Sequence[int],
        kernels: Sequence[int],
    ) -> None:
        super().__init__()
        self.time_embed_dim = cfg.time_embed_dim
        self.in_proj = nn.Linear(in_dim, cfg.dim)
        self.out_proj = nn.Linear(cfg.dim, out_dim)
        self.encoders = _stacks(cfg, factors, layers, kernels)
        self.time_embed = _time_mlp(cfg.time_embed_dim) if cfg.time_embed_dim else None
        self.on_stack: Callable[[int, Tensor], None] | None = None

    def forward(self, x: Tensor, t: Tensor | None = None, padding_mask: Tensor | None = None) -> Tensor:
        return _run(self, self.in_proj, self.out_proj, x, t, padding_mask)


class TwoStreamZipformer(nn.Module):
    """The Stereo variant's decoder: two input and two output projections around one U-Net;
    the input width picks the stream (index 0: both channels, index 1: one channel)."""

    def __init__(
        self,
        in_dims: tuple[int, int],
        out_dims: tuple[int, int],
        cfg: StackConfig,
        factors: Sequence[int],
        layers: Sequence[int],
        kernels: Sequence[int],
    ) -> None:
        super().__init__()
        self.in_dims = in_dims
        self.time_embed_dim = cfg.time_embed_dim
        self.in_proj = nn.ModuleList(nn.Linear(d, cfg.dim) for d in in_dims)
        self.out_proj = nn.ModuleList(nn.Linear(cfg.dim, d) for d in out_dims)
        self.encoders = _stacks(cfg, factors, layers, kernels)
        self.time_embed = _time_mlp(cfg.time_embed_dim)
        self.on_stack: Callable[[int, Tensor], None] | None = None

    def forward(self, x: Tensor, t: Tensor | None = None, padding_mask: Tensor | None = None) -> Tensor:
        if x.shape[-1] not in self.in_dims:
            raise ValueError(f"stereo decoder input has {x.shape[-1]} channels, expected one of {self.in_dims}")
        stream = self.in_dims.index(x.shape[-1])
        return _run(self, self.in_proj[stream], self.out_proj[stream], x, t, padding_mask)


def _time_mlp(dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, 2 * dim), _SwooshR(), nn.Linear(2 * dim, dim))


def _run(
    net: Zipformer | TwoStreamZipformer,
    in_proj: nn.Module,
    out_proj: nn.Module,
    x: Tensor,
    t: Tensor | None,
    padding_mask: Tensor | None,
) -> Tensor:
    x = in_proj(x.permute(1, 0, 2))
    time_emb = None
    if t is not None:
        if net.time_embed is None:
            raise ValueError("this Zipformer takes no time input")
        time_emb = net.time_embed(timestep_embedding(t, net.time_embed_dim))
    for i, stack in enumerate(net.encoders):
        x = stack(x, time_emb, padding_mask)
        if net.on_stack is not None:
            net.on_stack(i, x)
    return out_proj(x).permute(1, 0, 2)
