"""The loudness meter against the synthetic suite of mastering.md §6 (T1-T9, L1-L4,
P1-P5) at 48 kHz and 24 kHz, against pyloudnorm's De Man filter, and against ffmpeg's
ebur128 filter when an ffmpeg binary is installed."""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from podcast.stages.master.meter import LoudnessMeter, k_weighting_sos, measure
from podcast.stages.master.peak import true_peak

from .master_signals import faded, sequence, speech_like, tone

RATES = (48000, 24000)


def integrated(x: np.ndarray, rate: int) -> float:
    return measure(x, rate, true_peak=False).integrated


@pytest.mark.parametrize("rate", RATES)
def test_t1_t2_steady_tones(rate: int) -> None:
    for level in (-23.0, -33.0):
        result = measure(sequence([(20, level)], rate), rate, true_peak=False)
        assert result.integrated == pytest.approx(level, abs=0.1)
        assert result.max_momentary == pytest.approx(level, abs=0.1)
        assert result.max_short_term == pytest.approx(level, abs=0.1)


@pytest.mark.parametrize("rate", RATES)
def test_t3_relative_gate(rate: int) -> None:
    assert integrated(sequence([(10, -36), (60, -23), (10, -36)], rate), rate) == pytest.approx(
        -23.0, abs=0.1
    )


@pytest.mark.parametrize("rate", RATES)
def test_t4_absolute_gate(rate: int) -> None:
    x = sequence([(10, -72), (10, -36), (60, -23), (10, -36), (10, -72)], rate)
    assert integrated(x, rate) == pytest.approx(-23.0, abs=0.1)


@pytest.mark.parametrize("rate", RATES)
def test_t5_power_average(rate: int) -> None:
    assert integrated(sequence([(20, -26), (20.1, -20), (20, -26)], rate), rate) == pytest.approx(
        -23.0, abs=0.1
    )


@pytest.mark.parametrize("rate", RATES)
def test_t6_mono_reads_3_lu_lower(rate: int) -> None:
    assert integrated(sequence([(20, -23)], rate, stereo=False), rate) == pytest.approx(
        -26.0, abs=0.1
    )


@pytest.mark.parametrize("rate", RATES)
def test_t7_silence_and_gated_out_signal(rate: int) -> None:
    for x in (np.zeros((2, rate * 5), np.float32), sequence([(10, -72)], rate)):
        result = measure(x, rate)
        assert result.integrated == -math.inf
        assert result.as_dict()["integrated"] is None  # JSON-safe


@pytest.mark.parametrize("rate", RATES)
def test_t8_shorter_than_one_block_is_rejected(rate: int) -> None:
    with pytest.raises(ValueError, match="400 ms"):
        measure(tone(0.3, -23, rate), rate)


@pytest.mark.parametrize("rate", RATES)
def test_t9_gain_shifts_loudness_exactly(rate: int) -> None:
    x = speech_like(8, rate)
    for db in (-12.0, 6.0):
        shifted = x * np.float32(10 ** (db / 20))
        assert integrated(shifted, rate) - integrated(x, rate) == pytest.approx(db, abs=0.01)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ((-20, -30), 10.0),
        ((-20, -15), 5.0),
        ((-40, -20), 20.0),
        ((-50, -35, -20, -35, -50), 15.0),
    ],
)
def test_l1_l4_loudness_range(rate: int, levels: tuple[int, ...], expected: float) -> None:
    x = sequence([(20, db) for db in levels], rate)
    assert measure(x, rate, true_peak=False).lra == pytest.approx(expected, abs=1.0)


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize(
    ("divisor", "amplitude", "phase", "expected_tp", "expected_sp"),
    [
        (4, 0.5, 0.0, -6.0, -6.02),
        (4, 0.5, 45.0, -6.0, -9.03),
        (6, 0.5, 60.0, -6.0, None),
        (8, 0.5, 67.5, -6.0, None),
        (4, 1.41, 45.0, 3.0, 0.0),
    ],
)
def test_p1_p5_true_peak(
    rate: int,
    divisor: int,
    amplitude: float,
    phase: float,
    expected_tp: float,
    expected_sp: float | None,
) -> None:
    x = faded(tone(2, 20 * math.log10(amplitude), rate, rate / divisor, phase), rate)
    result = measure(x, rate)
    assert expected_tp - 0.4 <= result.true_peak <= expected_tp + 0.2
    if expected_sp is not None:
        assert result.sample_peak == pytest.approx(expected_sp, abs=0.05)


def test_true_peak_never_below_sample_peak_and_matches_dense_oversampling() -> None:
    from scipy.signal import resample_poly

    x = speech_like(3, 24000, seed=3)
    dense = float(np.abs(resample_poly(x, 4, 1)).max())
    assert true_peak(x) >= float(np.abs(x).max())
    assert 20 * math.log10(true_peak(x) / dense) == pytest.approx(0.0, abs=0.1)


@pytest.mark.parametrize("rate", (48000, 44100, 24000, 22050))
def test_matches_pyloudnorm_deman(rate: int) -> None:
    pyln = pytest.importorskip("pyloudnorm")
    x = speech_like(6, rate, seed=1)
    stereo = np.stack([x, speech_like(6, rate, seed=2)])
    reference = pyln.Meter(rate, filter_class="DeMan").integrated_loudness(
        stereo.T.astype(np.float64)
    )
    assert integrated(stereo, rate) == pytest.approx(reference, abs=0.01)


def test_k_weighting_equals_standard_48k_coefficients() -> None:
    sos = k_weighting_sos(48000)
    # BS.1770-4 Table 1 and 2 (48 kHz)
    assert sos[0, :3] == pytest.approx(
        [1.53512485958697, -2.69169618940638, 1.19839281085285], abs=1e-6
    )
    assert sos[0, 4:] == pytest.approx([-1.69065929318241, 0.73248077421585], abs=1e-6)
    assert sos[1, 4:] == pytest.approx([-1.99004745483398, 0.99007225036621], abs=1e-6)


def test_streaming_equals_one_shot() -> None:
    rate = 24000
    x = np.stack([speech_like(7, rate, seed=4), speech_like(7, rate, seed=5)])
    meter = LoudnessMeter(rate, 2)
    for cut in np.split(np.arange(x.shape[1]), [1000, 1001, 50_000, 123_457]):
        meter.feed(x[:, cut])
    streamed, whole = meter.result(), measure(x, rate)
    assert streamed.integrated == pytest.approx(whole.integrated, abs=1e-6)
    assert streamed.true_peak == pytest.approx(whole.true_peak, abs=1e-6)
    assert streamed.lra == pytest.approx(whole.lra, abs=1e-6)


def test_identical_stereo_channels_take_the_shortcut_exactly() -> None:
    rate = 24000
    x = speech_like(5, rate, seed=6)
    same = measure(np.stack([x, x]), rate)
    nudged = measure(np.stack([x, np.nextafter(x, np.float32(2))]), rate)  # defeats the shortcut
    assert same.integrated == pytest.approx(nudged.integrated, abs=1e-4)
    assert same.true_peak == pytest.approx(nudged.true_peak, abs=1e-4)
    assert same.integrated - measure(x, rate).integrated == pytest.approx(
        10 * math.log10(2), abs=1e-4
    )


def ffmpeg_ebur128(path: str) -> tuple[float, float]:
    """Integrated loudness and true peak from ffmpeg's ebur128 summary."""
    done = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-hide_banner",
            "-i",
            path,
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = done.stderr[done.stderr.rfind("Summary:") :]
    i = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    tp = float(re.search(r"Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    return i, tp


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary")
@pytest.mark.parametrize("rate", RATES)
def test_cross_check_with_ffmpeg_ebur128(tmp_path, rate: int) -> None:
    import soundfile as sf

    from .master_signals import espeak

    speech, speech_rate = espeak(
        "The quick brown fox jumps over the lazy dog, twice, for a fair measurement."
    )
    from podcast.audio import resample

    x = resample(speech, speech_rate, rate)[0] * np.float32(3.0)
    path = tmp_path / "speech.wav"
    sf.write(path, x, rate, subtype="FLOAT")
    ours = measure(x, rate)
    theirs_i, theirs_tp = ffmpeg_ebur128(str(path))
    assert ours.integrated == pytest.approx(theirs_i, abs=0.1)  # ffmpeg prints one decimal
    assert ours.true_peak == pytest.approx(theirs_tp, abs=0.2)


@pytest.mark.parametrize("rate", (48000, 44100, 24000))
def test_matches_libebur128_on_speech(rate: int) -> None:
    """mastering.md §6: |ΔI| ≤ 0.05 LU and |ΔTP| ≤ 0.1 dB against libebur128 on real speech."""
    eb = pytest.importorskip("pyebur128")
    from podcast.audio import resample

    from .master_signals import espeak

    speech, speech_rate = espeak("Light pressure is tiny, but it never stops pushing the sail.")
    x = resample(speech, speech_rate, rate) * np.float32(2.0)
    modes = eb.MeasurementMode.MODE_I | eb.MeasurementMode.MODE_TRUE_PEAK
    state = eb.R128State(1, rate, modes)
    state.add_frames(x[0].astype(np.float64), x.shape[1])
    ours = measure(x, rate)
    assert ours.integrated == pytest.approx(eb.get_loudness_global(state), abs=0.05)
    assert ours.true_peak == pytest.approx(20 * math.log10(eb.get_true_peak(state, 0)), abs=0.1)
