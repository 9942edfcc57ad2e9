"""Long-input encode/decode in 30 s windows, as the reference ``XY_Tokenizer.encode/decode``.

Encode: windows of 30 s every ``30 - overlap`` s (20 s by default); each window keeps its first
``(30 - overlap) * 12.5`` codes (250), the rest only served as right context.
Decode: windows of 375 code frames every 250 frames; each keeps its first 250 frames of audio;
joins are hard cuts (no crossfade), exactly like the reference.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .model import XYTokenizer

__all__ = ["chunked_decode", "chunked_encode"]


def chunked_encode(
    codec: XYTokenizer, wav: torch.Tensor, lengths: torch.Tensor, overlap_seconds: float
) -> torch.Tensor:
    """wav [B, n] at 16 kHz, lengths [B] -> codes [nq, B, n // 1280] (zeros past each row's end)."""
    cfg = codec.cfg
    window = cfg.mel.n_samples
    hop = int((cfg.mel.chunk_length - overlap_seconds) * cfg.input_sample_rate)
    kept = hop // cfg.encoder_downsample_rate
    batch, total = wav.shape[0], int(lengths.max()) if lengths.numel() else 0
    n_frames = total // cfg.encoder_downsample_rate
    out = torch.zeros(
        cfg.num_quantizers, batch, max(n_frames, 0), dtype=torch.long, device=wav.device
    )
    for start in range(0, total, hop):
        chunk_len = (lengths - start).clamp(0, window)
        rows = (chunk_len > 0).nonzero().flatten()
        # Rows that already ended are left out: their codes are discarded anyway.
        result = codec.tokenize(wav[rows, start : start + window], chunk_len[rows])
        first = start // hop * kept
        for i, row in enumerate(rows.tolist()):
            limit = min(int(lengths[row]) // cfg.encoder_downsample_rate, first + kept)
            take = max(0, min(int(result.lengths[i]), limit - first))
            out[:, row, first : first + take] = result.codes[:, i, :take]
    return out


def chunked_decode(
    codec: XYTokenizer, codes: torch.Tensor, lengths: torch.Tensor, overlap_seconds: float
) -> torch.Tensor:
    """codes [nq, B, T], lengths [B] -> waveform [B, T * samples_per_frame] float32."""
    cfg = codec.cfg
    window = int(cfg.mel.chunk_length * cfg.input_sample_rate // cfg.encoder_downsample_rate)
    hop = int(
        (cfg.mel.chunk_length - overlap_seconds)
        * cfg.input_sample_rate
        // cfg.encoder_downsample_rate
    )
    spf = cfg.decoder_upsample_rate
    _, batch, t = codes.shape
    out = torch.zeros(batch, t * spf, device=codes.device)
    for start in range(0, t, hop):
        end = min(start + window, t)
        chunk_len = (lengths - start).clamp(0, end - start)
        if int(chunk_len.max()) == 0:
            continue
        wav = codec.detokenize(codes[:, :, start:end], chunk_len)
        for row in range(batch):
            take = min(int(chunk_len[row]), hop) * spf
            out[row, start * spf : start * spf + take] = wav[row, :take]
    return out
