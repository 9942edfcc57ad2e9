"""BiCodec's speaker path: ECAPA-TDNN over a linear mel, a Perceiver resampler to ``token_num``
latents, and a finite scalar quantizer that turns them into global token ids (and back).

Parameter names follow the published ``BiCodec/model.safetensors`` (``speaker_encoder.*``).
Widths that the reference hard-codes (ECAPA 512 channels and 1536 concatenated, the 128-wide
attention bottlenecks, Perceiver depth 2 with 8 heads of 64) are constants here too; only the
mel width, the output width, the latent width, the token count and the FSQ levels come from the
config.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ECAPA_CHANNELS = 512
ECAPA_CAT = 3 * ECAPA_CHANNELS
BOTTLENECK = 128
RES2_SCALE = 8
PERCEIVER_DEPTH = 2
HEADS = 8
DIM_HEAD = 64
FF_MULT = 4
FSQ_EPS = 1e-3


class ConvReluBn(nn.Module):
    """Conv1d -> ReLU -> BatchNorm (eval statistics)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, padding: int = 0) -> None:
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, padding=padding)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(F.relu(self.conv(x)))


class Res2Conv(nn.Module):
    """Res2Net split: ``scale`` channel groups, each (but the last) convolved after adding the
    previous group's output."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.width = channels // RES2_SCALE
        n = RES2_SCALE - 1
        self.convs = nn.ModuleList(
            nn.Conv1d(self.width, self.width, 3, padding=dilation, dilation=dilation) for _ in range(n)
        )
        self.bns = nn.ModuleList(nn.BatchNorm1d(self.width) for _ in range(n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.width, 1)
        outs, current = [], parts[0]
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            if i:
                current = current + parts[i]
            current = bn(F.relu(conv(current)))
            outs.append(current)
        outs.append(parts[len(self.convs)])
        return torch.cat(outs, dim=1)


class SqueezeExcite(nn.Module):
    """Time mean -> Linear -> ReLU -> Linear -> sigmoid, scaling the channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(channels, BOTTLENECK)
        self.linear2 = nn.Linear(BOTTLENECK, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = torch.sigmoid(self.linear2(F.relu(self.linear1(x.mean(dim=2)))))
        return x * weights.unsqueeze(2)


class SERes2Block(nn.Module):
    """1x1 conv, Res2 conv, 1x1 conv, squeeze-excite, with a residual."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.se_res2block = nn.Sequential(
            ConvReluBn(channels, channels),
            Res2Conv(channels, dilation),
            ConvReluBn(channels, channels),
            SqueezeExcite(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.se_res2block(x)


class AttentiveStatsPool(nn.Module):
    """Attentive statistics pooling with global context (mean and std appended to the input)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear1 = nn.Conv1d(dim * 3, BOTTLENECK, kernel_size=1)
        self.linear2 = nn.Conv1d(BOTTLENECK, dim, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True).expand_as(x)
        std = torch.sqrt(x.var(dim=-1, keepdim=True) + 1e-7).expand_as(x)
        alpha = torch.softmax(self.linear2(torch.tanh(self.linear1(torch.cat((x, mean, std), dim=1)))), dim=2)
        mu = torch.sum(alpha * x, dim=2)
        var = torch.sum(alpha * x**2, dim=2) - mu**2
        return torch.cat([mu, torch.sqrt(var.clamp(min=1e-7))], dim=1)


class EcapaTdnn(nn.Module):
    """ECAPA-TDNN (512 channels); :meth:`latent` is what the Perceiver reads, :meth:`xvector` the
    pooled embedding (computed by the reference but unused by tokenize/detokenize)."""

    def __init__(self, feat_dim: int, embed_dim: int) -> None:
        super().__init__()
        self.layer1 = ConvReluBn(feat_dim, ECAPA_CHANNELS, kernel=5, padding=2)
        self.layer2 = SERes2Block(ECAPA_CHANNELS, 2)
        self.layer3 = SERes2Block(ECAPA_CHANNELS, 3)
        self.layer4 = SERes2Block(ECAPA_CHANNELS, 4)
        self.conv = nn.Conv1d(ECAPA_CAT, ECAPA_CAT, kernel_size=1)
        self.pool = AttentiveStatsPool(ECAPA_CAT)
        self.bn = nn.BatchNorm1d(2 * ECAPA_CAT)
        self.linear = nn.Linear(2 * ECAPA_CAT, embed_dim)

    def latent(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, n_mels, T] -> latent [B, 1536, T]."""
        out2 = self.layer2(self.layer1(mel))
        out3 = self.layer3(out2)
        out4 = self.layer4(out3)
        return F.relu(self.conv(torch.cat([out2, out3, out4], dim=1)))

    def xvector(self, latent: torch.Tensor) -> torch.Tensor:
        """latent [B, 1536, T] -> x-vector [B, embed_dim]."""
        return self.linear(self.bn(self.pool(latent)))


class PerceiverAttention(nn.Module):
    """Latents attend over [latents; context]; 8 heads of 64, no biases, no mask."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        inner = HEADS * DIM_HEAD
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_kv = nn.Linear(dim, inner * 2, bias=False)
        self.to_out = nn.Linear(inner, dim, bias=False)

    def forward(self, latents: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        batch, n, _ = latents.shape
        keys_in = torch.cat((latents, context), dim=-2)
        k, v = self.to_kv(keys_in).chunk(2, dim=-1)
        q, k, v = (t.reshape(batch, t.shape[1], HEADS, DIM_HEAD).transpose(1, 2) for t in (self.to_q(latents), k, v))
        sim = torch.einsum("bhid,bhjd->bhij", q, k) * DIM_HEAD**-0.5
        out = torch.einsum("bhij,bhjd->bhid", sim.softmax(dim=-1), v)
        return self.to_out(out.transpose(1, 2).reshape(batch, n, HEADS * DIM_HEAD))


class GEGLU(nn.Module):
    """First half is the value, GELU of the second half the gate."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = x.chunk(2, dim=-1)
        return F.gelu(gate) * value


def feed_forward(dim: int) -> nn.Sequential:
    inner = int(dim * FF_MULT * 2 / 3)
    return nn.Sequential(nn.Linear(dim, inner * 2), GEGLU(), nn.Linear(inner, dim))


class RMSNorm(nn.Module):
    """``normalize(x) * sqrt(dim) * gamma``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = dim**0.5
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1) * self.scale * self.gamma


class PerceiverResampler(nn.Module):
    """Context [B, T, 1536] -> ``token_num`` latents [B, token_num, dim]."""

    def __init__(self, dim: int, token_num: int) -> None:
        super().__init__()
        self.proj_context = nn.Linear(ECAPA_CAT, dim)
        self.latents = nn.Parameter(torch.zeros(token_num, dim))
        self.layers = nn.ModuleList(
            nn.ModuleList([PerceiverAttention(dim), feed_forward(dim)]) for _ in range(PERCEIVER_DEPTH)
        )
        self.norm = RMSNorm(dim)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        context = self.proj_context(context)
        latents = self.latents.unsqueeze(0).expand(context.shape[0], -1, -1)
        for attn, ff in self.layers:
            latents = attn(latents, context) + latents
            latents = ff(latents) + latents
        return self.norm(latents)


class ScalarQuantizer(nn.Module):
    """One-level residual FSQ with input/output projections (``project_in``/``project_out``).

    Index digits are least significant first: ``index = sum(digit_i * prod(levels[:i]))``.
    """

    def __init__(self, dim: int, levels: list[int]) -> None:
        super().__init__()
        self.levels = list(levels)
        self.project_in = nn.Linear(dim, len(levels))
        self.project_out = nn.Linear(len(levels), dim)

    def _tables(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        levels = torch.tensor(self.levels, dtype=torch.int64, device=like.device)
        basis = torch.cumprod(torch.tensor([1, *self.levels[:-1]], dtype=torch.int64, device=like.device), dim=0)
        return levels, basis

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """tanh bound so that rounding lands on exactly ``L`` values per dimension."""
        levels, _ = self._tables(z)
        half_l = (levels - 1).float() * (1 + FSQ_EPS) / 2
        offset = torch.where(levels % 2 == 0, 0.5, 0.0).to(z.device)
        shift = (offset / half_l).atanh()
        return (z + shift).tanh() * half_l - offset

    def codes(self, z: torch.Tensor) -> torch.Tensor:
        """Projected latents [..., len(levels)] -> codes in [-1, 1]."""
        levels, _ = self._tables(z)
        return self.bound(z).round() / (levels // 2)

    def indices(self, codes: torch.Tensor) -> torch.Tensor:
        levels, basis = self._tables(codes)
        half = levels // 2
        return ((codes * half + half) * basis).sum(dim=-1).to(torch.int64)

    def codes_from_indices(self, indices: torch.Tensor) -> torch.Tensor:
        """Indices [...] -> codes [..., len(levels)]."""
        levels, basis = self._tables(indices)
        half = levels // 2
        digits = (indices.unsqueeze(-1) // basis) % levels
        return ((digits - half) / half).float()

    @staticmethod
    def codebook_size(levels: list[int]) -> int:
        return math.prod(levels)


class SpeakerEncoder(nn.Module):
    """Mel of the reference clip -> global ids, and global ids -> the d-vector."""

    def __init__(self, cfg: dict) -> None:
        super().__init__()
        latent, tokens = cfg["latent_dim"], cfg["token_num"]
        if cfg.get("fsq_num_quantizers", 1) != 1:
            raise ValueError("BiCodec speaker encoder: only one FSQ quantizer is supported")
        self.token_num = tokens
        self.speaker_encoder = EcapaTdnn(cfg["input_dim"], cfg["out_dim"])
        self.perceiver_sampler = PerceiverResampler(latent, tokens)
        self.quantizer = ScalarQuantizer(latent, cfg["fsq_levels"])
        self.project = nn.Linear(latent * tokens, cfg["out_dim"])

    def tokenize(self, mel: torch.Tensor) -> torch.Tensor:
        """mel [B, n_mels, T] -> global ids [B, token_num]."""
        latent = self.speaker_encoder.latent(mel)
        tokens = self.perceiver_sampler(latent.transpose(1, 2))
        return self.quantizer.indices(self.quantizer.codes(self.quantizer.project_in(tokens)))

    def detokenize(self, global_ids: torch.Tensor) -> torch.Tensor:
        """global ids [B, token_num] -> d-vector [B, out_dim] (latents flattened channel-major)."""
        latents = self.quantizer.project_out(self.quantizer.codes_from_indices(global_ids))
        return self.project(latents.transpose(1, 2).reshape(latents.shape[0], -1))
