"""GPU memory needed by one MOSS-TTSD call, from the README figure scaled to the model at hand.

The README measured (bf16, full size, LM + codec) ``y GB = 0.00172 · x s + 5.8832``
(120 s → 6.08 GB, 600 s → 6.91 GB).  We split that into

* fixed bytes: LM parameters + codec parameters in the chosen dtype, plus the remaining
  overhead of the measurement (activations, allocator slack), scaled by the LM's size;
* bytes per second of audio in the sequence (prompt + generated): the KV cache of one frame
  (12.5 frames/s) times the ratio README-slope / full-size-KV-per-second (≈ 1.2: logits and
  per-step buffers ride on top of the cache).

With the full-size config in bf16 this reproduces the README line exactly; other configs and
dtypes scale by parameter count and bytes per element.  No GPU measurement was possible where
this was written (see the engine report); the constants stay the README's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from podcast import DTYPE_BYTES, MemoryModel, kv_bytes_per_position

__all__ = ["lm_parameters", "memory_model"]

GB = 1e9
README_BASE_GB = 5.8832
README_SLOPE_GB_PER_S = 0.00172
FRAME_RATE = 12.5
#: Unique parameters of the full-size LM (fixture manifest) and of the full-size XY-Tokenizer.
FULL_LM_PARAMS = 2_049_551_360
FULL_CODEC_PARAMS = 534_395_482
#: KV bytes per frame of the full-size LM in bf16: 28 layers · (k, v) · 8 heads · 128 · 2 bytes.
FULL_KV_BYTES_PER_FRAME = 28 * 2 * 8 * 128 * 2


def lm_parameters(config: Mapping[str, Any]) -> int:
    """Unique parameters of a MOSS-TTSD LM described by a ``config.json`` mapping (heads tied,
    the unused ``embed_tokens`` counted because it is stored and loaded)."""
    hidden, vocab = int(config["hidden_size"]), int(config["vocab_size"])
    heads, kv = (
        int(config["num_attention_heads"]),
        int(config.get("num_key_value_heads") or config["num_attention_heads"]),
    )
    head_dim = int(config.get("head_dim") or hidden // heads)
    inter, layers = int(config["intermediate_size"]), int(config["num_hidden_layers"])
    channels, speech = int(config.get("channels", 8)), int(config.get("speech_vocab_size", 1025))
    bias = bool(config.get("attention_bias", False))
    attention = hidden * head_dim * (2 * heads + 2 * kv) + (
        head_dim * (heads + 2 * kv) + hidden if bias else 0
    )
    per_layer = attention + 3 * hidden * inter + 2 * hidden + 2 * head_dim
    embeddings = 2 * vocab * hidden + (channels - 1) * speech * hidden
    return embeddings + layers * per_layer + hidden


def kv_bytes_per_frame(config: Mapping[str, Any], dtype_bytes: int) -> int:
    """Bytes of keys and values cached for one sequence position."""
    heads = int(config["num_attention_heads"])
    kv = int(config.get("num_key_value_heads") or heads)
    head_dim = int(config.get("head_dim") or int(config["hidden_size"]) // heads)
    return kv_bytes_per_position(int(config["num_hidden_layers"]), kv, head_dim, dtype_bytes)


def memory_model(
    config: Mapping[str, Any], dtype: str, codec_params: int = FULL_CODEC_PARAMS
) -> MemoryModel:
    """The memory model of the LM ``config`` (a ``config.json`` mapping) in ``dtype``."""
    size = DTYPE_BYTES[dtype]
    overhead = README_BASE_GB * GB - (FULL_LM_PARAMS + FULL_CODEC_PARAMS) * DTYPE_BYTES["bf16"]
    params = lm_parameters(config)
    fixed = (params + codec_params) * size + overhead * params / FULL_LM_PARAMS
    slope = README_SLOPE_GB_PER_S * GB / (FULL_KV_BYTES_PER_FRAME * FRAME_RATE)
    return MemoryModel(fixed, kv_bytes_per_frame(config, size) * FRAME_RATE * slope)
