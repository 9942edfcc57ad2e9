"""The three published XY-Tokenizer configurations, as ``generator_params`` mappings.

Values are the facts of the reference YAML files (``legacy/v0.7/XY_Tokenizer/config/``):
``MOSS_TTSD_tokenizer`` (v0.7, 32 kHz), ``xy_tokenizer_32k_config`` (32 kHz) and
``xy_tokenizer_config`` (v0.5, 24 kHz). The two 32 kHz files describe the same architecture.
Useful when a checkpoint arrives without its YAML, and for building the model on the meta device.
"""

from __future__ import annotations

from typing import Any

from .config import CodecConfig, parse_generator_params

__all__ = ["PRESETS", "preset_config", "preset_params"]

_D = 768  # transformer width of every full-size sub-module
_HEADS = 12
_FFN = 3072


def _encoder(prefix: str) -> dict[str, Any]:
    """Keyword mapping of an OmniAudioEncoder (prefix "encoder") or OmniAudioDecoder ("decoder")."""
    return {
        "num_mel_bins": 80,
        "sampling_rate": 16000,
        "hop_length": 160,
        "stride_size": 2,
        "kernel_size": 3,
        "d_model": _D,
        "scale_embedding": False,
        "max_audio_seconds": 30,
        f"{prefix}_layers": 12,
        f"{prefix}_attention_heads": _HEADS,
        f"{prefix}_ffn_dim": _FFN,
        "activation_function": "gelu",
    }


def _adapter(input_dim: int, output_dim: int, positions: int) -> dict[str, Any]:
    return {
        "input_dim": input_dim,
        "output_dim": output_dim,
        "d_model": _D,
        "max_source_positions": positions,
        "encoder_layers": 4,
        "encoder_attention_heads": _HEADS,
        "encoder_ffn_dim": _FFN,
    }


def _full_size(output_sample_rate: int, upsample_rate: int, n_fft: int, hop: int) -> dict[str, Any]:
    """generator_params of a full-size codec; only the output side differs between presets."""
    return {
        "input_sample_rate": 16000,
        "output_sample_rate": output_sample_rate,
        "encoder_downsample_rate": 1280,
        "decoder_upsample_rate": upsample_rate,
        "feature_extractor_kwargs": {
            "chunk_length": 30,
            "feature_size": 80,
            "hop_length": 160,
            "n_fft": 400,
            "padding_value": 0.0,
            "sampling_rate": 16000,
        },
        "semantic_encoder_kwargs": _encoder("encoder"),
        "semantic_encoder_adapter_kwargs": _adapter(_D, _D, 1500),
        "acoustic_encoder_kwargs": _encoder("encoder"),
        "pre_rvq_adapter_kwargs": _adapter(2 * _D, _D, 1500),
        "downsample_kwargs": {"d_model": _D, "avg_pooler": 4},
        "quantizer_kwargs": {
            "input_dim": 4 * _D,
            "rvq_dim": 512,
            "output_dim": 4 * _D,
            "num_quantizers": 8,
            "codebook_size": 1024,
            "codebook_dim": 512,
        },
        "post_rvq_adapter_kwargs": _adapter(4 * _D, 4 * _D, 375),
        "upsample_kwargs": {"d_model": _D, "stride": 4},
        "acoustic_decoder_kwargs": _encoder("decoder"),
        "vocos_kwargs": {
            "input_channels": 80,
            "dim": 512,
            "intermediate_dim": 4096,
            "num_layers": 30,
            "n_fft": n_fft,
            "hop_size": hop,
            "padding": "same",
        },
    }


#: preset name (the reference YAML file stem) -> generator_params
PRESETS: dict[str, dict[str, Any]] = {
    "MOSS_TTSD_tokenizer": _full_size(32000, 2560, 1280, 320),
    "xy_tokenizer_32k_config": _full_size(32000, 2560, 1280, 320),
    "xy_tokenizer_config": _full_size(24000, 1920, 960, 240),
}


def preset_params(name: str) -> dict[str, Any]:
    """A fresh copy-safe ``generator_params`` mapping for preset ``name``."""
    import copy

    return copy.deepcopy(PRESETS[name])


def preset_config(name: str) -> CodecConfig:
    """The parsed :class:`CodecConfig` of preset ``name``."""
    return parse_generator_params(preset_params(name), source=f"preset:{name}")
