"""``kokoro``: Kokoro-82M v1.0 int8 on the CPU (see :mod:`.engine`)."""

from .engine import KokoroEngine, KokoroOptions

__all__ = ["KokoroEngine", "KokoroOptions"]
