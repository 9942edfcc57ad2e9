"""CosyVoice 2 flow: speech tokens -> 80-bin mel (``CausalMaskedDiffWithXvec`` in ``flow.pt``).

Token embedding -> upsampling Conformer encoder (ESPnet relative positions) -> projection to
mu -> conditional flow matching: 10 Euler steps on a cosine time grid from a fixed noise tensor,
classifier-free guidance 0.7, velocity from a causal Matcha-style 1-D U-Net. Module and
parameter names follow the checkpoint so ``flow.pt`` loads strictly.

Every function takes a batch with per-item lengths (right padding): the padded positions never
reach a valid one, so a batch gives each item what it would get alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from podcast.neural.flow import euler_solve, time_grid

N_MELS = 80
NOISE_FRAMES = 50 * 300


def length_mask(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """[B, total] bool, True on the valid positions."""
    return torch.arange(total, device=lengths.device)[None, :] < lengths[:, None]


def fixed_noise() -> torch.Tensor:
    """The reference's noise: seed 0, ``randn(1, 80, 15000)`` on the CPU generator (not the global one)."""
    gen = torch.Generator().manual_seed(0)
    return torch.randn(1, N_MELS, NOISE_FRAMES, generator=gen)


# ── encoder ───────────────────────────────────────────────────────────────────────────────


class LinearEmbed(nn.Module):
    """Linear + LayerNorm; ``out.0`` / ``out.1`` as in the checkpoint."""

    def __init__(self, idim: int, odim: int) -> None:
        super().__init__()
        self.out = nn.Sequential(nn.Linear(idim, odim), nn.LayerNorm(odim, eps=1e-5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(x) * math.sqrt(self.out[0].out_features)


def rel_positions(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """ESPnet relative sinusoids for offsets ``length-1 .. -(length-1)``: [1, 2L-1, dim]."""
    pos = torch.arange(length - 1, -length, -1, dtype=torch.float32, device=device)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32, device=device) * -(math.log(10000.0) / dim))
    pe = torch.zeros(2 * length - 1, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)
    return pe[None]


class RelAttention(nn.Module):
    """Multi-head self-attention with Transformer-XL relative positions (``pos_bias_u/v``)."""

    def __init__(self, heads: int, dim: int) -> None:
        super().__init__()
        self.h, self.d = heads, dim // heads
        self.linear_q = nn.Linear(dim, dim)
        self.linear_k = nn.Linear(dim, dim)
        self.linear_v = nn.Linear(dim, dim)
        self.linear_out = nn.Linear(dim, dim)
        self.linear_pos = nn.Linear(dim, dim, bias=False)
        self.pos_bias_u = nn.Parameter(torch.zeros(heads, self.d))
        self.pos_bias_v = nn.Parameter(torch.zeros(heads, self.d))

    def forward(self, x: torch.Tensor, pos: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.linear_q(x).view(b, t, self.h, self.d)
        k = self.linear_k(x).view(b, t, self.h, self.d).transpose(1, 2)
        v = self.linear_v(x).view(b, t, self.h, self.d).transpose(1, 2)
        p = self.linear_pos(pos).view(1, -1, self.h, self.d).transpose(1, 2)
        ac = (q + self.pos_bias_u).transpose(1, 2) @ k.transpose(-2, -1)
        bd = (q + self.pos_bias_v).transpose(1, 2) @ p.transpose(-2, -1)  # [b, h, t, 2t-1]
        bd = _rel_shift(bd)
        scores = (ac + bd) / math.sqrt(self.d)
        scores = scores.masked_fill(~keep[:, None, None, :], float("-inf"))
        attn = torch.softmax(scores, dim=-1)
        return self.linear_out((attn @ v).transpose(1, 2).reshape(b, t, self.h * self.d))


def _rel_shift(x: torch.Tensor) -> torch.Tensor:
    """Row i of ``x [.., t, 2t-1]`` (offsets t-1 .. -(t-1)) re-indexed to key j (offset i - j)."""
    b, h, t, n = x.shape
    padded = torch.cat([x.new_zeros(b, h, t, 1), x], dim=-1).view(b, h, n + 1, t)
    return padded[:, :, 1:].reshape(b, h, t, n)[..., : n // 2 + 1]


class FeedForward(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.w_1 = nn.Linear(dim, hidden)
        self.w_2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_2(F.silu(self.w_1(x)))


class ConformerLayer(nn.Module):
    """Pre-norm self-attention + feed-forward (no convolution module, no macaron)."""

    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.self_attn = RelAttention(heads, dim)
        self.feed_forward = FeedForward(dim, hidden)
        self.norm_ff = nn.LayerNorm(dim, eps=1e-12)
        self.norm_mha = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x: torch.Tensor, pos: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.norm_mha(x), pos, keep)
        return x + self.feed_forward(self.norm_ff(x))


class PreLookahead(nn.Module):
    """Right zero-pad, conv k = lookahead + 1, LeakyReLU 0.01, causal conv k3, residual."""

    def __init__(self, in_channels: int, channels: int, lookahead: int = 3) -> None:
        super().__init__()
        self.lookahead = lookahead
        self.conv1 = nn.Conv1d(in_channels, channels, lookahead + 1)
        self.conv2 = nn.Conv1d(channels, in_channels, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, T, C]
        h = F.pad(x.transpose(1, 2), (0, self.lookahead))
        h = F.leaky_relu(self.conv1(h))
        h = self.conv2(F.pad(h, (2, 0)))
        return h.transpose(1, 2) + x


class Upsample(nn.Module):
    """Nearest x2, left zero-pad 4, conv k5."""

    def __init__(self, channels: int, stride: int = 2) -> None:
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv1d(channels, channels, 2 * stride + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [B, C, T]
        x = F.interpolate(x, scale_factor=float(self.stride), mode="nearest")
        return self.conv(F.pad(x, (2 * self.stride, 0)))


class UpsampleConformerEncoder(nn.Module):
    def __init__(self, input_size: int, dim: int, heads: int, hidden: int, blocks: int, up_blocks: int = 4) -> None:
        super().__init__()
        self.embed = LinearEmbed(input_size, dim)
        self.pre_lookahead_layer = PreLookahead(dim, dim, 3)
        self.encoders = nn.ModuleList(ConformerLayer(dim, heads, hidden) for _ in range(blocks))
        self.up_layer = Upsample(dim, 2)
        self.up_embed = LinearEmbed(input_size, dim)
        self.up_encoders = nn.ModuleList(ConformerLayer(dim, heads, hidden) for _ in range(up_blocks))
        self.after_norm = nn.LayerNorm(dim, eps=1e-5)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        keep = length_mask(lengths, x.shape[1])
        x = self.embed(x) * keep[..., None]  # zeros past the end, as the lookahead pad of one item
        pos = rel_positions(x.shape[1], x.shape[2], x.device)
        x = self.pre_lookahead_layer(x)
        for layer in self.encoders:
            x = layer(x, pos, keep)
        x = self.up_layer(x.transpose(1, 2)).transpose(1, 2)
        lengths = lengths * self.up_layer.stride
        keep = length_mask(lengths, x.shape[1])
        x = self.up_embed(x)
        pos = rel_positions(x.shape[1], x.shape[2], x.device)
        for layer in self.up_encoders:
            x = layer(x, pos, keep)
        return self.after_norm(x)


# ── estimator: causal Matcha U-Net ─────────────────────────────────────────────────────────


def sinusoidal_time(t: torch.Tensor, dim: int, scale: float = 1000.0) -> torch.Tensor:
    half = dim // 2
    freq = torch.exp(torch.arange(half, device=t.device).float() * -(math.log(10000) / (half - 1)))
    arg = scale * t[:, None] * freq[None, :]
    return torch.cat([arg.sin(), arg.cos()], dim=-1)


class CausalConv1d(nn.Conv1d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.kernel_size[0] - 1, 0)))


class _Transpose(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class CausalBlock(nn.Module):
    def __init__(self, dim: int, dim_out: int) -> None:
        super().__init__()
        self.block = nn.Sequential(CausalConv1d(dim, dim_out, 3), _Transpose(), nn.LayerNorm(dim_out), _Transpose(), nn.Mish())

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.block(x * mask) * mask


class CausalResnet(nn.Module):
    def __init__(self, dim: int, dim_out: int, time_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Mish(), nn.Linear(time_dim, dim_out))
        self.block1 = CausalBlock(dim, dim_out)
        self.block2 = CausalBlock(dim_out, dim_out)
        self.res_conv = nn.Conv1d(dim, dim_out, 1)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
        h = self.block1(x, mask) + self.mlp(temb)[:, :, None]
        return self.block2(h, mask) + self.res_conv(x * mask)


class _Attn(nn.Module):
    def __init__(self, dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.to_q = nn.Linear(dim, inner, bias=False)
        self.to_k = nn.Linear(dim, inner, bias=False)
        self.to_v = nn.Linear(dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, dim)])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (f(x).view(b, t, self.heads, -1).transpose(1, 2) for f in (self.to_q, self.to_k, self.to_v))
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return self.to_out[0](out.transpose(1, 2).reshape(b, t, -1))


class _GeluProj(nn.Module):
    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.proj = nn.Linear(dim, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.proj(x))


class _FF(nn.Module):
    def __init__(self, dim: int, mult: int = 4) -> None:
        super().__init__()
        self.net = nn.ModuleList([_GeluProj(dim, dim * mult), nn.Dropout(0.0), nn.Linear(dim * mult, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net[2](self.net[0](x))


class TransformerBlock(nn.Module):
    """diffusers' BasicTransformerBlock as Matcha uses it: self-attention + GELU feed-forward."""

    def __init__(self, dim: int, heads: int, head_dim: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = _Attn(dim, heads, head_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = _FF(dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x), bias)
        return x + self.ff(self.norm3(x))


class _TimeMLP(nn.Module):
    def __init__(self, dim: int, out: int) -> None:
        super().__init__()
        self.linear_1 = nn.Linear(dim, out)
        self.linear_2 = nn.Linear(out, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class CausalUNet(nn.Module):
    """``CausalConditionalDecoder``: per level a causal ResNet block and transformer blocks; the
    released model has one level (its width list has one entry); more levels halve the time."""

    def __init__(self, in_channels: int, out_channels: int, channels: list[int], head_dim: int, n_blocks: int,
                 n_mid: int, heads: int) -> None:  # fmt: skip
        super().__init__()
        self.in_channels = in_channels
        temb = channels[0] * 4
        self.time_mlp = _TimeMLP(in_channels, temb)

        def level(dim_in: int, dim_out: int) -> nn.ModuleList:
            blocks = nn.ModuleList(TransformerBlock(dim_out, heads, head_dim) for _ in range(n_blocks))
            return nn.ModuleList([CausalResnet(dim_in, dim_out, temb), blocks])

        self.down_blocks = nn.ModuleList()
        previous = in_channels
        for i, ch in enumerate(channels):
            down = level(previous, ch)
            last = i == len(channels) - 1
            down.append(CausalConv1d(ch, ch, 3) if last else nn.Conv1d(ch, ch, 3, 2, 1))
            self.down_blocks.append(down)
            previous = ch
        self.mid_blocks = nn.ModuleList(level(channels[-1], channels[-1]) for _ in range(n_mid))
        widths = [*channels[::-1], channels[0]]
        self.up_blocks = nn.ModuleList()
        for i in range(len(channels)):
            up = level(2 * widths[i], widths[i + 1])
            last = i == len(channels) - 1
            up.append(CausalConv1d(widths[i + 1], widths[i + 1], 3) if last else nn.ConvTranspose1d(widths[i + 1], widths[i + 1], 4, 2, 1))
            self.up_blocks.append(up)
        self.final_block = CausalBlock(channels[0], channels[0])
        self.final_proj = nn.Conv1d(channels[0], out_channels, 1)

    @staticmethod
    def _attend(blocks: nn.ModuleList, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        bias = torch.zeros(mask.shape[0], 1, 1, mask.shape[-1], dtype=x.dtype, device=x.device)
        bias = bias.masked_fill(mask[:, None] < 0.5, -1.0e10)
        x = x.transpose(1, 2)
        for block in blocks:
            x = block(x, bias)
        return x.transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, mu: torch.Tensor, t: torch.Tensor, spks: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:  # fmt: skip
        temb = self.time_mlp(sinusoidal_time(t, self.in_channels).to(t.dtype))
        x = torch.cat([x, mu, spks[:, :, None].expand(-1, -1, x.shape[-1]), cond], dim=1)
        masks, skips = [mask], []
        for resnet, blocks, downsample in self.down_blocks:
            m = masks[-1]
            x = self._attend(blocks, resnet(x, m, temb), m)
            skips.append(x)
            x = downsample(x * m)
            masks.append(m[:, :, ::2])
        masks.pop()
        for resnet, blocks in self.mid_blocks:
            x = self._attend(blocks, resnet(x, masks[-1], temb), masks[-1])
        for resnet, blocks, upsample in self.up_blocks:
            m, skip = masks.pop(), skips.pop()
            x = torch.cat([x[:, :, : skip.shape[-1]], skip], dim=1)
            x = upsample(self._attend(blocks, resnet(x, m, temb), m) * m)
        x = self.final_block(x, mask)
        return self.final_proj(x * mask) * mask


class CFM(nn.Module):
    """Holds the estimator (``decoder.estimator``) and runs the guided Euler solver."""

    def __init__(self, estimator: nn.Module, cfg_rate: float = 0.7, schedule: str = "cosine") -> None:
        super().__init__()
        self.estimator = estimator
        self.cfg_rate = cfg_rate
        self.schedule = schedule
        self._noise: torch.Tensor | None = None

    def noise(self, frames: int, like: torch.Tensor) -> torch.Tensor:
        if self._noise is None:
            self._noise = fixed_noise()
        if frames > NOISE_FRAMES:
            raise ValueError(f"a CosyVoice flow call is limited to {NOISE_FRAMES // 50} s of audio")
        return self._noise[:, :, :frames].to(like)

    def solve(self, mu: torch.Tensor, mask: torch.Tensor, spks: torch.Tensor, cond: torch.Tensor, steps: int = 10,
              on_step: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:  # fmt: skip
        """mu, cond [B, 80, T]; mask [B, 1, T]; spks [B, 80] -> x [B, 80, T] (padded frames zero)."""
        b = mu.shape[0]
        x0 = self.noise(mu.shape[-1], mu).expand(b, -1, -1)
        zeros = torch.zeros_like
        mu2, spk2, cond2 = torch.cat([mu, zeros(mu)]), torch.cat([spks, zeros(spks)]), torch.cat([cond, zeros(cond)])
        mask2 = torch.cat([mask, mask])

        def velocity(x: torch.Tensor, t: torch.Tensor, _k: int) -> torch.Tensor:
            out = self.estimator(torch.cat([x, x]), mask2, mu2, t.expand(2 * b), spk2, cond2)
            guided, free = out[:b], out[b:]
            return (1.0 + self.cfg_rate) * guided - self.cfg_rate * free

        grid = time_grid(steps, schedule=self.schedule, device=mu.device, dtype=mu.dtype)  # type: ignore[arg-type]
        return euler_solve(velocity, x0, grid, on_step=on_step)


class TokenToMel(nn.Module):
    """What both flows share: token embedding, speaker projection, guided CFM on mu."""

    def __init__(self, input_size: int, spk_dim: int, vocab: int, decoder: CFM, token_mel_ratio: int) -> None:
        super().__init__()
        self.input_embedding = nn.Embedding(vocab, input_size)
        self.spk_embed_affine_layer = nn.Linear(spk_dim, N_MELS)
        self.decoder = decoder
        self.token_mel_ratio = token_mel_ratio

    def speaker(self, embedding: torch.Tensor) -> torch.Tensor:
        return self.spk_embed_affine_layer(F.normalize(embedding, dim=1))

    def embed(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        keep = length_mask(lengths, tokens.shape[1])
        return self.input_embedding(tokens.clamp(min=0)) * keep[..., None]

    def mu(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """tokens [B, n] (prompt ++ generated, right-padded) -> mu [B, ratio*n, 80]."""
        raise NotImplementedError

    def inference(self, tokens: torch.Tensor, lengths: torch.Tensor, prompt_feat: torch.Tensor,
                  prompt_frames: torch.Tensor, embedding: torch.Tensor, steps: int = 10,
                  on_step: Callable[[int, torch.Tensor], None] | None = None) -> list[torch.Tensor]:  # fmt: skip
        """Mel [80, frames] of each item, prompt frames removed.

        tokens: prompt ++ generated [B, n]; prompt_feat [B, P, 80] (the first ``prompt_frames[b]``
        rows used); embedding [B, 192].
        """
        mu = self.mu(tokens, lengths).transpose(1, 2)
        frames = lengths * self.token_mel_ratio
        mask = length_mask(frames, mu.shape[-1])[:, None].to(mu.dtype)
        cond = torch.zeros_like(mu)
        for i, p in enumerate(prompt_frames.tolist()):
            cond[i, :, :p] = prompt_feat[i, :p].T
        x = self.decoder.solve(mu * mask, mask, self.speaker(embedding), cond, steps, on_step)
        return [x[i, :, p:f] for i, (p, f) in enumerate(zip(prompt_frames.tolist(), frames.tolist(), strict=True))]


class CausalMaskedDiffWithXvec(TokenToMel):
    """The CosyVoice 2 flow: ``input_embedding``, ``spk_embed_affine_layer``, ``encoder``,
    ``encoder_proj``, ``decoder``."""

    def __init__(self, input_size: int, spk_dim: int, vocab: int, encoder: UpsampleConformerEncoder,
                 decoder: CFM, token_mel_ratio: int = 2) -> None:  # fmt: skip
        super().__init__(input_size, spk_dim, vocab, decoder, token_mel_ratio)
        self.encoder = encoder
        self.encoder_proj = nn.Linear(encoder.after_norm.normalized_shape[0], N_MELS)

    def mu(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encoder_proj(self.encoder(self.embed(tokens, lengths), lengths))


def build_flow_v2(cfg: dict) -> CausalMaskedDiffWithXvec:
    """The flow described by the yaml's ``flow`` section (sizes only)."""
    enc, est = cfg["encoder"], cfg["decoder"]["estimator"]
    params = cfg["decoder"].get("cfm_params", {})
    params = params.get("content", params)
    dim = int(enc["output_size"])
    encoder = UpsampleConformerEncoder(int(enc.get("input_size", cfg["input_size"])), dim, int(enc["attention_heads"]),
                                       int(enc["linear_units"]), int(enc["num_blocks"]))  # fmt: skip
    unet = CausalUNet(int(est["in_channels"]), int(est["out_channels"]), list(est["channels"]),
                      int(est["attention_head_dim"]), int(est["n_blocks"]), int(est["num_mid_blocks"]),
                      int(est["num_heads"]))  # fmt: skip
    cfm = CFM(unet, float(params.get("inference_cfg_rate", 0.7)), str(params.get("t_scheduler", "cosine")))
    return CausalMaskedDiffWithXvec(int(cfg["input_size"]), int(cfg["spk_embed_dim"]), int(cfg["vocab_size"]),
                                    encoder, cfm, int(cfg.get("token_mel_ratio", 2)))  # fmt: skip
