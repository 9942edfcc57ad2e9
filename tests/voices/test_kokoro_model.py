"""The Kokoro model assembled from its four part packages: pinned, hashed, written atomically."""

from __future__ import annotations

import hashlib
import importlib.metadata
from pathlib import Path

import pytest

from podcast import MissingModelError
from podcast.stages.synthesize.kokoro import model


def _parts(folder: Path, blobs: list[bytes]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, blob in enumerate(blobs, 1):
        path = folder / f"part{number}.bin"
        path.write_bytes(blob)
        paths.append(path)
    return paths


def test_the_installed_parts_are_the_pinned_versions() -> None:
    assert model.missing_packages() is None
    for name, version in model.PACKAGES.items():
        assert importlib.metadata.version(name) == version
    assert sum(p.stat().st_size for p in model.model_parts()) == model.MODEL_BYTES


def test_assembled_model_matches_the_pinned_hash(engine_cache: Path, kokoro) -> None:
    # The session fixture assembled the real model into the test session's cache.
    path = engine_cache / "kokoro" / model.MODEL_NAME
    assert path.stat().st_size == model.MODEL_BYTES
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == model.MODEL_SHA256
    assert sorted(p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")) == []


def test_a_corrupted_part_is_refused_and_nothing_is_left(tmp_path: Path) -> None:
    blobs = [b"alpha" * 100, b"beta" * 100, b"gamma" * 100, b"delta" * 100]
    good = hashlib.sha256(b"".join(blobs)).hexdigest()
    parts = _parts(tmp_path / "parts", blobs)
    cache = tmp_path / "cache"
    assert model.assemble(cache, parts, sha256=good).read_bytes() == b"".join(blobs)

    (cache / model.MODEL_NAME).unlink()
    parts[2].write_bytes(b"gamma" * 99 + b"GAMMA")  # one flipped byte run in part 3
    with pytest.raises(MissingModelError, match="sha256") as caught:
        model.assemble(cache, parts, sha256=good)
    assert "--force-reinstall" in str(caught.value) and "\n" not in str(caught.value)
    assert list(cache.iterdir()) == []  # no model, no temporary file


def test_a_corrupted_cached_model_is_rebuilt_from_the_parts(tmp_path: Path) -> None:
    blobs = [b"one" * 50, b"two" * 50, b"three" * 50, b"four" * 50]
    good = hashlib.sha256(b"".join(blobs)).hexdigest()
    parts = _parts(tmp_path / "parts", blobs)
    cache = tmp_path / "cache"
    target = model.assemble(cache, parts, sha256=good)
    target.write_bytes(b"truncated")
    assert model.assemble(cache, parts, sha256=good).read_bytes() == b"".join(blobs)


def test_a_missing_part_is_one_line(tmp_path: Path) -> None:
    parts = _parts(tmp_path / "parts", [b"a", b"b", b"c"]) + [tmp_path / "parts" / "part4.bin"]
    with pytest.raises(MissingModelError, match="part4.bin is missing"):
        model.assemble(tmp_path / "cache", parts, sha256="0" * 64)
    assert not (tmp_path / "cache").exists()
