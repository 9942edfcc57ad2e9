"""podcast.neural front ends against arrays the reference implementations produced.

The reference arrays come from the engines' fixture sets (Whisper, torchaudio's Kaldi fbank and
MelSpectrogram, Matcha's mel run by the upstream code); each test skips with a reason when its
fixture set is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from podcast.neural.mel import kaldi_fbank, mel_filters, mel_spectrogram, whisper_log_mel  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _fixtures(variable: str, default: str) -> Path:
    folder = Path(os.environ.get(variable) or ROOT.parent / "shared" / "fixtures" / default)
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (set {variable} to a fixture folder)")
    return folder


def _close(ours: torch.Tensor, ref: np.ndarray, atol: float) -> None:
    assert tuple(ours.shape) == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, atol=atol, rtol=0)


@pytest.fixture(scope="module")
def cosy() -> dict:
    return dict(np.load(_fixtures("COSYVOICE_FIXTURES", "cosyvoice") / "reference" / "frontend.npz"))


@pytest.mark.parity
def test_kaldi_fbank_matches_torchaudio_compliance(cosy: dict) -> None:
    ours = kaldi_fbank(torch.from_numpy(cosy["wav16"]), num_mel_bins=80, dither=0.0, sample_rate=16000)
    _close(ours, cosy["fbank80"], 1e-3)


@pytest.mark.parity
def test_whisper_log_mel_matches_whisper(cosy: dict) -> None:
    _close(whisper_log_mel(torch.from_numpy(cosy["wav16"]), n_mels=128), cosy["whisper_logmel128"], 1e-3)


@pytest.mark.parity
def test_matcha_prompt_mel(cosy: dict) -> None:
    wav = torch.nn.functional.pad(torch.from_numpy(cosy["wav24"])[None], (720, 720), mode="reflect")[0]
    mel = mel_spectrogram(
        wav, sample_rate=24000, n_fft=1920, hop_length=480, n_mels=80, f_max=8000, center=False,
        scale="slaney", norm="slaney", eps=1e-9,
    )  # fmt: skip
    _close(torch.clamp(mel, min=1e-5).log().transpose(1, 2), cosy["speech_feat_raw"], 1e-4)


@pytest.mark.parity
def test_torchaudio_mel_spectrogram_slaney_with_short_window() -> None:
    ref = np.load(_fixtures("SPARK_TTS_FIXTURES", "spark_tts") / "codec_ref_a.npz")
    n_mels = ref["mel"].shape[1]
    mel = mel_spectrogram(
        torch.from_numpy(ref["ref_clip"]), sample_rate=16000, n_fft=1024, win_length=640, hop_length=320,
        n_mels=n_mels, f_min=10, scale="slaney", norm="slaney",
    )  # fmt: skip
    _close(mel, ref["mel"], 1e-4)


@pytest.mark.parity
def test_torchaudio_mel_spectrogram_htk() -> None:
    arrays = np.load(_fixtures("ZIPVOICE_FIXTURES", "zipvoice_dialog") / "cases" / "en_split" / "arrays.npz")
    wav = torch.from_numpy(arrays["prompt_wav_after_remove_silence"])
    mel = mel_spectrogram(wav, sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100)
    frames = arrays["fbank_out"].shape[0]
    logs = torch.clamp(mel, min=1e-7).log()[0].T[:frames]
    _close(logs, arrays["fbank_out"], 1e-4)


def test_filter_banks_are_triangles_on_their_scale() -> None:
    for scale, norm in (("htk", None), ("slaney", "slaney"), ("slaney", None)):
        bank = mel_filters(512, 40, 16000, f_min=20, scale=scale, norm=norm)
        assert bank.shape == (257, 40)
        assert (bank >= 0).all()
        peaks = bank.argmax(axis=0)
        assert (np.diff(peaks) >= 0).all()  # centres rise with the filter index
        if norm is None:
            assert bank.max(axis=0).max() <= 1.0 + 1e-12
    # Slaney normalisation: every triangle has the same area (2 / width x width / 2 = 1, in Hz).
    bank = mel_filters(4096, 20, 16000, scale="slaney", norm="slaney")
    areas = bank.sum(axis=0) * (8000 / 2048)
    np.testing.assert_allclose(areas, 1.0, rtol=0.05)


def test_kaldi_fbank_frames_and_edges() -> None:
    wav = torch.randn(16000, generator=torch.Generator().manual_seed(0))
    snipped = kaldi_fbank(wav)
    assert snipped.shape == (1 + (16000 - 400) // 160, 80)
    whole = kaldi_fbank(wav, snip_edges=False)
    assert whole.shape == ((16000 + 80) // 160, 80)
    assert torch.isfinite(whole).all()
    # Without snipping, frame k starts at sample 160 k - 120 (centred on 160 k + 80); interior
    # frames are the snipped frames of the wave shifted by 40 samples.
    aligned = kaldi_fbank(wav[40:], snip_edges=True)
    np.testing.assert_allclose(whole[1 : 1 + aligned.shape[0]].numpy(), aligned.numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="one channel"):
        kaldi_fbank(torch.zeros(2, 1000))
