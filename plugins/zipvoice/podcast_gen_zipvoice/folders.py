"""What a ZipVoice-Dialog model folder and a Vocos folder hold (checked without heavy imports)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["MODEL_FILES", "VOCOS_FILES", "model_files_missing"]

MODEL_FILES: tuple[str | tuple[str, ...], ...] = (("model.pt", "model.safetensors"), "model.json", "tokens.txt")
VOCOS_FILES: tuple[str, ...] = ("config.yaml", "pytorch_model.bin")


def model_files_missing(folder: Path, checkpoint: str | None = None) -> list[str]:
    """Files of a model folder that are absent (``model.pt`` or ``model.safetensors``, or the
    named ``checkpoint``; ``model.json``; ``tokens.txt``)."""
    from podcast import missing_files

    required = MODEL_FILES if checkpoint is None else (checkpoint, "model.json", "tokens.txt")
    return missing_files(folder, required)
