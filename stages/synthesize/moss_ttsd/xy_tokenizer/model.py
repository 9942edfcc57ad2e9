"""The XY-Tokenizer codec: 16 kHz speech <-> 8 x 1024 RVQ codes at 12.5 frames/s <-> 24/32 kHz.

Public code layout is frames-major, ``[B, T, nq]`` (what the MOSS-TTSD LM reads and writes);
the internal layout of the reference (``[nq, B, T]``) only appears in ``tokenize``/``detokenize``.
Sub-module names match the reference ``state_dict`` so checkpoints load strictly.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from podcast.neural.mel import whisper_log_mel
from podcast.neural.vocos import Vocos, VocosConfig

from .config import CodecConfig
from .layers import AudioDecoder, AudioEncoder, DownConv, TransformerAdapter, UpConv
from .quantizer import ResidualVQ
from .windowing import DEFAULT_PLAN, WindowedDecoder, WindowPlan, iter_windowed_decode

__all__ = ["TokenizeOutput", "XYTokenizer"]

_MEL_MARGIN_FRAMES = 4  # zero frames kept past the signal when not padding to 30 s (see _features)


@dataclass(frozen=True, slots=True)
class TokenizeOutput:
    """One <= 30 s window: ``zq`` [B, D, T] float32, ``codes`` [nq, B, T], ``lengths`` [B]."""

    zq: torch.Tensor
    codes: torch.Tensor
    lengths: torch.Tensor


class XYTokenizer(nn.Module):
    """XY-Tokenizer codec. Input audio: mono float at ``input_sample_rate`` (16 kHz), range ±1.

    Output audio: mono float32 at ``output_sample_rate`` (32 kHz for v0.7, 24 kHz for v0.5);
    one code frame = ``encoder_downsample_rate`` input samples = ``samples_per_frame`` output
    samples.
    """

    def __init__(self, cfg: CodecConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.semantic_encoder = AudioEncoder(cfg.semantic_encoder)
        self.semantic_encoder_adapter = TransformerAdapter(cfg.semantic_encoder_adapter)
        self.acoustic_encoder = AudioEncoder(cfg.acoustic_encoder)
        self.pre_rvq_adapter = TransformerAdapter(cfg.pre_rvq_adapter)
        self.downsample = DownConv(cfg.downsample_d_model, cfg.downsample_avg_pooler)
        self.quantizer = ResidualVQ(cfg.quantizer)
        self.post_rvq_adapter = TransformerAdapter(cfg.post_rvq_adapter)
        self.upsample = UpConv(cfg.upsample_d_model, cfg.upsample_stride)
        self.acoustic_decoder = AudioDecoder(cfg.acoustic_decoder)
        v = cfg.vocos
        self.enhanced_vocos = Vocos(
            VocosConfig(v.input_channels, v.dim, v.intermediate_dim, v.num_layers, v.n_fft, v.hop_size, v.padding)
        )

    # ----------------------------------------------------------------- properties
    @property
    def input_sample_rate(self) -> int:
        """Rate of the audio :meth:`encode` expects, Hz (16000)."""
        return self.cfg.input_sample_rate

    @property
    def output_sample_rate(self) -> int:
        """Rate of the audio :meth:`decode` returns, Hz (32000 or 24000)."""
        return self.cfg.output_sample_rate

    @property
    def frame_rate(self) -> float:
        """Code frames per second (12.5)."""
        return self.cfg.frame_rate

    @property
    def samples_per_frame(self) -> int:
        """Output samples per code frame (2560 at 32 kHz, 1920 at 24 kHz)."""
        return self.cfg.decoder_upsample_rate

    @property
    def num_quantizers(self) -> int:
        """Codebooks per frame (8)."""
        return self.cfg.num_quantizers

    @property
    def device(self) -> torch.device:
        return self.quantizer.quantizers[0].codebook.device

    @property
    def dtype(self) -> torch.dtype:
        return self.semantic_encoder.conv1.weight.dtype

    # ----------------------------------------------------------------- core passes
    def features(
        self, wav: torch.Tensor, lengths: torch.Tensor, full_window: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel features of one <= 30 s window.

        Args:
            wav: [B, N] float at 16 kHz; row ``b`` is valid up to ``lengths[b]`` (longer input is
                truncated to 30 s, as in the reference).
            full_window: pad every row to 30 s (the reference's exact shape, 3000 frames). When
                False, pad only a few frames past the longest row: valid frames are identical
                (the padded tail is zeros either way) and the transformers run on less.
        Returns:
            (mel [B, n_mels, F] float32, valid frames [B]).
        """
        mcfg = self.cfg.mel
        lengths = lengths.clamp(max=mcfg.n_samples).long()
        width = mcfg.n_samples
        if not full_window:
            frames = -(-int(lengths.max()) // mcfg.hop_length) + _MEL_MARGIN_FRAMES
            width = min(width, frames * mcfg.hop_length)
        keep = torch.arange(width, device=wav.device)[None, :] < lengths[:, None]
        body = F.pad(wav[:, :width].float(), (0, max(0, width - wav.shape[1])))
        padded = torch.where(keep, body, torch.full((), mcfg.padding_value, device=wav.device))
        mel_len = torch.div(lengths + mcfg.hop_length - 1, mcfg.hop_length, rounding_mode="floor")
        if mcfg.dither:
            padded = padded + mcfg.dither * torch.randn_like(padded)
        features = whisper_log_mel(
            padded, n_mels=mcfg.feature_size, n_fft=mcfg.n_fft, hop_length=mcfg.hop_length,
            sample_rate=mcfg.sampling_rate, f_max=mcfg.max_frequency,
        )  # fmt: skip
        return features, mel_len

    @torch.inference_mode()
    def tokenize(
        self, wav: torch.Tensor, lengths: torch.Tensor, full_window: bool = False
    ) -> TokenizeOutput:
        """Encode one <= 30 s window (reference ``inference_tokenize``); see :meth:`features`."""
        mel, mel_len = self.features(wav, lengths, full_window)
        mel = mel.to(self.dtype)
        sem, sem_len = self.semantic_encoder(mel, mel_len)
        sem, _ = self.semantic_encoder_adapter(sem, sem_len)
        aco, aco_len = self.acoustic_encoder(mel, mel_len)
        mixed, mixed_len = self.pre_rvq_adapter(torch.cat([sem, aco], dim=1), aco_len)
        down, down_len = self.downsample(mixed, mixed_len)
        zq, codes = self.quantizer(down, down_len)
        return TokenizeOutput(zq=zq, codes=codes, lengths=down_len)

    @torch.inference_mode()
    def detokenize(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Decode one window (reference ``inference_detokenize``).

        Args:
            codes: [nq, B, T] int, T <= ``cfg.max_decode_frames`` (375 = 30 s).
            lengths: valid frames per row [B] (default: all T).
        Returns:
            waveform [B, T * samples_per_frame] float32 at ``output_sample_rate``.
        """
        _, b, t = codes.shape
        if t > self.cfg.max_decode_frames:
            raise ValueError(
                f"detokenize takes at most {self.cfg.max_decode_frames} frames, got {t}"
            )
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long, device=codes.device)
        zq = self.quantizer.decode_codes(codes.to(self.device)).to(self.dtype)
        lengths = lengths.to(self.device).long()
        x, n = self.post_rvq_adapter(zq, lengths)
        x, n = self.upsample(x, n)
        x, _ = self.acoustic_decoder(x, n)
        return self.enhanced_vocos(x)

    # ----------------------------------------------------------------- public API
    @torch.inference_mode()
    def encode(
        self, wav: torch.Tensor, lengths: torch.Tensor | None = None, overlap_seconds: float = 10.0
    ) -> torch.Tensor:
        """Audio -> codes, any length (reference ``encode``: 30 s windows, keep the first 20 s).

        Args:
            wav: [n] or [B, n] float at 16 kHz.
            lengths: valid samples per row [B] (default: all n).
        Returns:
            LongTensor [B, n_max // 1280, nq]; row ``b`` is valid for ``lengths[b] // 1280`` frames
            (zeros after).
        """
        from .chunking import chunked_encode

        wav = wav[None] if wav.dim() == 1 else wav
        if lengths is None:
            lengths = torch.full((wav.shape[0],), wav.shape[1], dtype=torch.long)
        codes = chunked_encode(self, wav.to(self.device), lengths.to(self.device), overlap_seconds)
        return codes.permute(1, 2, 0).contiguous()

    @torch.inference_mode()
    def encode_prompt_reference(self, wav: torch.Tensor, seconds: float = 20.0) -> torch.Tensor:
        """v0.7 decode prompt: zero-pad or truncate 16 kHz ``wav`` [n] to ``seconds``, encode.

        Returns codes [round(seconds * 12.5), nq] (250 frames for 20 s).
        """
        target = round(seconds * self.input_sample_rate)
        wav = wav.reshape(-1)[:target]
        wav = F.pad(wav, (0, target - wav.shape[0]))
        return self.encode(wav)[0]

    @torch.inference_mode()
    def decode_overlap(
        self,
        codes: torch.Tensor,
        lengths: torch.Tensor | None = None,
        overlap_seconds: float = 10.0,
    ) -> torch.Tensor:
        """v0.5 decode (reference ``decode``): 30 s windows every ``30 - overlap`` s, hard joins.

        Args:
            codes: [T, nq] or [B, T, nq] int in 0..1023.
            lengths: valid frames per row [B] (default: all T).
        Returns:
            float32 waveform [B, T * samples_per_frame] at ``output_sample_rate``; rows are zero
            past ``lengths[b] * samples_per_frame``.
        """
        from .chunking import chunked_decode

        codes = codes[None] if codes.dim() == 2 else codes
        if lengths is None:
            lengths = torch.full((codes.shape[0],), codes.shape[1], dtype=torch.long)
        return chunked_decode(
            self, codes.permute(2, 0, 1).to(self.device), lengths.to(self.device), overlap_seconds
        )

    def decode(self, codes: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Codes [T, nq] or [B, T, nq] -> waveform [B, T * samples_per_frame], float32, output rate.

        Same as the reference ``decode``: one pass for up to 20 s (250 frames), longer input in
        30 s windows with a 10 s hop (:meth:`decode_overlap`).
        """
        return self.decode_overlap(codes, lengths, 10.0)

    def _detokenize_one(self, codes: torch.Tensor) -> torch.Tensor:
        """codes [T, nq] -> waveform [T * samples_per_frame]."""
        return self.detokenize(codes.t()[:, None, :].to(self.device).long())[0]

    def windowed_decoder(
        self, prompt_codes: torch.Tensor | None = None, plan: WindowPlan = DEFAULT_PLAN
    ) -> WindowedDecoder:
        """An incremental v0.7 windowed decoder (push frames, get final audio); see windowing.py."""
        if (
            prompt_codes is not None
            and prompt_codes.shape[0] + plan.window > self.cfg.max_decode_frames
        ):
            raise ValueError(
                f"prompt ({prompt_codes.shape[0]} frames) + window ({plan.window}) exceeds "
                f"{self.cfg.max_decode_frames} frames"
            )
        return WindowedDecoder(
            _inference(self._detokenize_one),
            self.samples_per_frame,
            self.output_sample_rate,
            prompt_codes,
            plan,
        )

    def prompt_augmented_decode(
        self,
        codes: torch.Tensor,
        prompt_codes: torch.Tensor | None,
        plan: WindowPlan = DEFAULT_PLAN,
    ) -> torch.Tensor:
        """v0.7 decode of one row: windows of generated codes, each decoded after the prompt codes.

        Args:
            codes: generated frames [T, nq] (or [1, T, nq]) in 0..1023.
            prompt_codes: [P, nq] from :meth:`encode_prompt_reference` (P = 250 for 20 s); their
                audio (P * samples_per_frame samples) is dropped from every window. None: no prefix.
            plan: window geometry (default: the reference's 125/85/20/85 frames, 0.1 s crossfade).
        Returns:
            float32 waveform [n] at ``output_sample_rate`` (n = T * samples_per_frame except in
            the reference's short-tail corner cases; 0.01 s of silence when T == 0).
        """
        codes = codes[0] if codes.dim() == 3 else codes
        decoder = self.windowed_decoder(prompt_codes, plan)
        audio = torch.cat([decoder.push(codes).to(self.device), decoder.finish().to(self.device)])
        if audio.shape[0] == 0:
            return torch.zeros(int(0.01 * self.output_sample_rate), device=self.device)
        return audio

    def iter_decode(
        self,
        codes_stream: Iterable[torch.Tensor],
        prompt_codes: torch.Tensor | None = None,
        plan: WindowPlan = DEFAULT_PLAN,
    ) -> Iterator[torch.Tensor]:
        """Streaming :meth:`prompt_augmented_decode`: feed frames [k, nq] as they are generated,
        receive final float32 audio pieces [m] at ``output_sample_rate``. The pieces concatenate to
        exactly the one-shot result; a piece appears every ``plan.stride`` frames once a frame past
        the current window exists, and the last piece when the stream ends.
        """
        return iter_windowed_decode(self.windowed_decoder(prompt_codes, plan), codes_stream)


def _inference(fn):  # type: ignore[no-untyped-def]
    """Wrap ``fn`` so each call runs under ``torch.inference_mode``."""

    def run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with torch.inference_mode():
            return fn(*args, **kwargs)

    return run
