"""Reference audio -> (global, semantic) ids and ids -> waveform, as ``BiCodecTokenizer`` does.

* reading: first channel, soxr VHQ resampling to the model rate (float64);
* volume normalisation (coefficient 0.2, with the reference's quirk of reusing the magnitudes
  sorted before the quiet-audio boost);
* the reference clip for the speaker path: the first ``ref_segment_duration`` seconds rounded
  down to the latent hop, a shorter file tiled whole;
* wav2vec2 features of the whole file: (hidden_states[11] + [14] + [16]) / 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .bicodec import BiCodec, load_bicodec, read_config

W2V_LAYERS = (11, 14, 16)
VOLUME_COEFF = 0.2


def read_reference(path: Path, rate: int) -> np.ndarray:
    """Mono float64 samples of ``path`` at ``rate`` (first channel kept)."""
    import soundfile as sf
    import soxr

    from podcast import SynthesisError

    try:
        audio, sr = sf.read(str(path))
    except (OSError, RuntimeError) as exc:
        raise SynthesisError(f"cannot read reference audio {path}: {str(exc).splitlines()[0]}") from exc
    if audio.ndim > 1:
        audio = audio[:, 0]
    if sr != rate:
        audio = soxr.resample(audio, sr, rate, quality="VHQ")
    if audio.size == 0:
        raise SynthesisError(f"reference audio {path} is empty")
    return np.asarray(audio, dtype=np.float64)


def normalize_volume(audio: np.ndarray, coeff: float = VOLUME_COEFF) -> np.ndarray:
    """The reference's loudness rule (see the module docstring)."""
    magnitudes = np.sort(np.abs(audio))
    if magnitudes[-1] < 0.1:
        audio = audio / max(magnitudes[-1], 1e-3) * 0.1
    magnitudes = magnitudes[magnitudes > 0.01]
    count = magnitudes.shape[0]
    if count <= 10:
        return audio
    volume = np.mean(magnitudes[int(0.9 * count) : int(0.99 * count)])
    audio = audio * np.clip(coeff / volume, a_min=0.1, a_max=10)
    peak = np.max(np.abs(audio))
    return audio / peak if peak > 1 else audio


def reference_clip(audio: np.ndarray, length: int) -> np.ndarray:
    """The first ``length`` samples; a shorter file is tiled whole and cut."""
    if length > len(audio):
        audio = np.tile(audio, length // len(audio) + 1)
    return audio[:length]


def wav2vec2_inputs(audio: np.ndarray) -> np.ndarray:
    """Wav2Vec2FeatureExtractor's normalisation: float32, zero mean, unit variance (+1e-7)."""
    x = np.asarray(audio, dtype=np.float32)
    return (x - x.mean()) / np.sqrt(x.var() + 1e-7)


@dataclass(frozen=True, slots=True)
class CodecSettings:
    """The top-level ``config.yaml`` values inference reads."""

    sample_rate: int
    ref_segment_duration: float
    latent_hop_length: int
    volume_normalize: bool

    @property
    def clip_samples(self) -> int:
        return int(self.sample_rate * self.ref_segment_duration) // self.latent_hop_length * self.latent_hop_length

    @classmethod
    def read(cls, path: Path) -> CodecSettings:
        from podcast import MissingModelError

        data = read_config(path)
        try:
            return cls(
                int(data["sample_rate"]),
                float(data["ref_segment_duration"]),
                int(data["latent_hop_length"]),
                bool(data.get("volume_normalize", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MissingModelError(f"{path} lacks or mangles {exc}; it is not a Spark-TTS config.yaml") from exc


def load_wav2vec2(folder: Path, device: str = "cpu") -> Any:
    """The wav2vec2 encoder from a (pre-training) checkpoint folder, local files only, float32,
    truncated after the deepest layer the mix reads (deeper layers are never used)."""
    from transformers import Wav2Vec2Model

    model = Wav2Vec2Model.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    keep = max(W2V_LAYERS) + 1
    if len(model.encoder.layers) > keep:
        model.encoder.layers = model.encoder.layers[:keep]
    return model.eval().to(device)


class SparkCodec:
    """BiCodec plus wav2vec2 plus the reference-clip settings of one model folder."""

    def __init__(self, folder: Path, device: str = "cpu", *, wav2vec2: bool = True) -> None:
        self.folder = folder
        self.device = device
        self.settings = CodecSettings.read(folder / "config.yaml")
        self.model: BiCodec = load_bicodec(folder / "BiCodec", device)
        self._w2v = load_wav2vec2(folder / "wav2vec2-large-xlsr-53", device) if wav2vec2 else None

    @property
    def rate(self) -> int:
        return self.settings.sample_rate

    def prepare(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        """(whole normalised file, reference clip) of a reference audio file."""
        audio = read_reference(path, self.rate)
        if self.settings.volume_normalize:
            audio = normalize_volume(audio)
        return audio, reference_clip(audio, self.settings.clip_samples)

    @torch.inference_mode()
    def features(self, audio: np.ndarray, trace: dict | None = None) -> torch.Tensor:
        """wav2vec2 mix [1, T, H] of the whole (normalised) file."""
        if self._w2v is None:
            self._w2v = load_wav2vec2(self.folder / "wav2vec2-large-xlsr-53", self.device)
        inputs = torch.from_numpy(wav2vec2_inputs(audio)).unsqueeze(0).to(self.device)
        hidden = self._w2v(inputs, output_hidden_states=True).hidden_states
        if trace is not None:
            trace["w2v_input_values"] = inputs
            trace["w2v_hidden_states"] = torch.cat(hidden, dim=0)
        return sum(hidden[i] for i in W2V_LAYERS) / len(W2V_LAYERS)

    @torch.inference_mode()
    def tokenize(self, path: Path, trace: dict | None = None) -> tuple[list[int], list[int]]:
        """(global ids, semantic ids) of a reference audio file."""
        audio, clip = self.prepare(path)
        feats = self.features(audio, trace)
        ref = torch.from_numpy(clip).unsqueeze(0).float().to(self.device)
        semantic, global_ids = self.model.tokenize(feats, ref, trace)
        return global_ids[0].tolist(), semantic[0].tolist()

    @torch.inference_mode()
    def detokenize(self, global_ids: list[int], semantic_ids: list[int]) -> np.ndarray:
        """Float32 waveform at :attr:`rate` for one utterance."""
        g = torch.tensor([global_ids], dtype=torch.int64, device=self.device)
        s = torch.tensor([semantic_ids], dtype=torch.int64, device=self.device)
        return self.model.detokenize(s, g)[0].float().cpu().numpy()
