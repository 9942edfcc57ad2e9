"""Shared fixtures for the MOSS-TTSD tests (fixture folder from ``MOSS_FIXTURES``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import moss_fixtures as fixture_folder


@pytest.fixture(scope="session")
def moss_fixtures() -> Path:
    """Root of the MOSS-TTSD reference fixtures; skips when absent."""
    root = fixture_folder()
    if not root.is_dir():
        pytest.skip(f"MOSS-TTSD fixtures not found at {root} (set MOSS_FIXTURES)")
    return root


@pytest.fixture(scope="session")
def lm_dir(moss_fixtures: Path) -> Path:
    """The ``lm/`` fixture folder; skips when its model files are absent."""
    folder = moss_fixtures / "lm"
    if not (folder / "config.json").is_file() or not (folder / "model.safetensors").is_file():
        pytest.skip(f"tiny LM fixture missing in {folder}")
    return folder


@pytest.fixture(scope="session")
def lm_meta(lm_dir: Path) -> dict:
    return json.loads((lm_dir / "inputs_meta.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def tiny_lm(lm_dir: Path):
    """The tiny reference LM in float32 with eager attention (shared; tests reset attention)."""
    import torch

    from podcast.stages.synthesize.moss_ttsd.loading import load_lm

    torch.set_num_threads(1)
    return load_lm(lm_dir, device="cpu", dtype="fp32", attention="eager")
