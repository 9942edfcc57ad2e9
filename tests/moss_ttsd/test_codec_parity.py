"""Tiny-codec parity with the reference: mel, codes, zq, every sub-module, decoded audio (2 s)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from .codec_helpers import (
    ATOL_HIDDEN,
    ATOL_MEL,
    ATOL_WAV,
    assert_close,
    codec_dir,
    load_npz,
    tiny_codec,
    wav16k,
)


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    return load_npz(codec_dir() / "reference_2s.npz")


@pytest.fixture(scope="module")
def inter() -> dict[str, np.ndarray]:
    return load_npz(codec_dir() / "intermediates_2s.npz")


def _lengths(n: int) -> torch.Tensor:
    return torch.tensor([n], dtype=torch.long)


def test_mel_matches_reference(ref: dict) -> None:
    wav = torch.from_numpy(wav16k())[None]
    mel, mel_len = tiny_codec().features(wav, _lengths(len(wav16k())), full_window=True)
    assert_close(mel[0], ref["mel"], ATOL_MEL, "mel")
    assert int(mel_len[0]) == int(ref["mel_attention_mask"].sum())


def test_trimmed_mel_equals_full_window_on_valid_frames(ref: dict) -> None:
    wav = torch.from_numpy(wav16k())[None]
    mel, mel_len = tiny_codec().features(wav, _lengths(len(wav16k())), full_window=False)
    valid = int(mel_len[0]) + 1  # the strided conv reads one frame past the valid ones
    assert mel.shape[-1] < ref["mel"].shape[-1]
    assert_close(mel[0, :, :valid], ref["mel"][:, :valid], ATOL_MEL, "trimmed mel")


def test_tokenize_full_window_codes_and_zq(ref: dict) -> None:
    out = tiny_codec().tokenize(
        torch.from_numpy(wav16k())[None], _lengths(len(wav16k())), full_window=True
    )
    np.testing.assert_array_equal(out.codes[:, 0].numpy(), ref["tokenize_codes_all"])
    assert out.lengths.tolist() == ref["tokenize_codes_lengths"].tolist()
    assert_close(out.zq[0], ref["tokenize_zq"], ATOL_HIDDEN, "zq")


def test_encode_codes_exact(ref: dict) -> None:
    codes = tiny_codec().encode(torch.from_numpy(wav16k()))
    assert codes.dtype == torch.long and codes.shape == (
        1,
        ref["codes"].shape[1],
        ref["codes"].shape[0],
    )
    np.testing.assert_array_equal(codes[0].T.numpy(), ref["codes"])
    batch = tiny_codec().encode(torch.from_numpy(np.stack([wav16k(), wav16k()])))
    assert torch.equal(batch[0], codes[0]) and torch.equal(batch[1], codes[0])


def test_decode_waveform(ref: dict) -> None:
    codes = torch.from_numpy(ref["codes"]).T
    wav = tiny_codec().decode(codes)
    assert wav.shape == (1, int(ref["detokenize_output_length"][0]))
    assert_close(wav[0], ref["decoded_wav"], ATOL_WAV, "decoded_wav")
    one = tiny_codec().detokenize(codes.T[:, None, :])
    assert_close(one[0], ref["decoded_wav"], ATOL_WAV, "detokenize")


def test_encoder_submodules(ref: dict, inter: dict) -> None:
    c, t = tiny_codec(), torch.from_numpy
    mel_len = _lengths(int(ref["mel_attention_mask"].sum()))
    with torch.inference_mode():
        sem, sem_len = c.semantic_encoder(t(ref["mel"])[None], mel_len)
        assert_close(sem[0], inter["enc_semantic_encoder"], ATOL_HIDDEN, "semantic_encoder")
        x = t(inter["enc_semantic_encoder"])[None]
        assert_close(
            c.semantic_encoder_adapter(x, sem_len)[0][0],
            inter["enc_semantic_encoder_adapter"],
            ATOL_HIDDEN,
            "semantic_encoder_adapter",
        )
        aco, aco_len = c.acoustic_encoder(t(ref["mel"])[None], mel_len)
        assert_close(aco[0], inter["enc_acoustic_encoder"], ATOL_HIDDEN, "acoustic_encoder")
        mixed = torch.cat(
            [t(inter["enc_semantic_encoder_adapter"]), t(inter["enc_acoustic_encoder"])]
        )[None]
        pre, pre_len = c.pre_rvq_adapter(mixed, aco_len)
        assert_close(pre[0], inter["enc_pre_rvq_adapter"], ATOL_HIDDEN, "pre_rvq_adapter")
        down, down_len = c.downsample(t(inter["enc_pre_rvq_adapter"])[None], pre_len)
        assert_close(down[0], inter["enc_downsample"], ATOL_HIDDEN, "downsample")
        zq, codes = c.quantizer(t(inter["enc_downsample"])[None], down_len)
        assert_close(zq[0], inter["enc_quantizer_zq"], ATOL_HIDDEN, "quantizer zq")
        np.testing.assert_array_equal(codes[:, 0].numpy(), ref["tokenize_codes_all"])


def test_decoder_submodules(ref: dict, inter: dict) -> None:
    c, t = tiny_codec(), torch.from_numpy
    codes = t(ref["codes"])[:, None, :]
    n = _lengths(codes.shape[-1])
    with torch.inference_mode():
        post, post_len = c.post_rvq_adapter(c.quantizer.decode_codes(codes), n)
        assert_close(post[0], inter["dec_post_rvq_adapter"], ATOL_HIDDEN, "post_rvq_adapter")
        up, up_len = c.upsample(t(inter["dec_post_rvq_adapter"])[None], post_len)
        assert_close(up[0], inter["dec_upsample"], ATOL_HIDDEN, "upsample")
        dec, dec_len = c.acoustic_decoder(t(inter["dec_upsample"])[None], up_len)
        assert_close(dec[0], inter["dec_acoustic_decoder"], ATOL_HIDDEN, "acoustic_decoder")
        wav = c.enhanced_vocos(t(inter["dec_acoustic_decoder"])[None])
        assert_close(wav[0], ref["decoded_wav"], ATOL_WAV, "vocos")
        assert int(dec_len[0]) * c.enhanced_vocos.cfg.hop_length == int(ref["detokenize_output_length"][0])


def test_pad_code_is_a_clear_error(ref: dict) -> None:
    from podcast.errors import SynthesisError

    codes = torch.from_numpy(ref["codes"]).T.clone()
    codes[3, 2] = tiny_codec().cfg.quantizer.codebook_size
    with pytest.raises(SynthesisError, match="pad"):
        tiny_codec().decode(codes)


def test_ragged_batch_rows_match_single_rows() -> None:
    codec, wav = tiny_codec(), torch.from_numpy(wav16k())
    short = wav.shape[0] * 3 // 5
    batch = torch.stack([wav, torch.cat([wav[:short], torch.ones(wav.shape[0] - short)])])
    codes = codec.encode(batch, lengths=torch.tensor([wav.shape[0], short]))
    frames = short // codec.cfg.encoder_downsample_rate
    assert torch.equal(codes[0], codec.encode(wav)[0])
    assert torch.equal(codes[1, :frames], codec.encode(wav[:short])[0])
    assert not codes[1, frames:].any()
    audio = codec.decode(codes, lengths=torch.tensor([codes.shape[1], frames]))
    assert torch.allclose(audio[0], codec.decode(codes[0])[0], atol=1e-6)
    assert not audio[1, frames * codec.samples_per_frame :].any()
