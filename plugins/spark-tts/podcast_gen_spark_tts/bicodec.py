"""BiCodec: the Spark-TTS audio codec (semantic tokens at 50 Hz + 32 global speaker tokens).

* :meth:`BiCodec.tokenize`: wav2vec2 features -> semantic ids; reference-clip mel -> global ids.
* :meth:`BiCodec.detokenize`: semantic + global ids -> 16 kHz waveform.

Parameter and buffer names follow the published ``BiCodec/model.safetensors`` (weight norm as
``weight_g``/``weight_v``; :func:`load_bicodec` folds it into plain weights after a strict load).
The ConvNeXt backbones are :class:`podcast.neural.vocos.VocosBackbone`; the pre-net's backbone
is the same block with adaptive LayerNorms driven by the d-vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations, parametrize

from podcast.neural.checkpoint import load_strict, manifest, read_state_dict, weight_norm_keys
from podcast.neural.mel import mel_filters, spectrogram
from podcast.neural.vocos import ConvNeXtBlock, VocosBackbone, VocosConfig

from .speaker import SpeakerEncoder

SNAKE_EPS = 1e-9
NORM_EPS = 1e-6


def _backbone(cin: int, dim: int, inter: int, layers: int) -> VocosBackbone:
    return VocosBackbone(VocosConfig(input_channels=cin, dim=dim, intermediate_dim=inter, num_layers=layers))


class TripleSkip(nn.Module):
    """The reference's ratio-1 SamplingBlock: [B, T, C] -> 3 * x as [B, C, T] (conv, skip and
    repeat paths are all the identity and are summed)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.transpose(1, 2)
        return x + x + x


def _resamplers(ratios: list[int], dim: int, inter: int) -> nn.Sequential:
    if any(r != 1 for r in ratios):
        raise ValueError(f"BiCodec: sample_ratios {ratios} are not supported (the published model uses [1, 1])")
    return nn.Sequential(*(nn.Sequential(TripleSkip(), _backbone(dim, dim, inter, 2)) for _ in ratios))


class FeatEncoder(nn.Module):
    """wav2vec2 features [B, H, T] -> latent [B, out, T]."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        dim, inter = cfg["vocos_dim"], cfg["vocos_intermediate_dim"]
        self.encoder = _backbone(cfg["input_channels"], dim, inter, cfg["vocos_num_layers"])
        self.downsample = _resamplers(list(cfg.get("sample_ratios", [1, 1])), dim, inter)
        self.project = nn.Linear(dim, cfg["out_channels"])

    def forward(self, x: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        x = self.encoder(x)
        _record(trace, "enc_backbone_out", x)
        x = self.downsample(x)
        _record(trace, "enc_downsample_out", x)
        return self.project(x).transpose(1, 2)


class AdaLayerNorm(nn.Module):
    """LayerNorm without affine, then ``* scale(c) + shift(c)``."""

    def __init__(self, cond: int, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.scale = nn.Linear(cond, dim)
        self.shift = nn.Linear(cond, dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = F.layer_norm(x, (self.dim,), eps=NORM_EPS)
        return x * self.scale(cond).unsqueeze(1) + self.shift(cond).unsqueeze(1)


class AdaConvNeXtBlock(ConvNeXtBlock):
    """:class:`ConvNeXtBlock` whose norm is an :class:`AdaLayerNorm`."""

    def __init__(self, dim: int, inter: int, cond: int, layer_scale: float) -> None:
        super().__init__(dim, inter, layer_scale)
        self.norm = AdaLayerNorm(cond, dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        h = self.norm(self.dwconv(x).transpose(1, 2), cond)
        h = self.gamma * self.pwconv2(F.gelu(self.pwconv1(h)))
        return x + h.transpose(1, 2)


class AdaVocosBackbone(nn.Module):
    """Vocos backbone whose initial and block norms are adaptive; returns [B, T, D]."""

    def __init__(self, cin: int, dim: int, inter: int, layers: int, cond: int) -> None:
        super().__init__()
        self.embed = nn.Conv1d(cin, dim, kernel_size=7, padding=3)
        self.norm = AdaLayerNorm(cond, dim)
        self.convnext = nn.ModuleList(AdaConvNeXtBlock(dim, inter, cond, 1.0 / layers) for _ in range(layers))
        self.final_layer_norm = nn.LayerNorm(dim, eps=NORM_EPS)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = self.norm(self.embed(x).transpose(1, 2), cond).transpose(1, 2)
        for block in self.convnext:
            x = block(x, cond)
        return self.final_layer_norm(x.transpose(1, 2))


class FeatDecoder(nn.Module):
    """The pre-net (conditioned on the d-vector) and the post-net (unused at inference)."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        dim, inter, layers = cfg["vocos_dim"], cfg["vocos_intermediate_dim"], cfg["vocos_num_layers"]
        self.linear_pre = nn.Linear(cfg["input_channels"], dim)
        self.downsample = _resamplers(list(cfg.get("sample_ratios", [1, 1])), dim, inter)
        cond = cfg.get("condition_dim")
        self.vocos_backbone = (
            AdaVocosBackbone(dim, dim, inter, layers, cond) if cond else _backbone(dim, dim, inter, layers)
        )
        self.linear = nn.Linear(dim, cfg["out_channels"])
        self.tanh = bool(cfg.get("use_tanh_at_final", False))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        x = self.downsample(self.linear_pre(x.transpose(1, 2))).transpose(1, 2)
        x = self.vocos_backbone(x, cond) if cond is not None else self.vocos_backbone(x)
        x = self.linear(x).transpose(1, 2)
        return torch.tanh(x) if self.tanh else x


class FactorizedVQ(nn.Module):
    """Semantic quantizer: 1x1 conv down to ``codebook_dim``, cosine nearest codebook row;
    decoding looks up the raw (un-normalised) rows and projects back up."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        dim, size, cdim = cfg["input_dim"], cfg["codebook_size"], cfg["codebook_dim"]
        self.in_project = _wn(nn.Conv1d(dim, cdim, kernel_size=1))
        self.out_project = _wn(nn.Conv1d(cdim, dim, kernel_size=1))
        self.codebook = nn.Embedding(size, cdim)
        self.register_buffer("cluster_size", torch.zeros(size))

    def tokenize(self, z: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        """z [B, D, T] -> ids [B, T]."""
        z_e = self.in_project(z)
        _record(trace, "z_e", z_e)
        enc = F.normalize(z_e.transpose(1, 2).reshape(-1, z_e.shape[1]))
        book = F.normalize(self.codebook.weight)
        dist = enc.pow(2).sum(1, keepdim=True) - 2 * enc @ book.t() + book.pow(2).sum(1, keepdim=True).t()
        if trace is not None:
            top2 = (-dist).topk(2, dim=1).values
            trace["semantic_top2_gap"] = top2[:, 0] - top2[:, 1]
        return (-dist).max(1)[1].reshape(z_e.shape[0], -1)

    def detokenize(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, T] -> z_q [B, D, T]."""
        return self.out_project(F.embedding(ids, self.codebook.weight).transpose(1, 2))


class Snake1d(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(1, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + (self.alpha + SNAKE_EPS).reciprocal() * torch.sin(self.alpha * x).pow(2)


def _wn(module: nn.Module) -> nn.Module:
    return parametrizations.weight_norm(module, dim=0)


class ResidualUnit(nn.Module):
    def __init__(self, dim: int, dilation: int) -> None:
        super().__init__()
        pad = (6 * dilation) // 2
        self.block = nn.Sequential(
            Snake1d(dim),
            _wn(nn.Conv1d(dim, dim, 7, dilation=dilation, padding=pad)),
            Snake1d(dim),
            _wn(nn.Conv1d(dim, dim, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class DecoderBlock(nn.Module):
    """Snake -> transposed conv (upsampling by ``stride``) -> residual units (dilations 1, 3, 9)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            Snake1d(cin),
            _wn(nn.ConvTranspose1d(cin, cout, kernel, stride=stride, padding=(kernel - stride) // 2)),
            *(ResidualUnit(cout, d) for d in (1, 3, 9)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class WaveGenerator(nn.Module):
    """DAC-style generator: conv, upsampling blocks (channels halve), Snake, conv to 1, tanh."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        ch = cfg["channels"]
        layers: list[nn.Module] = [_wn(nn.Conv1d(cfg["input_channel"], ch, 7, padding=3))]
        for i, (kernel, rate) in enumerate(zip(cfg["kernel_sizes"], cfg["rates"], strict=True)):
            layers.append(DecoderBlock(ch // 2**i, ch // 2 ** (i + 1), kernel, rate))
        out = ch // 2 ** len(cfg["rates"])
        layers += [Snake1d(out), _wn(nn.Conv1d(out, 1, 7, padding=3)), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        self.hop = 1
        for rate in cfg["rates"]:
            self.hop *= rate

    def forward(self, x: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        for index, layer in enumerate(self.model):
            x = layer(x)
            _record(trace, f"detok_wavegen_{index}", x)
        return x


class MelTransform(nn.Module):
    """The speaker mel: linear magnitude, Slaney scale and norm, as torchaudio's
    ``MelSpectrogram`` with buffers ``spectrogram.window`` and ``mel_scale.fb``. Like the
    reference, it uses the buffers stored in the weights when the file has them; otherwise
    :func:`load_bicodec` fills them from ``mel_params``."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__()
        self.params = dict(params)
        self.spectrogram = nn.Module()
        self.mel_scale = nn.Module()
        self.spectrogram.register_buffer("window", torch.empty(params["win_length"]))
        self.mel_scale.register_buffer("fb", torch.empty(params["n_fft"] // 2 + 1, params["num_mels"]))

    def computed_buffers(self) -> dict[str, torch.Tensor]:
        p = self.params
        bank = mel_filters(p["n_fft"], p["num_mels"], p["sample_rate"], f_min=p["mel_fmin"], f_max=p["mel_fmax"])
        return {
            "mel_transformer.spectrogram.window": torch.hann_window(p["win_length"]),
            "mel_transformer.mel_scale.fb": torch.from_numpy(bank).float(),
        }

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """wav [B, N] -> mel [B, n_mels, frames]."""
        p = self.params
        spec = spectrogram(
            wav, n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"], power=1.0,
            window=self.spectrogram.window,
        )  # fmt: skip
        return (spec.transpose(-1, -2) @ self.mel_scale.fb).transpose(-1, -2)


class BiCodec(nn.Module):
    """The codec; build it from the ``audio_tokenizer`` section of ``BiCodec/config.yaml``."""

    def __init__(self, cfg: Mapping[str, Any]) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = FeatEncoder(cfg["encoder"])
        self.quantizer = FactorizedVQ(cfg["quantizer"])
        self.speaker_encoder = SpeakerEncoder(cfg["speaker_encoder"])
        self.prenet = FeatDecoder(cfg["prenet"])
        self.postnet = FeatDecoder(cfg["postnet"])
        self.decoder = WaveGenerator(cfg["decoder"])
        self.mel_transformer = MelTransform(cfg["mel_params"])

    @property
    def token_num(self) -> int:
        return self.speaker_encoder.token_num

    @property
    def global_vocab(self) -> int:
        return self.speaker_encoder.quantizer.codebook_size(self.speaker_encoder.quantizer.levels)

    @property
    def semantic_vocab(self) -> int:
        return self.quantizer.codebook.num_embeddings

    def tokenize(
        self, feats: torch.Tensor, ref_clip: torch.Tensor, trace: dict | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """wav2vec2 mix [B, T, H] and reference clip [B, N] -> (semantic [B, T], global [B, K])."""
        z = self.encoder(feats.transpose(1, 2), trace)
        _record(trace, "z", z)
        semantic = self.quantizer.tokenize(z, trace)
        mel = self.mel_transformer(ref_clip)
        _record(trace, "mel", mel)
        return semantic, self.speaker_encoder.tokenize(mel)

    def d_vector(self, global_ids: torch.Tensor) -> torch.Tensor:
        return self.speaker_encoder.detokenize(global_ids)

    def detokenize(self, semantic: torch.Tensor, global_ids: torch.Tensor, trace: dict | None = None) -> torch.Tensor:
        """semantic [B, T] + global [B, K] -> waveform [B, T * hop]."""
        z_q = self.quantizer.detokenize(semantic)
        d_vector = self.d_vector(global_ids)
        x = self.prenet(z_q, d_vector)
        for key, value in (("detok_z_q", z_q), ("detok_d_vector", d_vector), ("detok_prenet_out", x)):
            _record(trace, key, value)
        return self.decoder(x + d_vector.unsqueeze(-1), trace).squeeze(1)


def _record(trace: dict | None, key: str, value: torch.Tensor) -> None:
    if trace is not None:
        trace[key] = value.detach()


def read_config(path: Path) -> dict:
    """A YAML file as a dict (``BiCodec/config.yaml`` or the top-level ``config.yaml``)."""
    import yaml

    from podcast import MissingModelError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MissingModelError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise MissingModelError(f"{path} is not a YAML mapping")
    return data


def bicodec_config(folder: Path) -> dict:
    """The ``audio_tokenizer`` section of ``<folder>/config.yaml``."""
    from podcast import MissingModelError

    data = read_config(folder / "config.yaml")
    if "audio_tokenizer" not in data:
        raise MissingModelError(f"{folder / 'config.yaml'} has no audio_tokenizer section")
    return data["audio_tokenizer"]


def legacy_manifest(model: nn.Module) -> dict[str, list[int]]:
    """Names and shapes as the published file spells them (``weight_g``/``weight_v``)."""
    return weight_norm_keys(manifest(model), "legacy")  # type: ignore[arg-type,return-value]


def load_bicodec(folder: Path, device: str = "cpu") -> BiCodec:
    """Build BiCodec from ``<folder>/config.yaml``, load ``model.safetensors`` strictly (the mel
    buffers may be absent: then they are computed), fold weight norm and return it in eval mode, float32."""
    model = BiCodec(bicodec_config(folder))
    state = {k: v.float() if v.is_floating_point() else v for k, v in read_state_dict(folder / "model.safetensors").items()}
    for name, value in model.mel_transformer.computed_buffers().items():
        state.setdefault(name, value)
    load_strict(model, weight_norm_keys(state, "parametrizations"), what=f"{folder / 'model.safetensors'}")
    for module in list(model.modules()):
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    return model.eval().to(device)
