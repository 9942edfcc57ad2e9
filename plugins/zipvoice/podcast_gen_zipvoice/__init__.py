"""podcast-gen-zipvoice: ZipVoice-Dialog and ZipVoice-Dialog-Stereo (k2-fsa) as native,
weight-compatible podcast-gen dialogue engines (``zipvoice-dialog``, ``zipvoice-dialog-stereo``).

Importing this package is light (no torch); the model loads when an engine renders.
"""

from __future__ import annotations

from podcast import hookimpl

from .engine import ZipVoiceDialogEngine, ZipVoiceDialogStereoEngine

__all__ = ["ZipVoiceDialogEngine", "ZipVoiceDialogStereoEngine", "register_synthesizers"]


@hookimpl
def register_synthesizers(register):  # type: ignore[no-untyped-def]
    register(ZipVoiceDialogEngine)
    register(ZipVoiceDialogStereoEngine)
