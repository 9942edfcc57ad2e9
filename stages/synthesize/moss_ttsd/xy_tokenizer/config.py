"""Typed, frozen configuration of the XY-Tokenizer codec (MOSS-TTSD v0.5/v0.7).

The reference ships its configuration as a YAML file whose ``generator_params`` mapping holds
one keyword dictionary per sub-module. :func:`parse_generator_params` turns that mapping into
:class:`CodecConfig`; missing keys take the reference constructors' defaults. No torch here, so
the configuration can be read cheaply (e.g. by ``--help`` paths or planners).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from podcast import ConfigError

__all__ = [
    "AdapterConfig",
    "CodecConfig",
    "DecoderConfig",
    "EncoderConfig",
    "MelConfig",
    "QuantizerConfig",
    "VocosConfig",
    "load_config_file",
    "parse_generator_params",
]

#: Keys the reference accepts but that only matter for training or are recomputed.
_IGNORED_KEYS = frozenset(
    {
        "n_samples",
        "nb_max_frames",
        "padding_side",
        "return_attention_mask",
        "commitment",
        "quantizer_dropout",
        "decay",
        "epsilon",
        "threshold_ema_dead",
        "kmeans_init",
        "kmeans_iters",
        "skip_rvq_ratio",
        "attn_type",
        "scale_embedding",
    }
)


@dataclass(frozen=True, slots=True)
class MelConfig:
    """Whisper-style log-mel front end (``sampling_rate`` Hz in, one frame per ``hop_length``)."""

    feature_size: int = 80
    sampling_rate: int = 16000
    hop_length: int = 160
    chunk_length: int = 30
    n_fft: int = 400
    padding_value: float = 0.0
    dither: float = 0.0
    max_frequency: float | None = None

    @property
    def n_samples(self) -> int:
        """Samples in one feature window (the reference always pads to this length)."""
        return self.chunk_length * self.sampling_rate

    @property
    def n_frames(self) -> int:
        """Mel frames in one full window (3000 for 30 s at hop 160)."""
        return self.n_samples // self.hop_length


@dataclass(frozen=True, slots=True)
class _FrameTransformerConfig:
    """Fields shared by the mel-frame encoder and decoder (same names as the reference YAML)."""

    num_mel_bins: int = 128
    sampling_rate: int = 16000
    hop_length: int = 160
    stride_size: int = 2
    kernel_size: int = 3
    d_model: int = 1280
    max_audio_seconds: int = 30
    activation_function: str = "gelu"

    @property
    def max_source_positions(self) -> int:
        """Length of the sinusoidal position table (frames after the strided conv)."""
        return (self.max_audio_seconds * self.sampling_rate // self.hop_length) // self.stride_size


@dataclass(frozen=True, slots=True)
class EncoderConfig(_FrameTransformerConfig):
    """Conv front end + transformer over mel frames (``OmniAudioEncoder``)."""

    encoder_layers: int = 32
    encoder_attention_heads: int = 20
    encoder_ffn_dim: int = 5120


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """Plain transformer with optional in/out projections (``Transformer``)."""

    input_dim: int = 1280
    d_model: int = 1280
    output_dim: int = 1280
    max_source_positions: int = 1500
    encoder_layers: int = 32
    encoder_attention_heads: int = 20
    encoder_ffn_dim: int = 5120
    activation_function: str = "gelu"


@dataclass(frozen=True, slots=True)
class DecoderConfig(_FrameTransformerConfig):
    """Transformer + transposed convs back to mel-like frames (``OmniAudioDecoder``)."""

    decoder_layers: int = 32
    decoder_attention_heads: int = 20
    decoder_ffn_dim: int = 5120


@dataclass(frozen=True, slots=True)
class QuantizerConfig:
    """Residual VQ: ``num_quantizers`` codebooks of ``codebook_size`` entries."""

    input_dim: int = 1280
    rvq_dim: int | None = None
    output_dim: int | None = None
    num_quantizers: int = 32
    codebook_size: int = 1024
    codebook_dim: int = 8

    @property
    def rvq_width(self) -> int:
        """Width the residual lives in (defaults to ``input_dim``)."""
        return self.input_dim if self.rvq_dim is None else self.rvq_dim

    @property
    def out_width(self) -> int:
        """Width after the output projection (defaults to ``input_dim``)."""
        return self.input_dim if self.output_dim is None else self.output_dim


@dataclass(frozen=True, slots=True)
class VocosConfig:
    """ConvNeXt backbone + ISTFT head producing the waveform."""

    input_channels: int = 128
    dim: int = 512
    intermediate_dim: int = 4096
    num_layers: int = 30
    n_fft: int = 640
    hop_size: int = 160
    padding: str = "same"


@dataclass(frozen=True, slots=True)
class CodecConfig:
    """The whole codec: sample rates, frame rates and every sub-module's configuration."""

    input_sample_rate: int
    output_sample_rate: int
    encoder_downsample_rate: int
    decoder_upsample_rate: int
    mel: MelConfig
    semantic_encoder: EncoderConfig
    semantic_encoder_adapter: AdapterConfig
    acoustic_encoder: EncoderConfig
    pre_rvq_adapter: AdapterConfig
    downsample_d_model: int
    downsample_avg_pooler: int
    quantizer: QuantizerConfig
    post_rvq_adapter: AdapterConfig
    upsample_d_model: int
    upsample_stride: int
    acoustic_decoder: DecoderConfig
    vocos: VocosConfig
    source: str = field(default="", compare=False)

    @property
    def frame_rate(self) -> float:
        """Code frames per second (12.5 for every published config)."""
        return self.input_sample_rate / self.encoder_downsample_rate

    @property
    def num_quantizers(self) -> int:
        """Codebooks per frame (8 for MOSS-TTSD)."""
        return self.quantizer.num_quantizers

    @property
    def max_decode_frames(self) -> int:
        """Most code frames one decoder pass accepts (the post-RVQ position table, 375)."""
        return self.post_rvq_adapter.max_source_positions

    @property
    def window_frames(self) -> int:
        """Code frames in one 30 s feature window (375)."""
        return self.mel.n_samples // self.encoder_downsample_rate


def _build(cls: type, raw: Mapping[str, Any] | None, where: str) -> Any:
    """Instantiate a config dataclass from a keyword mapping, rejecting unknown keys."""
    raw = dict(raw or {})
    names = {f.name for f in fields(cls)}
    unknown = sorted(k for k in raw if k not in names and k not in _IGNORED_KEYS)
    if unknown:
        raise ConfigError(f"XY-Tokenizer config {where}: unsupported keys {unknown}.")
    return cls(**{k: v for k, v in raw.items() if k in names})


def _check(cfg: CodecConfig) -> None:
    """Reject configurations the reference code could not run (one-line reasons)."""
    per_frame = cfg.upsample_stride * cfg.acoustic_decoder.stride_size * cfg.vocos.hop_size
    if per_frame != cfg.decoder_upsample_rate:
        raise ConfigError(
            f"XY-Tokenizer config: decoder_upsample_rate {cfg.decoder_upsample_rate} != "
            f"upsample stride x decoder stride x vocos hop = {per_frame}."
        )
    if cfg.vocos.padding not in ("same", "center"):
        raise ConfigError(
            f"XY-Tokenizer config: vocos padding {cfg.vocos.padding!r} is not 'same'/'center'."
        )
    for name in ("semantic_encoder", "acoustic_encoder"):
        enc = getattr(cfg, name)
        if enc.d_model % enc.encoder_attention_heads:
            raise ConfigError(f"XY-Tokenizer config {name}: d_model not divisible by heads.")


def parse_generator_params(params: Mapping[str, Any], source: str = "") -> CodecConfig:
    """Build a :class:`CodecConfig` from a reference ``generator_params`` mapping.

    Accepts the full YAML/JSON document too (a mapping with a ``generator_params`` key).
    """
    if "generator_params" in params:
        params = params["generator_params"]
    if "quantizer_kwargs" not in params:
        raise ConfigError(
            f"XY-Tokenizer config {source or '(mapping)'}: no generator_params/quantizer_kwargs."
        )
    vocos = params.get("vocos_kwargs") or {}
    if vocos.get("adanorm_num_embeddings") is not None:
        raise ConfigError(
            "XY-Tokenizer config: adanorm_num_embeddings (bandwidth conditioning) is unsupported."
        )
    vocos = {k: v for k, v in vocos.items() if k != "adanorm_num_embeddings"}
    in_sr = int(params.get("input_sample_rate", 16000))
    out_sr = int(params.get("output_sample_rate", 24000))
    down = int(params.get("encoder_downsample_rate", 1280))
    ds, us = dict(params.get("downsample_kwargs") or {}), dict(params.get("upsample_kwargs") or {})
    cfg = CodecConfig(
        input_sample_rate=in_sr,
        output_sample_rate=out_sr,
        encoder_downsample_rate=down,
        decoder_upsample_rate=int(params.get("decoder_upsample_rate", out_sr * down // in_sr)),
        mel=_build(MelConfig, params.get("feature_extractor_kwargs"), "feature_extractor_kwargs"),
        semantic_encoder=_build(
            EncoderConfig, params.get("semantic_encoder_kwargs"), "semantic_encoder_kwargs"
        ),
        semantic_encoder_adapter=_build(
            AdapterConfig,
            params.get("semantic_encoder_adapter_kwargs"),
            "semantic_encoder_adapter_kwargs",
        ),
        acoustic_encoder=_build(
            EncoderConfig, params.get("acoustic_encoder_kwargs"), "acoustic_encoder_kwargs"
        ),
        pre_rvq_adapter=_build(
            AdapterConfig, params.get("pre_rvq_adapter_kwargs"), "pre_rvq_adapter_kwargs"
        ),
        downsample_d_model=int(ds.get("d_model", 1280)),
        downsample_avg_pooler=int(ds.get("avg_pooler", 4)),
        quantizer=_build(QuantizerConfig, params.get("quantizer_kwargs"), "quantizer_kwargs"),
        post_rvq_adapter=_build(
            AdapterConfig, params.get("post_rvq_adapter_kwargs"), "post_rvq_adapter_kwargs"
        ),
        upsample_d_model=int(us.get("d_model", 1280)),
        upsample_stride=int(us.get("stride", 4)),
        acoustic_decoder=_build(
            DecoderConfig, params.get("acoustic_decoder_kwargs"), "acoustic_decoder_kwargs"
        ),
        vocos=_build(VocosConfig, vocos, "vocos_kwargs"),
        source=source,
    )
    _check(cfg)
    return cfg


def load_config_file(path: str | Path) -> CodecConfig:
    """Read a reference YAML (``*.yaml``/``*.yml``) or JSON configuration file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml  # PyYAML ships with transformers; only needed for the reference YAML files

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ConfigError(f"XY-Tokenizer config {path}: expected a mapping at the top level.")
    return parse_generator_params(data, source=str(path))
