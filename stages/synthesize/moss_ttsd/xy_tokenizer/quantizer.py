"""Residual vector quantizer of the XY-Tokenizer (inference only, always float32).

Buffers ``codebook``, ``inited``, ``cluster_size`` and ``embed_avg`` are kept so that reference
checkpoints load strictly; only ``codebook`` is used. Weight-normalised 1x1 convolutions keep the
reference's ``weight_g``/``weight_v`` parameters and compute the weight on the fly.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from podcast import SynthesisError

from .config import QuantizerConfig

__all__ = ["ResidualVQ", "WNConv1d"]


class WNConv1d(nn.Module):
    """Weight-normalised Conv1d: ``weight = weight_g * weight_v / ||weight_v||`` per out channel."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 1) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(out_ch))
        self.weight_g = nn.Parameter(torch.ones(out_ch, 1, 1))
        self.weight_v = nn.Parameter(torch.empty(out_ch, in_ch, kernel_size))
        if self.weight_v.device.type != "meta":
            nn.init.kaiming_uniform_(self.weight_v, a=5**0.5)
            with torch.no_grad():
                self.weight_g.copy_(self.weight_v.norm(dim=(1, 2), keepdim=True))

    def effective_weight(self) -> torch.Tensor:
        v = self.weight_v
        return v * (self.weight_g / v.norm(dim=(1, 2), keepdim=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv1d(x, self.effective_weight(), self.bias)


def _projection(in_dim: int, out_dim: int) -> nn.Module:
    return WNConv1d(in_dim, out_dim) if in_dim != out_dim else nn.Identity()


class VectorQuantizer(nn.Module):
    """One codebook: nearest entry by squared Euclidean distance."""

    def __init__(self, dim: int, codebook_size: int, codebook_dim: int) -> None:
        super().__init__()
        self.codebook_size = codebook_size
        self.in_project = _projection(dim, codebook_dim)
        self.out_project = _projection(codebook_dim, dim)
        self.register_buffer("codebook", torch.zeros(codebook_size, codebook_dim))
        self.register_buffer("inited", torch.tensor([True]))
        self.register_buffer("cluster_size", torch.zeros(codebook_size))
        self.register_buffer("embed_avg", torch.zeros(codebook_size, codebook_dim))

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [B, D, T] -> (quantized [B, D, T], indices [B, T])."""
        z_e = self.in_project(z).float()
        b, d, t = z_e.shape
        flat = z_e.transpose(1, 2).reshape(b * t, d)
        book = self.codebook.float()
        # Expanded squared distance, evaluated in the reference's order to keep ties identical.
        dist = (
            flat.pow(2).sum(1, keepdim=True)
            - 2 * flat @ book.t()
            + book.pow(2).sum(1, keepdim=True).t()
        )
        idx = dist.argmin(dim=1).view(b, t)
        z_q = F.embedding(idx, book).transpose(1, 2)
        # Straight-through form, kept for bit-level parity of the residual chain.
        z_q = z_e + (z_q - z_e)
        return self.out_project(z_q).float(), idx

    def lookup(self, idx: torch.Tensor) -> torch.Tensor:
        """idx [B, T] -> code vectors [B, D, T]."""
        return self.out_project(F.embedding(idx, self.codebook.float()).transpose(1, 2)).float()


class ResidualVQ(nn.Module):
    """Projection in, ``num_quantizers`` residual stages, projection out."""

    def __init__(self, cfg: QuantizerConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.input_proj = _projection(cfg.input_dim, cfg.rvq_width)
        self.output_proj = _projection(cfg.rvq_width, cfg.out_width)
        self.quantizers = nn.ModuleList(
            VectorQuantizer(cfg.rvq_width, cfg.codebook_size, cfg.codebook_dim)
            for _ in range(cfg.num_quantizers)
        )

    def forward(self, z: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """z [B, input_dim, T], lengths [B] -> (zq [B, output_dim, T], codes [nq, B, T]).

        Padded positions quantize a zero residual and add nothing to ``zq``.
        """
        z = self.input_proj(z.float()).float()
        mask = (torch.arange(z.shape[2], device=z.device)[None, :] < lengths[:, None])[:, None, :]
        residual, total, codes = z, torch.zeros_like(z), []
        for vq in self.quantizers:
            q, idx = vq.quantize(residual * mask)
            total = total + q * mask
            residual = residual - q * mask
            codes.append(idx)
        return self.output_proj(total).float(), torch.stack(codes)

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [nq, B, T] (nq <= num_quantizers) -> embedding [B, output_dim, T]."""
        check_codes(codes, self.cfg.codebook_size)
        emb = torch.zeros(codes.shape[1], self.cfg.rvq_width, codes.shape[2], device=codes.device)
        for vq, idx in zip(self.quantizers[: codes.shape[0]], codes, strict=True):
            emb = emb + vq.lookup(idx)
        return self.output_proj(emb).float()


def check_codes(codes: torch.Tensor, codebook_size: int) -> None:
    """Raise a one-line :class:`SynthesisError` when a code is outside ``[0, codebook_size)``."""
    bad = (codes < 0) | (codes >= codebook_size)
    if bool(bad.any()):
        where = bad.nonzero()[0].tolist()
        value = int(codes[tuple(where)])
        raise SynthesisError(
            f"codec got code {value} (valid 0..{codebook_size - 1}) "
            f"at [quantizer, batch, frame] {where}; "
            "the generated speech tokens are incomplete (pad 1024 in a kept frame?)."
        )
