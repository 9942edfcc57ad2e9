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


def test_a_clip_is_the_same_whatever_was_rendered_before_and_in_any_process():
    """A resumed run renders its missing clips in a new process: they must be the clips an
    uninterrupted run makes (espeak-ng carries state from one utterance to the next)."""
    import subprocess
    import sys

    from tests.conftest import clean_env

    engine = EspeakEngine()
    text = "Right, and the second voice answers with a longer sentence about sails."
    engine.synthesize_turn(Turn("S1", "Hello there, this is the first turn of the show."), Voice(), "en")
    engine.synthesize_turn(Turn("S1", "Short."), Voice(), "zh")
    after_others = engine.synthesize_turn(Turn("S2", text), Voice(), "en").samples
    again = engine.synthesize_turn(Turn("S2", text), Voice(), "en").samples
    code = (
        "import sys, hashlib\nfrom podcast.models import Turn, Voice\n"
        "from podcast.stages.synthesize.espeak import EspeakEngine\n"
        f"a = EspeakEngine().synthesize_turn(Turn('S2', {text!r}), Voice(), 'en')\n"
        "sys.stdout.write(hashlib.sha256(a.samples.tobytes()).hexdigest())"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    import hashlib

    assert np.array_equal(after_others, again)
    assert fresh.stdout == hashlib.sha256(after_others.tobytes()).hexdigest()
