"""Fixtures for the offline neural voices: one engine per test session (the models load once)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast import EngineContext
from podcast.stages.synthesize.kokoro import KokoroEngine, KokoroOptions
from podcast.stages.synthesize.piper import PiperEngine, PiperOptions


@pytest.fixture(scope="session")
def engine_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The engines' cache folder for this test session (the assembled Kokoro model lands here)."""
    return tmp_path_factory.mktemp("engine-cache")


@pytest.fixture(scope="session")
def kokoro(engine_cache: Path) -> KokoroEngine:
    engine = KokoroEngine(KokoroOptions(), EngineContext(cache_dir=engine_cache / "kokoro"))
    engine.load()
    return engine


@pytest.fixture(scope="session")
def piper() -> PiperEngine:
    engine = PiperEngine(PiperOptions())
    engine.load()
    return engine
