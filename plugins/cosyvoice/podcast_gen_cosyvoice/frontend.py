"""Prompt audio -> what the models need: speech tokens, speaker embedding and prompt mel.

* 16 kHz -> Whisper log-mel (128 bins) -> ``speech_tokenizer_v2.onnx`` -> 25 Hz tokens;
* 16 kHz -> Kaldi fbank (80 bins), mean removed -> ``campplus.onnx`` -> 192-d embedding;
* 24 kHz -> the flow's mel (reflect pad, n_fft 1920, hop 480, Slaney 80 bins, log) at 50 Hz;
* alignment: ``L = min(frames // 2, tokens)``; keep 2L mel frames and L tokens.

Both ONNX files run through onnxruntime as the user's folder provides them (inputs by position,
output 0 flattened).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from podcast import SynthesisError
from podcast.neural.mel import kaldi_fbank, mel_filters, spectrogram, whisper_log_mel
from podcast.neural.resample import sinc_resample

MAX_PROMPT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class MelSettings:
    """The yaml's ``feat_extractor`` (Matcha ``mel_spectrogram``)."""

    n_fft: int = 1920
    num_mels: int = 80
    sampling_rate: int = 24000
    hop_size: int = 480
    win_size: int = 1920
    fmin: float = 0.0
    fmax: float | None = 8000.0

    @classmethod
    def from_yaml(cls, cfg: dict) -> MelSettings:
        keys = ("n_fft", "num_mels", "sampling_rate", "hop_size", "win_size", "fmin", "fmax")
        return cls(**{k: cfg[k] for k in keys if k in cfg})


def prompt_mel(wav24: torch.Tensor, s: MelSettings) -> torch.Tensor:
    """``[frames, 80]`` log mel of a 24 kHz waveform ``[1, N]`` (frames = N / hop)."""
    pad = (s.n_fft - s.hop_size) // 2
    x = torch.nn.functional.pad(wav24[:, None], (pad, pad), mode="reflect")[:, 0]
    mag = spectrogram(x, n_fft=s.n_fft, hop_length=s.hop_size, win_length=s.win_size, center=False, eps=1e-9)
    bank = mel_filters(s.n_fft, s.num_mels, s.sampling_rate, f_min=s.fmin, f_max=s.fmax)
    mel = torch.from_numpy(bank.T).float() @ mag[0]
    return torch.log(mel.clamp(min=1e-5)).T


def whisper_features(wav16: torch.Tensor) -> torch.Tensor:
    return whisper_log_mel(wav16, n_mels=128)


def fbank_features(wav16: torch.Tensor) -> torch.Tensor:
    feat = kaldi_fbank(wav16[0], num_mel_bins=80, dither=0.0, sample_rate=16000)
    return feat - feat.mean(dim=0, keepdim=True)


class OnnxFrontend:
    """The speech tokenizer and CAM++ sessions (CPU)."""

    def __init__(self, tokenizer_path: Path, campplus_path: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        try:
            self.tokenizer = ort.InferenceSession(str(tokenizer_path), opts, providers=providers)
            self.campplus = ort.InferenceSession(str(campplus_path), opts, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise SynthesisError(f"cannot open the CosyVoice frontend models: {str(exc).splitlines()[0]}") from exc

    def speech_tokens(self, mel128: torch.Tensor) -> np.ndarray:
        inputs = self.tokenizer.get_inputs()
        feed = {inputs[0].name: mel128.numpy().astype(np.float32),
                inputs[1].name: np.array([mel128.shape[2]], dtype=np.int32)}  # fmt: skip
        return np.asarray(self.tokenizer.run(None, feed)[0]).reshape(-1).astype(np.int64)

    def embedding(self, fbank: torch.Tensor) -> np.ndarray:
        name = self.campplus.get_inputs()[0].name
        out = self.campplus.run(None, {name: fbank[None].numpy().astype(np.float32)})[0]
        return np.asarray(out, dtype=np.float32).reshape(1, -1)


@dataclass(frozen=True)
class PromptFeatures:
    """One voice's prompt, computed once: tokens [L], mel [2L, 80], embedding [1, 192]."""

    tokens: torch.Tensor
    mel: torch.Tensor
    embedding: torch.Tensor


def prompt_features(samples: np.ndarray, rate: int, onnx: OnnxFrontend, mel: MelSettings) -> PromptFeatures:
    """Features of a mono prompt (any rate >= 16 kHz), aligned as the reference aligns them."""
    if rate < 16000:
        raise SynthesisError(f"a CosyVoice voice prompt needs at least 16 kHz audio, not {rate} Hz")
    if samples.size / rate > MAX_PROMPT_SECONDS:
        raise SynthesisError(f"a CosyVoice voice prompt must be at most {MAX_PROMPT_SECONDS} s long; trim it")
    wav = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
    wav16 = sinc_resample(wav, rate, 16000)
    tokens = torch.from_numpy(onnx.speech_tokens(whisper_features(wav16)))
    embedding = torch.from_numpy(onnx.embedding(fbank_features(wav16)))
    feat = prompt_mel(sinc_resample(wav, rate, mel.sampling_rate), mel)
    n = min(feat.shape[0] // 2, tokens.shape[0])
    if n == 0:
        raise SynthesisError("the CosyVoice voice prompt is too short to give any speech tokens")
    return PromptFeatures(tokens[:n], feat[: 2 * n], embedding)
