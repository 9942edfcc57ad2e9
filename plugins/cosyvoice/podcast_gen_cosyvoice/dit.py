"""CosyVoice 3 flow (``CausalMaskedDiffWithDiT`` in its ``flow.pt``): tokens -> mel with a DiT.

No Conformer: token embedding (80-d) -> pre-lookahead conv layer -> repeat x2 gives mu; the same
guided flow matching as CosyVoice 2 (fixed noise, cosine grid, CFG 0.7) with a diffusion
transformer as the velocity network: input projection of [x, cond, mu, spk], causal conv position
embedding, AdaLayerNorm-Zero blocks with rotary attention, final adaptive norm.
"""

from __future__ import annotations

import math
import torch
import torch.nn.functional as F
from torch import nn

from .flow import CFM, N_MELS, PreLookahead, TokenToMel


class _TimeEmbed(nn.Module):
    def __init__(self, dim: int, freq_dim: int = 256) -> None:
        super().__init__()
        self.freq_dim = freq_dim
        self.time_mlp = nn.Sequential(nn.Linear(freq_dim, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.freq_dim // 2
        freq = torch.exp(torch.arange(half, device=t.device).float() * -(math.log(10000) / (half - 1)))
        arg = 1000.0 * t[:, None] * freq[None, :]
        return self.time_mlp(torch.cat([arg.sin(), arg.cos()], dim=-1).to(t.dtype))


class _ConvPos(nn.Module):
    def __init__(self, dim: int, kernel: int = 31, groups: int = 16) -> None:
        super().__init__()
        self.kernel = kernel
        self.conv1 = nn.Sequential(nn.Conv1d(dim, dim, kernel, groups=groups), nn.Mish())
        self.conv2 = nn.Sequential(nn.Conv1d(dim, dim, kernel, groups=groups), nn.Mish())

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, D]
        h = self.conv1(F.pad(x.transpose(1, 2), (self.kernel - 1, 0)))
        return self.conv2(F.pad(h, (self.kernel - 1, 0))).transpose(1, 2)


class _InputEmbed(nn.Module):
    def __init__(self, mel_dim: int, mu_dim: int, dim: int, spk_dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(2 * mel_dim + mu_dim + spk_dim, dim)
        self.conv_pos_embed = _ConvPos(dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, mu: torch.Tensor, spks: torch.Tensor) -> torch.Tensor:
        h = self.proj(torch.cat([x, cond, mu, spks[:, None].expand(-1, x.shape[1], -1)], dim=-1))
        return self.conv_pos_embed(h) + h


class _Rotary(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim)))

    def forward(self, length: int) -> torch.Tensor:
        t = torch.arange(length, device=self.inv_freq.device).type_as(self.inv_freq)
        freqs = t[:, None] * self.inv_freq[None, :]
        return torch.stack([freqs, freqs], dim=-1).flatten(-2)  # interleaved pairs


def _rotate(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Rotary embedding on the first ``freqs.shape[-1]`` channels (the first head), pairs interleaved."""
    n = freqs.shape[-1]
    head, rest = x[..., :n], x[..., n:]
    pairs = head.unflatten(-1, (-1, 2))
    turned = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)
    return torch.cat([head * freqs.cos() + turned * freqs.sin(), rest], dim=-1)


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner)
        self.to_k = nn.Linear(dim, inner)
        self.to_v = nn.Linear(dim, inner)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim), nn.Dropout(0.0)])

    def forward(self, x: torch.Tensor, keep: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k = _rotate(self.to_q(x), freqs), _rotate(self.to_k(x), freqs)
        q, k, v = (y.view(b, t, self.heads, -1).transpose(1, 2) for y in (q, k, self.to_v(x)))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=keep[:, None, None, :])
        out = self.to_out[0](out.transpose(1, 2).reshape(b, t, -1))
        return out.masked_fill(~keep[..., None], 0.0)


class _AdaNorm(nn.Module):
    def __init__(self, dim: int, chunks: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim * chunks)
        self.chunks = chunks

    def forward(self, t: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.linear(F.silu(t)).chunk(self.chunks, dim=1)


def _norm(x: torch.Tensor) -> torch.Tensor:
    return F.layer_norm(x, x.shape[-1:], eps=1e-6)


class _FF(nn.Module):
    def __init__(self, dim: int, mult: int) -> None:
        super().__init__()
        inner = int(dim * mult)
        self.ff = nn.Sequential(nn.Sequential(nn.Linear(dim, inner), nn.GELU(approximate="tanh")), nn.Dropout(0.0), nn.Linear(inner, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ff(x)


class DiTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int, ff_mult: int) -> None:
        super().__init__()
        self.attn_norm = _AdaNorm(dim, 6)
        self.attn = _Attention(dim, heads, head_dim)
        self.ff = _FF(dim, ff_mult)

    def forward(self, x: torch.Tensor, t: torch.Tensor, keep: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
        shift_a, scale_a, gate_a, shift_f, scale_f, gate_f = self.attn_norm(t)
        h = _norm(x) * (1 + scale_a[:, None]) + shift_a[:, None]
        x = x + gate_a[:, None] * self.attn(h, keep, freqs)
        h = _norm(x) * (1 + scale_f[:, None]) + shift_f[:, None]
        return x + gate_f[:, None] * self.ff(h)


class DiT(nn.Module):
    def __init__(self, dim: int, depth: int, heads: int, head_dim: int, ff_mult: int = 2, mel_dim: int = N_MELS,
                 mu_dim: int = N_MELS, spk_dim: int = N_MELS, long_skip: bool = False) -> None:  # fmt: skip
        super().__init__()
        self.time_embed = _TimeEmbed(dim)
        self.input_embed = _InputEmbed(mel_dim, mu_dim, dim, spk_dim)
        self.rotary_embed = _Rotary(head_dim)
        self.transformer_blocks = nn.ModuleList(DiTBlock(dim, heads, head_dim, ff_mult) for _ in range(depth))
        self.long_skip_connection = nn.Linear(2 * dim, dim, bias=False) if long_skip else None
        self.norm_out = _AdaNorm(dim, 2)
        self.proj_out = nn.Linear(dim, mel_dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, t: torch.Tensor, spks: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:  # fmt: skip
        keep = mask[:, 0] > 0.5
        temb = self.time_embed(t)
        h = self.input_embed(x.transpose(1, 2), cond.transpose(1, 2), mu.transpose(1, 2), spks)
        residual = h
        freqs = self.rotary_embed(h.shape[1])
        for block in self.transformer_blocks:
            h = block(h, temb, keep, freqs)
        if self.long_skip_connection is not None:
            h = self.long_skip_connection(torch.cat([h, residual], dim=-1))
        scale, shift = self.norm_out(temb)
        h = _norm(h) * (1 + scale[:, None]) + shift[:, None]
        return self.proj_out(h).transpose(1, 2)


class CausalMaskedDiffWithDiT(TokenToMel):
    """The CosyVoice 3 flow: ``input_embedding``, ``spk_embed_affine_layer``, ``pre_lookahead_layer``, ``decoder``."""

    def __init__(self, input_size: int, spk_dim: int, vocab: int, lookahead: PreLookahead, decoder: CFM,
                 token_mel_ratio: int = 2) -> None:  # fmt: skip
        super().__init__(input_size, spk_dim, vocab, decoder, token_mel_ratio)
        self.pre_lookahead_layer = lookahead

    def mu(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        h = self.pre_lookahead_layer(self.embed(tokens, lengths))
        return h.repeat_interleave(self.token_mel_ratio, dim=1)


def build_flow_v3(cfg: dict) -> CausalMaskedDiffWithDiT:
    est = cfg["decoder"]["estimator"]
    look = cfg["pre_lookahead_layer"]
    params = cfg["decoder"].get("cfm_params", {})
    params = params.get("content", params)
    dit = DiT(int(est["dim"]), int(est["depth"]), int(est["heads"]), int(est["dim_head"]), int(est.get("ff_mult", 2)),
              int(est.get("mel_dim", 80)), int(est.get("mu_dim") or est.get("mel_dim", 80)), int(est.get("spk_dim", 80)),
              bool(est.get("long_skip_connection", False)))  # fmt: skip
    cfm = CFM(dit, float(params.get("inference_cfg_rate", 0.7)), str(params.get("t_scheduler", "cosine")))
    lookahead = PreLookahead(int(look["in_channels"]), int(look["channels"]), int(look.get("pre_lookahead_len", 3)))
    return CausalMaskedDiffWithDiT(int(cfg["input_size"]), int(cfg["spk_embed_dim"]), int(cfg["vocab_size"]),
                                   lookahead, cfm, int(cfg.get("token_mel_ratio", 2)))  # fmt: skip
