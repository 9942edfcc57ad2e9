"""MOSS-Audio-Tokenizer: a pure-transformer causal speech codec (24 kHz <-> 12.5 frames/s, up to 32
residual LFQ codebooks of 1024 entries).

Encoder: patch 240 -> transformer -> (patch 2 -> transformer) x 3; quantizer: residual LFQ;
decoder: the mirror image with un-patching. Every transformer is causal with a bounded
context (``causal_transformer_context_duration`` seconds at its own frame rate), so the codec
streams: :meth:`MossAudioTokenizer.decode` with ``chunk_frames`` decodes chunk by chunk with a
ring key/value cache per attention layer, exactly as the reference's chunked decode does.
Parameter names follow the reference checkpoint, which loads strictly.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from podcast.errors import MissingModelError

__all__ = ["CodecConfig", "MossAudioTokenizer", "load_codec", "loudness_normalize"]

SAMPLE_RATE = 24000


@dataclass(frozen=True, slots=True)
class CodecConfig:
    """The codec's ``config.json`` (module lists kept as given; see :func:`_build_stack`)."""

    sample_rate: int
    downsample_rate: int
    context_seconds: float
    encoder: tuple[Mapping[str, Any], ...]
    decoder: tuple[Mapping[str, Any], ...]
    quantizer: Mapping[str, Any]

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.downsample_rate

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> CodecConfig:
        quantizer = raw["quantizer_kwargs"]
        if raw.get("quantizer_type", quantizer.get("quantizer_type", "rlfq")) != "rlfq":
            raise MissingModelError("MOSS-Audio-Tokenizer: only the rlfq quantizer is supported")
        return cls(
            sample_rate=int(raw.get("sampling_rate", raw.get("sample_rate", SAMPLE_RATE))),
            downsample_rate=int(raw["downsample_rate"]),
            context_seconds=float(raw["causal_transformer_context_duration"]),
            encoder=tuple(raw["encoder_kwargs"]),
            decoder=tuple(raw["decoder_kwargs"]),
            quantizer=quantizer,
        )


# ── building blocks ────────────────────────────────────────────────────────────


class Patch(nn.Module):
    """Folds ``p`` consecutive frames into channels (``[B, D, T] -> [B, D p, T / p]``, channel
    ``d p + k`` = frame offset ``k`` of channel ``d``) or unfolds them (``up=True``)."""

    def __init__(self, size: int, up: bool) -> None:
        super().__init__()
        self.size, self.up = size, up

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, d, t = x.shape
        p = self.size
        if self.up:
            return x.reshape(b, d // p, p, t).transpose(2, 3).reshape(b, d // p, t * p), lengths * p
        return x.reshape(b, d, t // p, p).transpose(2, 3).reshape(b, d * p, t // p), lengths // p


class LayerScale(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


class RingCache:
    """Keys/values of the last ``capacity`` frames of one attention layer (streaming decode)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None
        self.positions: torch.Tensor | None = None

    def extend(self, k: torch.Tensor, v: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Append a chunk and evict the oldest entries beyond capacity (before attending, as the
        reference's ring buffer does, so a chunk's first queries see fewer past frames)."""
        if self.k is not None:
            k, v = torch.cat([self.k, k], dim=2), torch.cat([self.v, v], dim=2)
            positions = torch.cat([self.positions, positions])
        self.k, self.v, self.positions = k[:, :, -self.capacity :], v[:, :, -self.capacity :], positions[-self.capacity :]
        return self.k, self.v, self.positions


def _rope(x: torch.Tensor, positions: torch.Tensor, max_period: float) -> torch.Tensor:
    """Rotary embedding on interleaved pairs (dims 2i, 2i+1); x [B, H, T, hd]."""
    half = x.shape[-1] // 2
    freqs = torch.exp(torch.arange(half, device=x.device, dtype=torch.float32) * (-math.log(max_period) * 2 / x.shape[-1]))
    angles = positions.to(torch.float32)[:, None] * freqs[None, :]
    cos, sin = torch.cos(angles), torch.sin(angles)
    pairs = x.float().reshape(*x.shape[:-1], half, 2)
    re, im = pairs[..., 0], pairs[..., 1]
    out = torch.stack([re * cos - im * sin, re * sin + im * cos], dim=-1)
    return out.reshape(x.shape).to(x.dtype)


class Attention(nn.Module):
    """Causal multi-head self-attention over a bounded context, fused bias-free q/k/v."""

    def __init__(self, dim: int, heads: int, context: int, max_period: float) -> None:
        super().__init__()
        self.heads, self.context, self.max_period = heads, context, max_period
        self.in_projs = nn.ModuleList([nn.Linear(dim, 3 * dim, bias=False)])
        self.out_projs = nn.ModuleList([nn.Linear(dim, dim, bias=False)])

    def forward(self, x: torch.Tensor, positions: torch.Tensor, cache: RingCache | None) -> torch.Tensor:
        b, t, d = x.shape
        qkv = self.in_projs[0](x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = _rope(qkv[0], positions, self.max_period), _rope(qkv[1], positions, self.max_period), qkv[2]
        key_positions = positions
        if cache is not None:
            k, v, key_positions = cache.extend(k, v, positions)
        delta = positions[:, None] - key_positions[None, :]
        allowed = (delta >= 0) & (delta < self.context)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)
        return self.out_projs[0](out.transpose(1, 2).reshape(b, t, d))


class Layer(nn.Module):
    """Pre-LayerNorm transformer layer with per-channel layer scales and a GELU MLP."""

    def __init__(self, dim: int, heads: int, ff: int, context: int, max_period: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-5)
        self.self_attn = Attention(dim, heads, context, max_period)
        self.layer_scale_1 = LayerScale(dim)
        self.norm2 = nn.LayerNorm(dim, eps=1e-5)
        self.linear1 = nn.Linear(dim, ff, bias=False)
        self.linear2 = nn.Linear(ff, dim, bias=False)
        self.layer_scale_2 = LayerScale(dim)

    def forward(self, x: torch.Tensor, positions: torch.Tensor, cache: RingCache | None) -> torch.Tensor:
        x = x + self.layer_scale_1(self.self_attn(self.norm1(x), positions, cache))
        return x + self.layer_scale_2(self.linear2(F.gelu(self.linear1(self.norm2(x)))))


class _Layers(nn.Module):
    def __init__(self, layers: list[Layer]) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)


class Transformer(nn.Module):
    """``[B, C_in, T] -> [B, C_out, T]``: optional input Linear, causal layers, optional output Linear."""

    def __init__(self, spec: Mapping[str, Any], frame_rate: float, context_seconds: float) -> None:
        super().__init__()
        dim, d_in, d_out = int(spec["d_model"]), int(spec["input_dimension"]), int(spec["output_dimension"])
        self.context = int(frame_rate * context_seconds)
        if spec.get("positional_embedding", "rope") != "rope" or spec.get("norm", "layer_norm") != "layer_norm":
            raise MissingModelError(f"MOSS-Audio-Tokenizer: unsupported transformer settings {dict(spec)}")
        if d_in != dim:
            self.input_proj = nn.Linear(d_in, dim, bias=False)
        layers = [
            Layer(dim, int(spec["num_heads"]), int(spec["dim_feedforward"]), self.context, float(spec.get("max_period", 10000)))
            for _ in range(int(spec["num_layers"]))
        ]
        self.transformer = _Layers(layers)
        if d_out != dim:
            self.output_proj = nn.Linear(dim, d_out, bias=False)
        self.caches: list[RingCache] | None = None

    def start_stream(self) -> None:
        self.caches = [RingCache(self.context) for _ in self.transformer.layers]

    def end_stream(self) -> None:
        self.caches = None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor, offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.transpose(1, 2)
        if hasattr(self, "input_proj"):
            h = self.input_proj(h)
        positions = torch.arange(offset, offset + h.shape[1], device=h.device)
        for i, layer in enumerate(self.transformer.layers):
            h = layer(h, positions, None if self.caches is None else self.caches[i])
        if hasattr(self, "output_proj"):
            h = self.output_proj(h)
        return h.transpose(1, 2), lengths


class WNConv1x1(nn.Module):
    """A weight-normed 1x1 convolution (``parametrizations.weight.original0/1`` names)."""

    def __init__(self, d_in: int, d_out: int) -> None:
        super().__init__()
        self.parametrizations = nn.Module()
        self.parametrizations.weight = nn.Module()
        self.parametrizations.weight.original0 = nn.Parameter(torch.ones(d_out, 1, 1))
        self.parametrizations.weight.original1 = nn.Parameter(torch.randn(d_out, d_in, 1))
        self.bias = nn.Parameter(torch.zeros(d_out))

    def weight(self) -> torch.Tensor:
        g, v = self.parametrizations.weight.original0, self.parametrizations.weight.original1
        return g * v / v.norm(dim=(1, 2), keepdim=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.weight(), self.bias)


class LFQ(nn.Module):
    """One residual layer: project down, nearest L2-normalised codebook row, project back up."""

    def __init__(self, dim: int, codebook_dim: int, size: int) -> None:
        super().__init__()
        self.in_proj = WNConv1x1(dim, codebook_dim)
        self.out_proj = WNConv1x1(codebook_dim, dim)
        self.codebook = nn.Embedding(size, codebook_dim)

    def encode(self, residual: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """residual [B, D, T] -> (z_q [B, D, T], indices [B, T], z_e [B, d, T])."""
        z_e = self.in_proj(residual)
        latent = F.normalize(z_e.transpose(1, 2), dim=-1)
        book = F.normalize(self.codebook.weight, dim=-1)
        distance = (latent.square().sum(-1, keepdim=True) - 2 * latent @ book.T + book.square().sum(-1)[None, None])
        indices = distance.argmin(dim=-1)
        return self.decode(indices), indices, z_e

    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        return self.out_proj(self.codebook(indices).transpose(1, 2))


class ResidualLFQ(nn.Module):
    def __init__(self, spec: Mapping[str, Any]) -> None:
        super().__init__()
        dim, rvq = int(spec["input_dim"]), int(spec["rvq_dim"])
        self.input_proj = WNConv1x1(dim, rvq)
        self.quantizers = nn.ModuleList(
            LFQ(rvq, int(spec["codebook_dim"]), int(spec["codebook_size"])) for _ in range(int(spec["num_quantizers"]))
        )
        self.output_proj = WNConv1x1(rvq, int(spec["output_dim"]))

    def encode(self, x: torch.Tensor, lengths: torch.Tensor, n_q: int, trace: dict | None = None) -> torch.Tensor:
        """x [B, D, T] -> codes [n_q, B, T]; padding frames are zeroed before every layer."""
        valid = (torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None])[:, None, :]
        residual = self.input_proj(x)
        if trace is not None:
            trace["quantizer_input_proj_out"] = residual
        codes = []
        for j, layer in enumerate(self.quantizers[:n_q]):
            z_q, indices, z_e = layer.encode(residual * valid)
            residual = residual - z_q * valid
            codes.append(indices)
            if trace is not None:
                trace.update({f"lfq{j}_out0": z_q, f"lfq{j}_out1": indices, f"lfq{j}_out2": z_e})
        return torch.stack(codes)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [n_q, B, T] -> [B, output_dim, T] (the first n_q layers)."""
        total = sum(layer.decode(c) for layer, c in zip(self.quantizers, codes, strict=False))
        return self.output_proj(total)


def _build_stack(specs: Sequence[Mapping[str, Any]], rate: float, context: float, up: bool) -> tuple[nn.ModuleList, float]:
    """Modules of an encoder (``up=False``) or decoder, with each transformer's frame rate."""
    modules: list[nn.Module] = []
    for spec in specs:
        kind = spec["module_type"]
        if kind == "PatchedPretransform":
            size = int(spec["patch_size"])
            if not up:
                rate /= size
            modules.append(Patch(size, up))
            if up:
                rate *= size
        elif kind == "Transformer":
            modules.append(Transformer(spec, rate, context))
        else:
            raise MissingModelError(f"MOSS-Audio-Tokenizer: unknown module type {kind!r} in config.json")
    return nn.ModuleList(modules), rate


class MossAudioTokenizer(nn.Module):
    """The codec. Audio in and out: float ``[B, 1, N]`` at 24 kHz."""

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder, _ = _build_stack(cfg.encoder, cfg.sample_rate, cfg.context_seconds, up=False)
        self.quantizer = ResidualLFQ(cfg.quantizer)
        self.decoder, end_rate = _build_stack(cfg.decoder, cfg.frame_rate, cfg.context_seconds, up=True)
        if round(end_rate) != cfg.sample_rate:
            raise MissingModelError(f"MOSS-Audio-Tokenizer config: the decoder ends at {end_rate:g} Hz, not {cfg.sample_rate}")

    @property
    def num_quantizers(self) -> int:
        return len(self.quantizer.quantizers)

    @torch.inference_mode()
    def encode(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, n_q: int | None = None, trace: dict | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """wav [B, 1, N] -> (codes [n_q, B, T], lengths [B]); T = floor(N / 1920) per row
        (a partly filled last frame is computed but not counted)."""
        b, _, n = wav.shape
        lengths = torch.full((b,), n, device=wav.device) if lengths is None else lengths.to(wav.device)
        hop = self.cfg.downsample_rate
        x = F.pad(wav.float(), (0, (-n) % hop))
        for i, module in enumerate(self.encoder):
            x, lengths = module(x, lengths)
            if trace is not None:
                trace[f"encoder{i}_out0"], trace[f"encoder{i}_out1"] = x, lengths
        if trace is not None:
            trace["encoder_hidden_states"] = x
        codes = self.quantizer.encode(x, lengths, n_q or self.num_quantizers, trace)
        return codes, lengths

    @torch.inference_mode()
    def decode(self, codes: torch.Tensor, chunk_frames: int | None = None, trace: dict | None = None) -> torch.Tensor:
        """codes [n_q, B, T] -> audio [B, 1, T * 1920].

        ``chunk_frames`` decodes in chunks with ring caches (batch 1), as the reference's
        ``decode(chunk_duration=...)`` does; ``None`` decodes in one causal pass.
        """
        if chunk_frames is None or codes.shape[-1] <= chunk_frames:
            return self._decode_pass(codes, 0, trace)
        if codes.shape[1] != 1:
            raise ValueError("chunked (streaming) decode takes one row at a time")
        pieces = list(self.stream_decode(codes.split(chunk_frames, dim=-1)))
        return torch.cat(pieces, dim=-1)

    def stream_decode(self, chunks: Sequence[torch.Tensor]):
        """Decode code chunks [n_q, 1, t] one after another (left context carried); yields audio."""
        transformers = [m for m in self.decoder if isinstance(m, Transformer)]
        for module in transformers:
            module.start_stream()
        try:
            offset = 0
            for chunk in chunks:
                yield self._decode_pass(chunk, offset)
                offset += chunk.shape[-1]
        finally:
            for module in transformers:
                module.end_stream()

    @torch.inference_mode()
    def _decode_pass(self, codes: torch.Tensor, offset: int, trace: dict | None = None) -> torch.Tensor:
        x = self.quantizer.decode(codes.to(self.quantizer.output_proj.bias.device))
        if trace is not None:
            trace["quantizer_decode_codes"] = x
        lengths = torch.full((x.shape[0],), x.shape[-1], device=x.device)
        frame_offset = offset
        for i, module in enumerate(self.decoder):
            if isinstance(module, Transformer):
                x, lengths = module(x, lengths, frame_offset)
            else:
                x, lengths = module(x, lengths)
                frame_offset *= module.size
            if trace is not None:
                trace[f"decoder{i}_out0"], trace[f"decoder{i}_out1"] = x, lengths
        return x


def loudness_normalize(wav: torch.Tensor, target_db: float = -20.0, max_gain_db: float = 3.0) -> torch.Tensor:
    """The processor's prompt levelling: gain = clamp(target - 10 log10(mean(x^2) + 1e-9), ±3) dB."""
    power = wav.float().square().mean()
    gain = torch.clamp(target_db - 10 * torch.log10(power + 1e-9), -max_gain_db, max_gain_db)
    return wav * torch.pow(10.0, gain / 20)


def load_codec(folder: str | Path, device: Any = "cpu") -> MossAudioTokenizer:
    """Load a MOSS-Audio-Tokenizer folder (``config.json`` + ``model.safetensors``) strictly."""
    from podcast.neural.checkpoint import load_strict, read_state_dict, weight_norm_keys

    folder = Path(folder)
    missing = [n for n in ("config.json", "model.safetensors") if not (folder / n).is_file()]
    if missing:
        raise MissingModelError(f"MOSS-Audio-Tokenizer files missing in {folder}: {', '.join(missing)}")
    cfg = CodecConfig.from_dict(json.loads((folder / "config.json").read_text(encoding="utf-8")))
    with torch.device("meta"):
        model = MossAudioTokenizer(cfg)
    state = weight_norm_keys(read_state_dict(folder / "model.safetensors"), "parametrizations")
    load_strict(model, {k: v.float() for k, v in state.items()}, what=f"MOSS-Audio-Tokenizer weights in {folder}")
    return model.to(device).eval().requires_grad_(False)
