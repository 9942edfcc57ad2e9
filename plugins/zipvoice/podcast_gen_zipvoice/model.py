"""ZipVoice-Dialog (mono and Stereo): text encoder, speaker embedding, text condition and the
guided flow-matching sampler, weight-compatible with the reference ``model.pt``.

The sampler takes its initial noise as an argument: the reference draws it from the global
torch RNG, which any other random call would shift, so reproducing a run means passing the
same noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from podcast.neural.flow import euler_solve, time_grid

from .zipformer import StackConfig, TwoStreamZipformer, Zipformer

__all__ = ["DialogConfig", "SampleTrace", "ZipVoiceDialog", "build_model"]


@dataclass(frozen=True, slots=True)
class DialogConfig:
    """``model.json -> model`` (constructor keyword arguments) plus the ids from ``tokens.txt``."""

    vocab_size: int
    pad_id: int
    spk_a_id: int
    spk_b_id: int
    fm_decoder_downsampling_factor: tuple[int, ...] = (1, 2, 4, 2, 1)
    fm_decoder_num_layers: tuple[int, ...] = (2, 2, 4, 4, 4)
    fm_decoder_cnn_module_kernel: tuple[int, ...] = (31, 15, 7, 15, 31)
    fm_decoder_feedforward_dim: int = 1536
    fm_decoder_num_heads: int = 4
    fm_decoder_dim: int = 512
    text_encoder_num_layers: int = 4
    text_encoder_feedforward_dim: int = 512
    text_encoder_cnn_module_kernel: int = 9
    text_encoder_num_heads: int = 4
    text_encoder_dim: int = 192
    time_embed_dim: int = 192
    text_embed_dim: int = 192
    query_head_dim: int = 32
    value_head_dim: int = 12
    pos_head_dim: int = 4
    pos_dim: int = 48
    feat_dim: int = 100
    stereo: bool = False

    @classmethod
    def from_json(cls, model: Mapping[str, Any], **ids: Any) -> DialogConfig:
        """Build from ``model.json``'s ``model`` object; unknown keys are an error (a different model)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(model) - known)
        if unknown:
            raise ValueError(f"model.json has keys this ZipVoice-Dialog does not know: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()}
        return cls(**values, **ids)


class ZipVoiceDialog(nn.Module):
    """The two networks and embeddings of ZipVoice-Dialog (``-Stereo`` when ``cfg.stereo``)."""

    def __init__(self, cfg: DialogConfig) -> None:
        super().__init__()
        self.cfg = cfg
        shared = dict(
            query_head_dim=cfg.query_head_dim,
            value_head_dim=cfg.value_head_dim,
            pos_head_dim=cfg.pos_head_dim,
            pos_dim=cfg.pos_dim,
        )
        decoder = StackConfig(
            dim=cfg.fm_decoder_dim,
            feedforward_dim=cfg.fm_decoder_feedforward_dim,
            heads=cfg.fm_decoder_num_heads,
            time_embed_dim=cfg.time_embed_dim,
            **shared,
        )
        unet = (cfg.fm_decoder_downsampling_factor, cfg.fm_decoder_num_layers, cfg.fm_decoder_cnn_module_kernel)
        f = cfg.feat_dim
        self.fm_decoder: Zipformer | TwoStreamZipformer
        if cfg.stereo:
            self.fm_decoder = TwoStreamZipformer((5 * f, 3 * f), (2 * f, f), decoder, *unet)
        else:
            self.fm_decoder = Zipformer(3 * f, f, decoder, *unet)
        encoder = StackConfig(
            dim=cfg.text_encoder_dim,
            feedforward_dim=cfg.text_encoder_feedforward_dim,
            heads=cfg.text_encoder_num_heads,
            **shared,
        )
        self.text_encoder = Zipformer(
            cfg.text_embed_dim,
            f,
            encoder,
            (1,),
            (cfg.text_encoder_num_layers,),
            (cfg.text_encoder_cnn_module_kernel,),
        )
        self.embed = nn.Embedding(cfg.vocab_size, cfg.text_embed_dim)
        self.spk_embed = nn.Embedding(2, f)

    @property
    def channels(self) -> int:
        """Feature channels of the generated mel: 100 (mono) or 200 (left ‖ right)."""
        return self.cfg.feat_dim * (2 if self.cfg.stereo else 1)

    def encode_text(self, tokens: Sequence[Sequence[int]], trace: SampleTrace | None = None) -> tuple[Tensor, Tensor]:
        """Token rows -> (text embeddings [B, S, feat_dim], token counts [B]).

        Every row gets one extra pad and rows are right-padded to the longest, as the reference
        does; that first pad's encoding is what the tail frames of the text condition read.
        """
        device = self.embed.weight.device
        pad = self.cfg.pad_id
        width = max(len(row) for row in tokens) + 1
        padded = torch.tensor([list(row) + [pad] * (width - len(row)) for row in tokens], device=device)
        lengths = torch.tensor([len(row) for row in tokens], dtype=torch.int64, device=device)
        mask = torch.arange(width, device=device)[None, :] >= lengths[:, None]
        encoded = self.text_encoder(self.embed(padded), None, mask)
        if trace is not None:
            trace.record(text_encoder_out=encoded)
        return self._add_speakers(encoded, padded), lengths

    def _add_speakers(self, encoded: Tensor, padded: Tensor) -> Tensor:
        # The reference picks the speaker row from the parity of the running count of [S1]/[S2]
        # tags (inclusive), not from which tag it is, and skips pad positions. The engine builds
        # every prompt transcript with exactly one [S1] and one [S2] (an even count) so that the
        # text's [S1] always gets the prompt's [S1] row; see engine.py.
        cfg = self.cfg
        is_tag = ((padded == cfg.spk_a_id) | (padded == cfg.spk_b_id)).long()
        parity = is_tag.cumsum(dim=1) % 2
        parity = torch.where(padded == cfg.pad_id, -1, parity)
        out = encoded.clone()
        for row in (0, 1):
            out[torch.where(parity == row)] += self.spk_embed.weight[row].to(out.dtype)
        return out

    def sample(
        self,
        tokens: Sequence[Sequence[int]],
        prompt_tokens: Sequence[int],
        prompt_features: Tensor,
        noise: Tensor | Callable[[tuple[int, int, int]], Tensor],
        *,
        num_step: int = 16,
        guidance_scale: float = 1.5,
        t_shift: float = 0.5,
        speed: float = 1.0,
        trace: SampleTrace | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Generate features for a batch of token rows that share one prompt.

        ``prompt_features`` [P, C] are the scaled prompt features; ``noise`` is the initial
        state [B, T, C] or a function of that shape. Returns (features [B, max_len, C] with
        the prompt frames removed, lengths [B]).
        """
        device = self.embed.weight.device
        batch = len(tokens)
        cat_tokens = [list(prompt_tokens) + list(row) for row in tokens]
        embed, cat_lens = self.encode_text(cat_tokens, trace)
        frames_prompt = torch.full((batch,), prompt_features.shape[0], device=device)
        n_prompt = torch.full((batch,), len(prompt_tokens), dtype=torch.int64, device=device)
        n_text = torch.tensor([len(row) for row in tokens], dtype=torch.int64, device=device)
        # Duration: prompt frames per prompt token, times the text's tokens (float32 like the reference).
        lens = frames_prompt + torch.ceil(frames_prompt / n_prompt * n_text / speed).to(torch.int64)
        total = int(lens.max())
        padding_mask = torch.arange(total, device=device)[None, :] >= lens[:, None]
        text_cond = self._text_condition(embed, cat_lens, lens, total)
        speech_cond = torch.zeros(batch, total, prompt_features.shape[-1], device=device)
        speech_cond[:, : prompt_features.shape[0]] = prompt_features.to(device)
        x0 = noise((batch, total, self.channels)) if callable(noise) else noise
        x0 = x0.to(device=device, dtype=speech_cond.dtype)
        if trace is not None:
            trace.record(
                text_embed=embed, features_lens=lens, text_condition=text_cond, padding_mask=padding_mask, x0=x0
            )
        timesteps = time_grid(num_step, shift=t_shift, device=device)
        velocity = self._guided_velocity(text_cond, speech_cond, padding_mask, guidance_scale, trace)
        on_step = None if trace is None else trace.on_step
        x1 = euler_solve(velocity, x0, timesteps, on_step=on_step)
        if trace is not None:
            trace.record(timesteps=timesteps, x1=x1)
        out_lens = lens - frames_prompt
        out = torch.zeros(batch, int(out_lens.max()), x1.shape[-1], device=device)
        for i in range(batch):
            p, n = int(frames_prompt[i]), int(out_lens[i])
            out[i, :n] = x1[i, p : p + n]
        return out, out_lens

    @staticmethod
    def _text_condition(embed: Tensor, cat_lens: Tensor, lens: Tensor, total: int) -> Tensor:
        """Each token repeated ``len // n_tokens`` frames; every later frame (the remainder and the
        batch padding) reads position ``n_tokens``, the row's first pad."""
        index = torch.empty(embed.shape[0], total, dtype=torch.int64)
        for b in range(embed.shape[0]):
            n = int(cat_lens[b])
            per = int(lens[b]) // n
            index[b, : n * per] = torch.arange(n).repeat_interleave(per)
            index[b, n * per :] = n
        index = index.to(embed.device)
        return torch.gather(embed, 1, index.unsqueeze(-1).expand(-1, -1, embed.shape[-1]))

    def _guided_velocity(
        self,
        text_cond: Tensor,
        speech_cond: Tensor,
        padding_mask: Tensor,
        guidance_scale: float,
        trace: SampleTrace | None,
    ) -> Callable[[Tensor, Tensor, int], Tensor]:
        """Classifier-free guidance as the reference schedules it: the unconditional half drops the
        text always and the speech prompt only for t > 0.5; for t <= 0.5 the scale is doubled."""
        zeros_text = torch.zeros_like(text_cond)
        zeros_speech = torch.zeros_like(speech_cond)
        mask2 = torch.cat([padding_mask, padding_mask], dim=0)
        text2 = torch.cat([zeros_text, text_cond], dim=0)

        def velocity(x: Tensor, t: Tensor, step: int) -> Tensor:
            g = torch.tensor(guidance_scale, dtype=t.dtype, device=t.device)
            if guidance_scale == 0.0:
                out = self.decode(x, t, text_cond, speech_cond, padding_mask)
                if trace is not None:
                    trace.on_decoder(step, t, out)
                return out
            if t > 0.5:
                speech2 = torch.cat([zeros_speech, speech_cond], dim=0)
            else:
                g = g * 2
                speech2 = torch.cat([speech_cond, speech_cond], dim=0)
            out = self.decode(torch.cat([x, x], dim=0), t, text2, speech2, mask2)
            if trace is not None:
                trace.on_decoder(step, t, out)
            uncond, cond = out.chunk(2, dim=0)
            return (1 + g) * cond - g * uncond

        return velocity

    def decode(self, x: Tensor, t: Tensor, text_cond: Tensor, speech_cond: Tensor, mask: Tensor) -> Tensor:
        """One pass of the flow-matching decoder: velocity [B, T, C] at time ``t`` (a scalar)."""
        inputs = torch.cat([x, text_cond, speech_cond], dim=2)
        return self.fm_decoder(inputs, t.reshape(()).repeat(inputs.shape[0]), mask)


class SampleTrace:
    """Collects the sampler's intermediates (for parity tests and debugging)."""

    def __init__(self, decoder_steps: Sequence[int] | None = None) -> None:
        self.values: dict[str, Tensor] = {}
        self.decoder_steps = None if decoder_steps is None else set(decoder_steps)

    def record(self, **values: Tensor) -> None:
        for key, value in values.items():
            self.values[key] = value.detach().clone()

    def on_step(self, step: int, x: Tensor) -> None:
        self.values[f"s{step + 1}_x"] = x.detach().clone()

    def on_decoder(self, step: int, t: Tensor, out: Tensor) -> None:
        self.values[f"s{step}_t"] = t.detach().clone()
        if self.decoder_steps is None or step in self.decoder_steps:
            self.values[f"s{step}_fm_out"] = out.detach().clone()


def build_model(cfg: DialogConfig, *, device: str | torch.device = "cpu") -> ZipVoiceDialog:
    """An uninitialised model (weights to be loaded) on ``device`` ("meta" for manifests)."""
    with torch.device(device):
        return ZipVoiceDialog(cfg).eval()
