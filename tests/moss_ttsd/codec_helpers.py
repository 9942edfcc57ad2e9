"""Shared helpers for the XY-Tokenizer codec tests (fixture folder from ``MOSS_FIXTURES``).

Sizes, lengths and configs are always read from the fixture files; only the tolerances of the
fixture README (mel/waveforms atol 1e-4, codes exact) are constants here.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import moss_fixtures

ATOL_MEL = 1e-4
ATOL_WAV = 1e-4
ATOL_HIDDEN = 1e-4


def fixture_root() -> Path:
    return moss_fixtures()


def require(path: Path) -> Path:
    """``path`` if it exists, else skip the test with the reason."""
    if not path.exists():
        pytest.skip(f"MOSS-TTSD codec fixture missing: {path} (set MOSS_FIXTURES)")
    return path


def codec_dir() -> Path:
    """The ``codec/`` fixture folder (skips the test when it or its weights are absent)."""
    folder = require(fixture_root() / "codec")
    require(folder / "model.safetensors")
    require(folder / "tiny_config.json")
    return folder


@functools.cache
def _load_tiny_codec(folder: Path) -> Any:
    import torch

    from podcast.stages.synthesize.moss_ttsd.xy_tokenizer import load_codec

    torch.set_num_threads(1)
    return load_codec(folder, device="cpu")


def tiny_codec() -> Any:
    """The tiny reference codec, float32 on CPU (loaded once per session)."""
    return _load_tiny_codec(codec_dir())


@functools.cache
def _read_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    wav, _ = sf.read(str(path), dtype="float32")
    return wav


def wav16k() -> np.ndarray:
    """The 16 kHz float32 test signal (a fresh copy)."""
    return _read_wav(require(codec_dir() / "test_16k.wav")).copy()


def load_npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(require(path)) as data:
        return {k: data[k] for k in data.files}


def load_json(path: Path) -> Any:
    return json.loads(require(path).read_text(encoding="utf-8"))


def prompt_samples(meta: dict, item: int, default: int) -> int:
    """Prompt length of LM item ``item`` ("..., first N samples" in inputs_meta.json)."""
    text = str(meta["items"][item].get("prompt_audio", ""))
    match = re.search(r"first (\d+) samples", text)
    return int(match.group(1)) if match else default


def frame_stats(audio: np.ndarray, spf: int) -> np.ndarray:
    """[frames, 3] mean, RMS and max-abs of each ``spf``-sample block."""
    blocks = audio[: len(audio) // spf * spf].reshape(-1, spf).astype(np.float64)
    return np.stack([blocks.mean(1), np.sqrt((blocks**2).mean(1)), np.abs(blocks).max(1)], axis=1)


def assert_close(actual: Any, expected: np.ndarray, atol: float, what: str) -> None:
    actual = np.asarray(actual.detach().cpu() if hasattr(actual, "detach") else actual)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    err = (
        float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
        if actual.size
        else 0.0
    )
    assert err <= atol, f"{what}: max abs error {err:.3g} > {atol}"
