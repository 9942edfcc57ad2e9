"""Planning device memory and choosing a device, importing torch only when a GPU is asked for.

Most neural engines need ``bytes = fixed + batch · per_second · seconds``: the weights (and
allocator slack) are fixed, and the KV cache or activations grow with the seconds of audio in
the sequence.  Measure or derive the two numbers for your model, then ask :class:`MemoryModel`
how long a block fits in what :func:`free_device_bytes` reports, and refuse early in
``check()`` when even the longest turn does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SynthesisError

__all__ = [
    "DTYPE_BYTES",
    "MemoryModel",
    "free_device_bytes",
    "kv_bytes_per_position",
    "peak_rss_mb",
    "resolve_device",
]

#: Bytes per element of the usual weight/activation precisions.
DTYPE_BYTES = {"bf16": 2, "fp16": 2, "fp32": 4}


@dataclass(frozen=True, slots=True)
class MemoryModel:
    """``bytes(seconds, batch) = fixed + batch · per_second · seconds``."""

    fixed: float
    per_second: float

    def bytes_for(self, seconds: float, batch: int = 1) -> float:
        """Bytes needed for ``batch`` sequences of ``seconds`` each (prompt + generated)."""
        return self.fixed + batch * self.per_second * max(seconds, 0.0)

    def max_seconds(self, available: float, batch: int = 1) -> float:
        """Longest sequence (seconds) that fits in ``available`` bytes (0 when nothing fits)."""
        return max((available - self.fixed) / (batch * self.per_second), 0.0)


def kv_bytes_per_position(layers: int, kv_heads: int, head_dim: int, dtype_bytes: int) -> int:
    """Bytes of keys and values a transformer caches for one sequence position."""
    return layers * 2 * kv_heads * head_dim * dtype_bytes


def free_device_bytes(device: str) -> int | None:
    """Free memory of a CUDA ``device`` in bytes (``None`` for CPU or when unknown)."""
    if not device.startswith("cuda"):
        return None
    import torch

    if not torch.cuda.is_available():
        return None
    index = torch.device(device).index
    free, _total = torch.cuda.mem_get_info(index if index is not None else torch.cuda.current_device())
    return int(free)


def resolve_device(preference: str, engine: str, option: str = "device") -> str:
    """A concrete device for ``preference``: ``auto`` → ``cuda`` when a GPU is visible, else
    ``cpu``; ``cuda``/``cuda:N`` without a GPU is a one-line :class:`SynthesisError` naming
    ``engine`` and its ``option``.  ``cpu`` imports nothing heavy."""
    if preference == "cpu":
        return preference
    import torch

    if preference == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise SynthesisError(
            f"{engine}: device={preference} but no CUDA GPU is visible; use --set synthesize.{engine}.{option}=cpu"
        )
    return preference


def peak_rss_mb() -> float:
    """This process's peak resident memory in MiB, for benchmarks and memory tests.

    Reads ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` survives ``exec``, so a child
    started by ``subprocess`` (``vfork``) would report its parent's peak when that was higher.
    Falls back to ``ru_maxrss`` where ``/proc`` is absent.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0
