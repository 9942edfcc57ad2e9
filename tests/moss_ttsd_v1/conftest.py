"""MOSS-TTSD v1.0 parity fixtures: ``$MOSS_V1_FIXTURES`` or ``../shared/fixtures/moss_ttsd_v1``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHARED

pytest.importorskip("torch")
pytest.importorskip("transformers")


def fixture_dir() -> Path:
    return Path(os.environ.get("MOSS_V1_FIXTURES") or SHARED / "fixtures" / "moss_ttsd_v1")


@pytest.fixture(scope="session")
def v1_dir() -> Path:
    folder = fixture_dir()
    if not (folder / "meta.json").is_file():
        pytest.skip(f"MOSS-TTSD v1.0 fixtures not found in {folder} (set MOSS_V1_FIXTURES)")
    return folder


@pytest.fixture(scope="session")
def meta(v1_dir: Path) -> dict:
    return json.loads((v1_dir / "meta.json").read_text())


@pytest.fixture(scope="session")
def codec(v1_dir: Path):
    from podcast.stages.synthesize.moss_ttsd.v1.codec import load_codec

    return load_codec(v1_dir / "codec")


@pytest.fixture(scope="session")
def lm(v1_dir: Path):
    from podcast.stages.synthesize.moss_ttsd.v1.model import load_lm

    return load_lm(v1_dir / "lm", attention="eager")


@pytest.fixture(scope="session")
def tokenizer(v1_dir: Path):
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_file=str(v1_dir / "lm" / "tokenizer.json"))


def npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def close(ours, ref: np.ndarray, atol: float, what: str) -> None:
    ours = ours.detach().cpu().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    assert ours.shape == ref.shape, f"{what}: shape {ours.shape} != {ref.shape}"
    worst = float(np.abs(ours.astype(np.float64) - ref).max()) if ref.size else 0.0
    assert worst <= atol, f"{what}: max |diff| {worst:.3g} > {atol:g}"
