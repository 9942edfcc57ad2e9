"""Shared helpers of the Spark-TTS plugin tests: the reference fixture folder and comparisons.

The folder comes from ``SPARK_TTS_FIXTURES`` (default ``../shared/fixtures/spark_tts`` from the
repository root); tests that need it skip with the reason when it is absent. Sizes, keys and
counts are always read from the files, never assumed.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]

# Suggested tolerances of the fixture README (ids and sequences are compared exactly).
HIDDEN_ATOL = 1e-4  # LM hidden states and logits, absolute
CODEC_RTOL = 1e-4  # codec intermediates, relative to each array's peak
WAVE_ATOL = 1e-4  # waveforms, absolute


def fixture_dir() -> Path:
    raw = os.environ.get("SPARK_TTS_FIXTURES")
    return Path(raw) if raw else ROOT.parent / "shared" / "fixtures" / "spark_tts"


def require_fixtures() -> Path:
    """The fixture folder, or skip with the reason."""
    folder = fixture_dir()
    if not (folder / "meta.json").is_file() or not (folder / "model").is_dir():
        pytest.skip(f"Spark-TTS reference fixtures not found at {folder} (set SPARK_TTS_FIXTURES)")
    return folder


def model_dir() -> Path:
    return require_fixtures() / "model"


def npz(name: str) -> dict[str, np.ndarray]:
    path = require_fixtures() / name
    if not path.is_file():
        pytest.skip(f"{path} is absent from this fixture set")
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def cases() -> list[dict[str, Any]]:
    path = require_fixtures() / "lm_cases.json"
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def case_names() -> list[str]:
    """LM case names for parametrisation (empty when the fixtures are absent)."""
    path = fixture_dir() / "lm_cases.json"
    if not path.is_file():
        return ["absent"]
    return [c["name"] for c in json.loads(path.read_text(encoding="utf-8"))["cases"]]


def reference_names() -> list[str]:
    """Reference audio names that have a ``codec_<name>.npz``."""
    folder = fixture_dir()
    found = sorted(p.stem.removeprefix("codec_") for p in folder.glob("codec_*.npz"))
    return found or ["absent"]


def case(name: str) -> dict[str, Any]:
    for entry in cases():
        if entry["name"] == name:
            return entry
    pytest.skip(f"no LM case {name!r} in this fixture set")


def assert_close_to_peak(name: str, ours: Any, expected: np.ndarray, rtol: float = CODEC_RTOL) -> None:
    ours = np.asarray(ours, dtype=np.float64).reshape(expected.shape)
    peak = max(float(np.abs(expected).max()), 1e-12)
    error = float(np.abs(ours - expected).max()) / peak
    assert error <= rtol, f"{name}: max error {error:.3g} of the peak exceeds {rtol}"


def assert_abs(name: str, ours: Any, expected: np.ndarray, atol: float) -> None:
    ours = np.asarray(ours, dtype=np.float64).reshape(expected.shape)
    error = float(np.abs(ours - expected).max()) if expected.size else 0.0
    assert error <= atol, f"{name}: max abs error {error:.3g} exceeds {atol}"


@functools.cache
def codec() -> Any:
    """The tiny BiCodec + wav2vec2 of the fixture folder (loaded once per session)."""
    from podcast_gen_spark_tts.codec import SparkCodec

    return SparkCodec(model_dir())


@functools.cache
def spark() -> Any:
    """The whole tiny model (LM, tokenizer, BiCodec) of the fixture folder."""
    from podcast_gen_spark_tts.model import SparkTTS

    return SparkTTS(model_dir())
