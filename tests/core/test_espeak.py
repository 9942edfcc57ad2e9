"""Real audio from the embedded espeak-ng."""

from __future__ import annotations

import numpy as np

from podcast.models import Turn, Voice
from podcast.stages.synthesize.espeak import EspeakEngine


def _pitch(samples: np.ndarray, rate: int) -> float:
    """Median autocorrelation pitch (Hz) over voiced 40 ms frames."""
    frame, pitches = int(0.04 * rate), []
    for start in range(0, samples.size - frame, frame):
        x = samples[start : start + frame] - samples[start : start + frame].mean()
        if np.sqrt(np.mean(x**2)) < 0.02:
            continue
        ac = np.correlate(x, x, "full")[frame - 1 :]
        lo, hi = rate // 400, rate // 60
        pitches.append(rate / (lo + int(np.argmax(ac[lo:hi]))))
    return float(np.median(pitches))


def test_english_and_mandarin_speech():
    engine = EspeakEngine()
    for language, text in (("en", "Hello and welcome to the show."), ("zh", "大家好，欢迎收听本期节目。")):
        audio = engine.synthesize_turn(Turn("S1", text), Voice(), language)
        assert audio.sample_rate == 22050
        assert 1.0 < audio.duration < 6.0
        assert 0.01 < float(np.sqrt(np.mean(audio.samples**2))) < 0.9
        assert np.abs(audio.samples).max() <= 1.0


def test_two_hosts_sound_different():
    engine = EspeakEngine()
    text = "We are testing how different the two voices sound in this podcast."
    s1 = engine.synthesize_turn(Turn("S1", text), Voice(), "en")
    s2 = engine.synthesize_turn(Turn("S2", text), Voice(), "en")
    assert _pitch(s2.samples, s2.sample_rate) > 1.3 * _pitch(s1.samples, s1.sample_rate)


def test_rate_option_changes_duration():
    slow = EspeakEngine(EspeakEngine.Options(rate=110)).synthesize_turn(Turn("S1", "One two three four five six seven."), Voice(), "en")
    fast = EspeakEngine(EspeakEngine.Options(rate=260)).synthesize_turn(Turn("S1", "One two three four five six seven."), Voice(), "en")
    assert slow.duration > 1.6 * fast.duration
