"""Recognising a MOSS-TTSD v1.0 checkpoint folder without importing torch."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["V1_MODEL_TYPES", "is_v1_folder"]

V1_MODEL_TYPES = ("moss_tts_delay", "moss_ttsd_delay")


def is_v1_folder(folder: str | Path) -> bool:
    """Whether ``folder`` holds a MOSS-TTSD v1.0 (MossTTSDelay) checkpoint: its config.json says so."""
    try:
        config = json.loads((Path(folder).expanduser() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and config.get("model_type") in V1_MODEL_TYPES
