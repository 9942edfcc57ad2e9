"""MOSS-Audio-Tokenizer parity: encode (every intermediate, codes exact), decode, chunked
streaming decode, and the full-size parameter manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from .conftest import close, npz

pytestmark = pytest.mark.parity
ATOL = 1e-4
ATOL_WAV = 1e-3


def _prompts(v1_dir: Path) -> list[torch.Tensor]:
    from podcast.stages.synthesize.moss_ttsd.v1.codec import loudness_normalize

    waves = [sf.read(v1_dir / "codec" / f"prompt_s{k}_24k.wav", dtype="float32")[0] for k in (1, 2)]
    return [loudness_normalize(torch.from_numpy(w)) for w in waves]


def test_encode_batch_matches_every_intermediate(v1_dir: Path, codec) -> None:
    ref = npz(v1_dir / "codec" / "encode_batch.npz")
    prompts = _prompts(v1_dir)
    for k, wav in enumerate(prompts, start=1):
        if f"wav_s{k}_loudnorm" in ref:
            close(wav, ref[f"wav_s{k}_loudnorm"], 1e-6, f"loudness-normalised prompt {k}")
    batch = torch.zeros(len(prompts), 1, max(len(w) for w in prompts))
    for b, wav in enumerate(prompts):
        batch[b, 0, : len(wav)] = wav
    trace: dict = {}
    codes, lengths = codec.encode(batch, torch.tensor([len(w) for w in prompts]), trace=trace)
    assert lengths.tolist() == ref["audio_codes_lengths"].tolist()
    for key, value in ref.items():
        if key in trace and key.endswith(("out0", "_out2", "hidden_states", "input_proj_out")):
            close(trace[key], value, ATOL, key)
        elif key in trace and key.endswith(("out1",)):
            assert np.array_equal(trace[key].numpy(), value), key
    assert np.array_equal(codes.numpy(), ref["audio_codes_32"])
    if "audio_codes_16" in ref:
        sixteen, _ = codec.encode(batch, torch.tensor([len(w) for w in prompts]), n_q=16)
        assert np.array_equal(sixteen.numpy(), ref["audio_codes_16"])


def test_decode_matches_every_intermediate(v1_dir: Path, codec) -> None:
    ref = npz(v1_dir / "codec" / "decode_s1.npz")
    trace: dict = {}
    audio = codec.decode(torch.from_numpy(ref["codes"]), trace=trace)
    for key, value in ref.items():
        if key.startswith(("decoder", "quantizer")) and key.endswith(("out0", "codes")):
            close(trace[key], value, ATOL if "decoder7" not in key else ATOL_WAV, key)
    close(audio, ref["audio"], ATOL_WAV, "audio")
    assert audio.shape[-1] == int(ref["audio_lengths"][0])


def test_streaming_decode_reproduces_the_reference_chunking(v1_dir: Path, codec) -> None:
    ref = npz(v1_dir / "codec" / "streaming.npz")
    codes = torch.from_numpy(ref["long_codes"])
    close(codec.decode(codes), ref["decode_full"], ATOL_WAV, "one-pass causal decode")
    chunked = codec.decode(codes, chunk_frames=100)
    close(chunked, ref["decode_chunk8"], ATOL_WAV, "8 s chunked decode (ring caches)")
    pieces = list(codec.stream_decode(codes.split(100, dim=-1)))
    assert len(pieces) == -(-codes.shape[-1] // 100)
    close(torch.cat(pieces, dim=-1), ref["decode_chunk8"], ATOL_WAV, "streamed pieces")
    wav = torch.from_numpy(ref["long_wav"])[None, None]
    full, lengths = codec.encode(wav, n_q=ref["encode_full_codes"].shape[0])
    assert np.array_equal(full.numpy(), ref["encode_full_codes"])
    assert lengths.tolist() == ref["encode_full_lengths"].tolist()


FULL_CODEC = {
    "sampling_rate": 24000,
    "downsample_rate": 1920,
    "causal_transformer_context_duration": 10,
    "quantizer_type": "rlfq",
    "quantizer_kwargs": {"codebook_dim": 8, "codebook_size": 1024, "input_dim": 768, "num_quantizers": 32,
                         "output_dim": 768, "quantizer_type": "rlfq", "rvq_dim": 512},  # fmt: skip
}


def _tf(d_model: int, d_in: int, d_out: int, layers: int, heads: int, ff: int) -> dict:
    return {"module_type": "Transformer", "d_model": d_model, "input_dimension": d_in, "output_dimension": d_out,
            "num_layers": layers, "num_heads": heads, "dim_feedforward": ff}  # fmt: skip


def _patch(size: int) -> dict:
    return {"module_type": "PatchedPretransform", "patch_size": size}


def test_full_size_codec_manifest(v1_dir: Path) -> None:
    from podcast.neural.checkpoint import manifest_differences
    from podcast.stages.synthesize.moss_ttsd.v1.codec import CodecConfig, MossAudioTokenizer

    expected = json.loads((v1_dir / "manifests" / "manifest_full_codec.json").read_text())
    raw = {
        **FULL_CODEC,
        "encoder_kwargs": [_patch(240), _tf(768, 240, 384, 12, 12, 3072), _patch(2), _tf(768, 768, 384, 12, 12, 3072),
                           _patch(2), _tf(768, 768, 640, 12, 12, 3072), _patch(2), _tf(1280, 1280, 768, 32, 20, 5120)],
        "decoder_kwargs": [_tf(1280, 768, 1280, 32, 20, 5120), _patch(2), _tf(768, 640, 768, 12, 12, 3072), _patch(2),
                           _tf(768, 384, 768, 12, 12, 3072), _patch(2), _tf(768, 384, 240, 12, 12, 3072), _patch(240)],
    }  # fmt: skip
    with torch.device("meta"):
        model = MossAudioTokenizer(CodecConfig.from_dict(raw))
    shapes = {p["name"]: p["shape"] for p in expected["parameters"]}
    assert manifest_differences(model, shapes) == []
    assert sum(int(np.prod(s)) for s in shapes.values()) == expected["total_parameters"]


def test_missing_codec_files_are_named(tmp_path: Path) -> None:
    from podcast.errors import MissingModelError
    from podcast.stages.synthesize.moss_ttsd.v1.codec import load_codec

    with pytest.raises(MissingModelError, match=r"missing in .*config\.json, model\.safetensors"):
        load_codec(tmp_path)
