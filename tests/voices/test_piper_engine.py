"""The piper engine with the bundled joe voice: real synthesis, options, voices by path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcast import ConfigError, MissingModelError, Script, Turn, Voice
from podcast.stages.synthesize.piper import PiperEngine, PiperOptions
from podcast.testing import check_engine

QUIET = {"noise_scale": 0.0, "noise_w_scale": 0.0}  # no sampling noise: repeatable durations


def test_piper_keeps_the_engine_contract(piper: PiperEngine, tmp_path: Path) -> None:
    check_engine(piper, tmp_path)


def test_joe_speaks_english(piper: PiperEngine) -> None:
    audio = piper.synthesize_turn(Turn("S1", "The sail is thinner than a hair. It still works."), Voice("piper:joe"), "en")
    samples = np.asarray(audio.samples)
    assert audio.sample_rate == 22050 and samples.dtype == np.float32
    assert 1.5 < audio.duration < 6.0
    assert np.sqrt(np.mean(samples**2)) > 0.01
    # two sentences: joined with the configured pause, no long silence at the edges
    assert np.max(np.abs(samples[: int(0.05 * 22050)])) < 0.5


def test_length_scale_slows_speech() -> None:
    text = Turn("S1", "Photons carry momentum.")
    normal = PiperEngine(PiperOptions(**QUIET)).synthesize_turn(text, Voice(), "en")
    slow = PiperEngine(PiperOptions(length_scale=1.5, **QUIET)).synthesize_turn(text, Voice(), "en")
    assert 1.3 < slow.duration / normal.duration < 1.7


def test_a_voice_by_path_and_speaker_ids(piper: PiperEngine, tmp_path: Path) -> None:
    model = piper.default_model()
    (tmp_path / "mine.onnx").symlink_to(model)
    (tmp_path / "mine.onnx.json").symlink_to(model.with_name(model.name + ".json"))
    voice = Voice(f"piper:{tmp_path / 'mine.onnx'}")
    script = Script("en", (Turn("S1", "Hi."),))
    piper.check(script, {"S1": voice})
    assert piper.synthesize_turn(Turn("S1", "Hello."), voice, "en").duration > 0.3
    with pytest.raises(ConfigError, match="one speaker"):
        piper.check(script, {"S1": Voice("piper:7")})
    with pytest.raises(MissingModelError, match="does not exist"):
        piper.check(script, {"S1": Voice(f"piper:{tmp_path / 'absent.onnx'}")})
    assert PiperEngine.unavailable(PiperOptions(model=tmp_path / "absent.onnx")) is not None
    assert PiperEngine.unavailable(PiperOptions()) is None
