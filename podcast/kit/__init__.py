"""The engine kit: helpers every neural engine needs, public so plugins need not copy them.

* weights on disk (:mod:`podcast.kit.files`): :func:`find_weights` searches the configured
  folder, the user's model folder and the Hugging Face cache, and fails with one line naming
  the missing files and every place it looked;
* spans and durations (:mod:`podcast.kit.spans`): :func:`estimate_turn_spans` for engines
  that report no alignment, :func:`estimate_seconds` for budgets;
* memory and devices (:mod:`podcast.kit.memory`): :class:`MemoryModel`,
  :func:`free_device_bytes`, :func:`resolve_device`, :func:`peak_rss_mb`.

Everything here is light to import (numpy and torch load inside the functions that need
them).  Shared neural building blocks (mel/fbank front ends, Vocos vocoders, flow-matching
solvers, checkpoint helpers) live in :mod:`podcast.neural`, which does import torch.
All names are also exported by :mod:`podcast` itself.
"""

from __future__ import annotations

from .files import find_weights, hub_cache, missing_files, missing_safetensors, podcast_cache, snapshot_of
from .memory import DTYPE_BYTES, MemoryModel, free_device_bytes, kv_bytes_per_position, peak_rss_mb, resolve_device
from .spans import CHARS_PER_SECOND, estimate_seconds, estimate_turn_spans, proportional_spans, text_weight

__all__ = [
    "CHARS_PER_SECOND",
    "DTYPE_BYTES",
    "MemoryModel",
    "estimate_seconds",
    "estimate_turn_spans",
    "find_weights",
    "free_device_bytes",
    "hub_cache",
    "kv_bytes_per_position",
    "missing_files",
    "missing_safetensors",
    "peak_rss_mb",
    "podcast_cache",
    "proportional_spans",
    "resolve_device",
    "snapshot_of",
]
