"""Loading a ZipVoice-Dialog folder and generating a dialogue, as the reference's
``generate_sentence`` (mono) and ``generate_sentence_stereo`` do.

A model folder holds ``model.pt`` (or ``model.safetensors``), ``model.json`` and ``tokens.txt``;
the vocoder folder holds ``config.yaml`` and ``pytorch_model.bin`` (``charactr/vocos-mel-24khz``).
Everything is read from disk; nothing is downloaded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from podcast import MissingModelError

from .folders import VOCOS_FILES, model_files_missing
from .frontend import Pcm16, cross_fade, log_mel, prompt_rms_normalise, trim_edges, trim_prompt
from .tokenizer import DialogTokenizer, read_token_table

__all__ = [
    "CHUNK_SECONDS",
    "DialogSynthesizer",
    "GenerationSettings",
    "PreparedPrompt",
    "batch_chunks",
    "chunk_at_turns",
    "load_synthesizer",
    "model_files_missing",
]

log = logging.getLogger(__name__)

#: Prompt plus generated audio per chunk (the reference's hard-coded budget).
CHUNK_SECONDS = 40.0
FEAT_SCALE = 0.1
TARGET_RMS = 0.1
FADE_SECONDS = 0.1

Noise = Callable[[int, tuple[int, int, int]], Any]


@dataclass(frozen=True, slots=True)
class GenerationSettings:
    """The reference CLI's sampling options (its defaults)."""

    num_step: int = 16
    guidance_scale: float = 1.5
    t_shift: float = 0.5
    speed: float = 1.0
    max_duration: float = 100.0


@dataclass(frozen=True, slots=True)
class PreparedPrompt:
    """A cleaned prompt: audio [C, N] after silence handling, its original RMS and features."""

    wav: np.ndarray
    rms: float
    features: np.ndarray  # [frames, C * 100], already scaled by FEAT_SCALE

    @property
    def seconds(self) -> float:
        return self.wav.shape[-1] / 24000


def chunk_at_turns(tokens: Sequence[str], max_tokens: int) -> list[list[str]]:
    """Cut before every ``[S1]`` and merge the pieces greedily up to ``max_tokens`` (a piece
    longer than that stays whole). Only ``[S1]`` starts a piece, as in the reference."""
    pieces: list[list[str]] = []
    for token in tokens:
        if token == "[S1]" and pieces and pieces[-1]:
            pieces.append([])
        if not pieces:
            pieces.append([])
        pieces[-1].append(token)
    chunks: list[list[str]] = []
    current: list[str] = []
    for piece in pieces:
        if len(current) + len(piece) <= max_tokens:
            current = current + piece
        else:
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def batch_chunks(
    chunks: Sequence[Sequence[int]], max_duration: float, prompt_seconds: float, token_seconds: float
) -> tuple[list[list[list[int]]], list[int]]:
    """Sort chunks by length (stable) and group them while the estimated seconds of the batch
    (its tokens, plus one prompt per chunk already in it) stay within ``max_duration``.
    Returns (batches, original index of each sorted chunk)."""
    order = sorted(range(len(chunks)), key=lambda i: len(chunks[i]))
    batches: list[list[list[int]]] = []
    batch: list[list[int]] = []
    used = 0
    for i in order:
        row = list(chunks[i])
        if used * token_seconds + len(batch) * prompt_seconds + len(row) * token_seconds <= max_duration:
            batch.append(row)
            used += len(row)
        else:
            if batch:
                batches.append(batch)
            batch, used = [row], len(row)
    if batch:
        batches.append(batch)
    return batches, order


def _with_end_punctuation(text: str) -> str:
    text = text.strip()
    if text and text[-1] not in ";:,.!?；：，。！？":
        text += "."
    return text


@dataclass
class DialogSynthesizer:
    """A loaded ZipVoice-Dialog (mono or Stereo) with its tokenizer and vocoder."""

    model: Any
    vocoder: Any
    tokenizer: DialogTokenizer
    sample_rate: int = 24000
    filterbank: np.ndarray | None = None
    trace: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def stereo(self) -> bool:
        return bool(self.model.cfg.stereo)

    @property
    def device(self) -> Any:
        return self.model.embed.weight.device

    def prepare_prompt(self, wavs: Sequence[np.ndarray]) -> PreparedPrompt:
        """One merged prompt or two per-speaker prompts ([C, N] at 24 kHz) -> a cleaned prompt.

        Mono: every prompt is averaged to one channel and the two are concatenated. Stereo: a
        merged prompt must have two channels; two mono prompts are laid on silence, speaker 1 on
        the left, then speaker 2 on the right; two stereo prompts are concatenated.
        """
        wavs = [np.asarray(w, dtype=np.float32).reshape(-1, np.asarray(w).shape[-1]) for w in wavs]
        if not self.stereo:
            wav = np.concatenate([w.mean(axis=0, keepdims=True) if w.shape[0] != 1 else w for w in wavs], axis=1)
        elif len(wavs) == 1:
            if wavs[0].shape[0] != 2:
                raise ValueError("a merged prompt for the stereo model must have two channels")
            wav = wavs[0]
        elif all(w.shape[0] == 2 for w in wavs):
            wav = np.concatenate(wavs, axis=1)
        else:
            first, second = (w.mean(axis=0) for w in wavs)
            wav = np.zeros((2, first.size + second.size), dtype=np.float32)
            wav[0, : first.size] = first
            wav[1, first.size :] = second
        trimmed = trim_prompt(wav, self.sample_rate)
        if trimmed.shape[-1] == 0 or not np.any(trimmed):
            raise ValueError("the voice prompt is silent (nothing above -50 dBFS)")
        normed, rms = prompt_rms_normalise(trimmed, TARGET_RMS)
        features = log_mel(
            normed if self.stereo else normed.mean(axis=0, keepdims=True), self.sample_rate, self.filterbank
        )
        self._keep(prompt_wav_after_remove_silence=trimmed, fbank_out=features, prompt_rms=rms)
        return PreparedPrompt(normed, rms, features * np.float32(FEAT_SCALE))

    def _keep(self, **values: Any) -> None:
        if self.trace is not None:
            self.trace.update(values)

    def generate(
        self,
        prompt_text: str,
        prompt: PreparedPrompt,
        text: str,
        settings: GenerationSettings = GenerationSettings(),
        *,
        noise: Noise | None = None,
        trim: bool = True,
    ) -> np.ndarray:
        """Speech [C, N] float32 for ``text`` in the voices of ``prompt`` (see the module doc).

        ``noise(batch_index, shape)`` supplies each batch's initial state (default: torch.randn).
        """
        import torch

        from .model import SampleTrace

        text_tokens = self.tokenizer.tokens(_with_end_punctuation(text))
        prompt_tokens = self.tokenizer.tokens(_with_end_punctuation(prompt_text))
        if not prompt_tokens:
            raise ValueError("the prompt transcript gives no tokens")
        prompt_seconds = prompt.seconds
        token_seconds = prompt_seconds / (len(prompt_tokens) * settings.speed)
        max_tokens = int((CHUNK_SECONDS - prompt_seconds) / token_seconds)
        chunks = chunk_at_turns(text_tokens, max_tokens)
        chunk_ids = [self.tokenizer.ids(c) for c in chunks]
        prompt_ids = self.tokenizer.ids(prompt_tokens)
        batches, order = batch_chunks(chunk_ids, settings.max_duration, prompt_seconds, token_seconds)
        self._keep(
            text_punct=_with_end_punctuation(text),
            prompt_text_punct=_with_end_punctuation(prompt_text),
            chunk_max_tokens=max_tokens,
            chunked_tokens_str=chunks,
            chunked_index=order,
            batches=batches,
            batchify_args={"prompt_duration": prompt_seconds, "token_duration": token_seconds},
        )
        features = torch.from_numpy(prompt.features).to(self.device)
        draw = noise or (lambda _k, shape: torch.randn(shape))
        wavs: list[np.ndarray] = []
        with torch.inference_mode():
            for k, batch in enumerate(batches):
                trace = SampleTrace() if self.trace is not None else None
                self._keep(**{
                    f"b{k}_tokens": batch,
                    f"b{k}_prompt_tokens": [prompt_ids] * len(batch),
                    f"b{k}_cat_tokens": [prompt_ids + row for row in batch],
                    f"b{k}_tokens_padded_len": max(len(prompt_ids) + len(row) for row in batch) + 1,
                    f"b{k}_prompt_features_lens": [features.shape[0]] * len(batch),
                })  # fmt: skip
                pred, lens = self.model.sample(
                    batch,
                    prompt_ids,
                    features,
                    lambda shape, k=k: draw(k, shape),
                    num_step=settings.num_step,
                    guidance_scale=settings.guidance_scale,
                    t_shift=settings.t_shift,
                    speed=settings.speed,
                    trace=trace,
                )
                if trace is not None:
                    self._keep(**{f"b{k}_{name}": v for name, v in trace.values.items()})
                    self._keep(**{f"b{k}_pred_features": pred, f"b{k}_pred_features_lens": lens})
                for i in range(pred.shape[0]):
                    wavs.append(self._vocode(pred[i, : int(lens[i])], prompt.rms, len(wavs)))
        ordered = [wav for _, wav in sorted(zip(order, wavs, strict=True), key=lambda p: p[0])]
        self._keep(chunk_wavs=ordered)
        joined = cross_fade(ordered, round(FADE_SECONDS * self.sample_rate))
        self._keep(crossfaded_wav=joined)
        if not trim:
            return joined
        return trim_edges(Pcm16.from_float(joined, self.sample_rate)).to_float()

    def _vocode(self, mel: Any, prompt_rms: float, index: int) -> np.ndarray:
        """One chunk's features [T, C*100] -> [C, T * 256]: each 100-mel half decoded alone,
        clamped to [-1, 1], scaled back by rms/0.1 when the prompt was quiet."""
        import torch

        mel = mel.t()[None] / FEAT_SCALE  # [1, C*100, T]
        halves = mel.split(mel.shape[1] // (2 if self.stereo else 1), dim=1)
        outs = []
        for j, half in enumerate(halves):
            raw = self.vocoder(half)
            self._keep(**{f"vocoder_out{index + j}": raw})
            outs.append(raw.clamp(-1, 1))
        wav = torch.cat(outs, dim=0)
        if prompt_rms < TARGET_RMS:
            wav = wav * prompt_rms / TARGET_RMS
        return wav.float().cpu().numpy()


def load_vocos(folder: Path, *, device: str = "cpu") -> tuple[Any, np.ndarray | None]:
    """The Vocos vocoder of a ``charactr/vocos-mel-24khz`` style folder, and the mel filterbank
    its checkpoint carries (None when absent)."""
    import torch
    import yaml

    from podcast.neural.checkpoint import load_strict, read_state_dict
    from podcast.neural.vocos import Vocos, VocosConfig

    lacking = [n for n in VOCOS_FILES if not (folder / n).is_file()]
    if lacking:
        raise MissingModelError(f"Vocos files not found: {folder} lacks {', '.join(lacking)}")
    cfg = vocos_config(yaml.safe_load((folder / "config.yaml").read_text()))
    full = read_state_dict(folder / "pytorch_model.bin")
    bank = full.get("feature_extractor.mel_spec.mel_scale.fb")
    state = {k: v for k, v in full.items() if not k.startswith("feature_extractor.")}
    with torch.device("meta"):
        vocos = Vocos(cfg)
    load_strict(vocos, state, what=f"Vocos weights in {folder}")
    return vocos.to(device).eval(), (None if bank is None else bank.float().numpy())


def vocos_config(config: dict[str, Any]) -> Any:
    from podcast.neural.vocos import VocosConfig

    try:
        backbone = config["backbone"]["init_args"]
        head = config["head"]["init_args"]
        return VocosConfig(
            input_channels=int(backbone["input_channels"]),
            dim=int(backbone["dim"]),
            intermediate_dim=int(backbone["intermediate_dim"]),
            num_layers=int(backbone["num_layers"]),
            n_fft=int(head["n_fft"]),
            hop_length=int(head["hop_length"]),
            padding=head.get("padding", "same"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MissingModelError(f"Vocos config.yaml is not a vocos-mel config ({exc})") from exc


def read_model_config(folder: Path, *, stereo: bool) -> Any:
    """``DialogConfig`` from ``model.json`` and ``tokens.txt``."""
    from .model import DialogConfig

    try:
        spec = json.loads((folder / "model.json").read_text())
        feature = spec.get("feature", {})
        if feature.get("type", "vocos") != "vocos":
            raise ValueError(f"feature type {feature.get('type')!r} (only vocos is supported)")
        table = read_token_table(folder / "tokens.txt")
        tokenizer = DialogTokenizer(table)
        return DialogConfig.from_json(
            spec["model"],
            vocab_size=tokenizer.vocab_size,
            pad_id=tokenizer.pad_id,
            spk_a_id=tokenizer.spk_a_id,
            spk_b_id=tokenizer.spk_b_id,
            stereo=stereo,
        ), tokenizer, int(feature.get("sampling_rate", 24000))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise MissingModelError(f"ZipVoice-Dialog folder {folder} is not usable: {exc}") from exc


def _state(folder: Path, checkpoint: str | None) -> dict[str, Any]:
    from podcast.neural.checkpoint import read_state_dict

    names = [checkpoint] if checkpoint else ["model.pt", "model.safetensors"]
    path = next((folder / n for n in names if (folder / n).is_file()), folder / names[0])
    state = read_state_dict(path)
    if isinstance(state.get("model"), dict):
        state = state["model"]
    return {k.removeprefix("module."): v for k, v in state.items()}


def load_synthesizer(
    model_dir: Path, vocos_dir: Path, *, checkpoint: str | None = None, device: str = "cpu"
) -> DialogSynthesizer:
    """Load a model folder and a Vocos folder from disk; the Stereo variant is recognised by
    its two-stream decoder weights."""
    from podcast.neural.checkpoint import load_strict

    from .model import build_model

    lacking = model_files_missing(model_dir, checkpoint)
    if lacking:
        raise MissingModelError(f"ZipVoice-Dialog files not found: {model_dir} lacks {', '.join(lacking)}")
    state = _state(model_dir, checkpoint)
    stereo = "fm_decoder.in_proj.0.weight" in state
    cfg, tokenizer, rate = read_model_config(model_dir, stereo=stereo)
    model = build_model(cfg, device="meta")
    load_strict(model, state, what=f"ZipVoice-Dialog weights in {model_dir}")
    model = model.to(device).eval()
    vocoder, bank = load_vocos(vocos_dir, device=device)
    return DialogSynthesizer(model, vocoder, tokenizer, rate, bank)
