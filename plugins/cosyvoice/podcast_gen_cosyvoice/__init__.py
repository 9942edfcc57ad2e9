"""podcast-gen-cosyvoice: CosyVoice 2 (FunAudioLLM/CosyVoice2-0.5B) as the ``cosyvoice`` engine,
re-implemented natively and weight-compatibly (no upstream code, no ModelScope, offline), plus
CosyVoice 3's token-to-audio half. Importing this package imports no torch; the engine loads its
models in ``load``.
"""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .engine import CosyVoiceEngine, CosyVoiceOptions

__version__ = "0.1.0"
__all__ = ["CosyVoiceEngine", "CosyVoiceOptions"]


@hookimpl
def register_synthesizers(register: Callable[[type], None]) -> None:
    """Register the ``cosyvoice`` engine."""
    register(CosyVoiceEngine)
