"""The kokoro engine with the bundled model and voices: real synthesis of short texts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcast import ConfigError, EngineContext, Script, Turn, Voice
from podcast.stages.synthesize.kokoro import KokoroEngine, KokoroOptions
from podcast.stages.synthesize.kokoro.model import data_file
from podcast.testing import check_engine


def _speech(audio, seconds: tuple[float, float]) -> np.ndarray:
    samples = np.asarray(audio.samples)
    assert audio.sample_rate == 24000 and samples.dtype == np.float32 and samples.ndim == 1
    assert np.all(np.isfinite(samples))
    assert seconds[0] < audio.duration < seconds[1], audio.duration
    assert np.sqrt(np.mean(samples**2)) > 0.01  # not silence
    return samples


def test_kokoro_keeps_the_engine_contract(kokoro: KokoroEngine, tmp_path: Path) -> None:
    check_engine(kokoro, tmp_path)


def test_english_and_mandarin_turns(kokoro: KokoroEngine) -> None:
    english = kokoro.synthesize_turn(Turn("S2", "Sunlight pushes the sail."), Voice(), "en")
    _speech(english, (0.8, 4.0))
    mandarin = kokoro.synthesize_turn(Turn("S1", "茶来自中国。"), Voice("jm_kumo"), "zh")
    _speech(mandarin, (0.6, 4.0))


def test_a_mixed_turn_reads_each_language_with_its_own_g2p(kokoro: KokoroEngine) -> None:
    chunks = kokoro.phoneme_chunks("我们用 GPU 训练。", "zh")
    assert len(chunks) == 1
    assert "dʒˌiː" in chunks[0]  # "GPU" through espeak-ng's English
    assert "↘" in chunks[0] or "↓" in chunks[0]  # Mandarin tones through misaki
    _speech(kokoro.synthesize_turn(Turn("S1", "我们用 GPU 训练。"), Voice("jf_alpha"), "zh"), (0.8, 5.0))


def test_blends_mix_voice_tables_linearly(kokoro: KokoroEngine) -> None:
    table = kokoro._voice_table()
    blend = table.style("jf_alpha*0.6+jm_kumo*0.4")
    expected = 0.6 * table.tables["jf_alpha"] + 0.4 * table.tables["jm_kumo"]
    assert np.allclose(blend, expected)
    assert np.allclose(table.style("jf_alpha+jm_kumo"), 0.5 * table.tables["jf_alpha"] + 0.5 * table.tables["jm_kumo"])
    text = Turn("S1", "A blended voice.")
    pure = kokoro.synthesize_turn(text, Voice("jf_alpha"), "en").samples
    mixed = kokoro.synthesize_turn(text, Voice("kokoro:jf_alpha*0.6+jm_kumo*0.4"), "en").samples
    assert pure.shape != mixed.shape or not np.allclose(pure, mixed)


def test_unknown_voices_and_bad_blends_are_refused(kokoro: KokoroEngine) -> None:
    script = Script("en", (Turn("S1", "Hi."), Turn("S2", "Hello.")))
    kokoro.check(script, {"S1": Voice("jf_alpha"), "S2": Voice("jm_kumo")})
    with pytest.raises(ConfigError, match="no voice 'af_heart'.*jf_alpha"):
        kokoro.check(script, {"S1": Voice("af_heart"), "S2": Voice()})
    with pytest.raises(ConfigError, match="blend"):
        kokoro.check(script, {"S1": Voice("jf_alpha*x+jm_kumo"), "S2": Voice()})


def test_a_user_voice_file(tmp_path: Path, engine_cache: Path, kokoro: KokoroEngine) -> None:
    with np.load(data_file("voices_ja.npz")) as bundled:
        np.savez(tmp_path / "voices.npz", my_voice=bundled["jm_kumo"])
    engine = KokoroEngine(KokoroOptions(voices=tmp_path / "voices.npz"), EngineContext(cache_dir=engine_cache / "kokoro"))
    engine.check(Script("en", (Turn("S1", "Hi."),)), {"S1": Voice("my_voice")})
    _speech(engine.synthesize_turn(Turn("S1", "My own voice."), Voice("my_voice"), "en"), (0.5, 4.0))


def test_default_voices_follow_the_language(kokoro: KokoroEngine) -> None:
    assert kokoro.default_voice("S1", "en").preset == "piper:joe|jm_kumo"
    assert kokoro._preset("S1", Voice(), "en") == "jm_kumo"  # its own pick when rendering S1 itself
    assert kokoro.default_voice("S2", "en").preset == "jf_alpha"
    assert [kokoro.default_voice(s, "zh").preset for s in ("S1", "S2")] == ["jm_kumo", "jf_alpha"]
