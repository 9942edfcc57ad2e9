"""podcast-gen-spark-tts: Spark-TTS (SparkAudio, 0.5B) as the ``spark-tts`` synthesizer.

A native, weight-compatible implementation of Spark-TTS inference — the Qwen2 language model
(through transformers), BiCodec and the wav2vec2 front end — that loads a downloaded
``Spark-TTS-0.5B`` folder offline. Hosts are created from attributes
(``--voice S2=spark:female,pitch=high,speed=moderate``) or cloned from a reference, kept as
saved voices, and every turn is cloned from them. Weights: CC BY-NC-SA 4.0 (non-commercial).

Importing this package stays light (no torch); the model loads in ``SparkTTSEngine.load``.
"""

from __future__ import annotations

from podcast import hookimpl

from .engine import SparkOptions, SparkTTSEngine

__all__ = ["SparkOptions", "SparkTTSEngine", "register_synthesizers"]


@hookimpl
def register_synthesizers(register):  # type: ignore[no-untyped-def]
    """Register the ``spark-tts`` engine."""
    register(SparkTTSEngine)
