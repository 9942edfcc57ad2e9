"""Parity with the reference Spark-TTS on the tiny fixture models: reference-audio handling,
wav2vec2 mix, BiCodec tokenize and detokenize intermediates, prompt strings and ids, LM hidden
states and logits, the greedy traces of both modes, parsing, and the end-to-end waveforms."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from spark_helpers import (
    HIDDEN_ATOL,
    WAVE_ATOL,
    assert_abs,
    assert_close_to_peak,
    case,
    case_names,
    codec,
    npz,
    reference_names,
    require_fixtures,
    spark,
)

pytestmark = pytest.mark.parity

W2V_MIX = (11, 14, 16)


@pytest.fixture(params=reference_names())
def ref(request: pytest.FixtureRequest) -> str:
    require_fixtures()
    return request.param


@functools.cache
def _tokenize_trace(name: str) -> tuple[dict, list[int], list[int]]:
    trace: dict = {}
    global_ids, semantic = codec().tokenize(require_fixtures() / "audio" / f"{name}.wav", trace)
    return trace, global_ids, semantic


def test_reference_audio_is_loaded_normalised_and_clipped(ref: str) -> None:
    from podcast_gen_spark_tts.codec import normalize_volume, read_reference

    data = npz(f"codec_{ref}.npz")
    path = require_fixtures() / "audio" / f"{ref}.wav"
    audio, clip = codec().prepare(path)
    if "loaded_16k" in data:
        loaded = read_reference(path, codec().rate)
        assert_abs("loaded_16k", loaded, data["loaded_16k"], 1e-4)  # another resampler would miss this
    if "wav_normalized" in data:
        assert_abs("wav_normalized", audio, data["wav_normalized"], 1e-6)
    if "ref_clip" in data:
        assert_abs("ref_clip", clip, data["ref_clip"][0], 1e-6)
    if "volume_scale" in data:
        raw = read_reference(path, codec().rate)
        scale = normalize_volume(raw)[np.argmax(np.abs(raw))] / raw[np.argmax(np.abs(raw))]
        assert scale == pytest.approx(float(data["volume_scale"]), rel=1e-6)
    assert clip.shape[0] == codec().settings.clip_samples


def test_wav2vec2_mix_and_hidden_states(ref: str) -> None:
    data = npz(f"codec_{ref}.npz")
    trace, _, _ = _tokenize_trace(ref)
    if "w2v_input_values" in data:
        assert_abs("w2v_input_values", trace["w2v_input_values"], data["w2v_input_values"], 1e-5)
    if "w2v_hidden_states" in data:
        # Entries up to the deepest mixed layer are raw layer outputs (later layers are skipped).
        keep = max(W2V_MIX) + 1
        assert_close_to_peak("w2v_hidden_states", trace["w2v_hidden_states"][:keep], data["w2v_hidden_states"][:keep])
    if "feats_mix" in data:
        mix = sum(trace["w2v_hidden_states"][i] for i in W2V_MIX) / len(W2V_MIX)
        assert_close_to_peak("feats_mix", mix, data["feats_mix"])


@pytest.mark.parametrize("key", ["enc_backbone_out", "enc_downsample_out", "z", "z_e", "mel", "semantic_top2_gap"])
def test_tokenize_intermediates(ref: str, key: str) -> None:
    data = npz(f"codec_{ref}.npz")
    if key not in data:
        pytest.skip(f"codec_{ref}.npz stores no {key}")
    trace, _, _ = _tokenize_trace(ref)
    assert_close_to_peak(key, trace[key], data[key])


def test_speaker_path_intermediates(ref: str) -> None:
    data = npz(f"codec_{ref}.npz")
    speaker = codec().model.speaker_encoder
    mel = torch.from_numpy(data["mel"])
    with torch.inference_mode():
        latent = speaker.speaker_encoder.latent(mel)
        tokens = speaker.perceiver_sampler(latent.transpose(1, 2))
        projected = speaker.quantizer.project_in(tokens)
        bounded = speaker.quantizer.bound(projected)
        codes = speaker.quantizer.codes(projected)
        found = {
            "ecapa_latent_first64": latent[..., : data.get("ecapa_latent_first64", latent).shape[-1]],
            "ecapa_latent_mean_t": latent.mean(dim=-1),
            "ecapa_xvector": speaker.speaker_encoder.xvector(latent),
            "perceiver_out": tokens,
            "fsq_input": projected,
            "fsq_bounded": bounded,
            "fsq_round_margin": (bounded - bounded.round()).abs().amax(dim=-1),
            "fsq_codes": codes,
            "rfsq_quantized": speaker.quantizer.project_out(codes).transpose(1, 2),
        }
        ids = speaker.quantizer.indices(codes)
    present = [k for k in found if k in data]
    for key in present:
        assert_close_to_peak(key, found[key], data[key])
    assert ids.tolist() == data["global_ids"].reshape(1, -1).tolist()


def test_tokenize_ids_are_exact(ref: str) -> None:
    data = npz(f"codec_{ref}.npz")
    _, global_ids, semantic = _tokenize_trace(ref)
    assert global_ids == data["global_ids"].ravel().tolist()
    assert semantic == data["semantic_ids"].ravel().tolist()


def _detokenize(global_ids: np.ndarray, semantic: np.ndarray) -> tuple[dict, np.ndarray]:
    trace: dict = {}
    g = torch.from_numpy(global_ids.reshape(1, -1).astype(np.int64))
    s = torch.from_numpy(semantic.reshape(1, -1).astype(np.int64))
    with torch.inference_mode():
        wav = codec().model.detokenize(s, g, trace)
    return trace, wav[0].numpy()


def test_detokenize_intermediates_and_wave(ref: str) -> None:
    data = npz(f"codec_{ref}.npz")
    trace, wav = _detokenize(data["global_ids"], data["semantic_ids"])
    keys = [k for k in data if k.startswith("detok_") and k != "detok_wav"]
    if not keys and "detok_wav" not in data:
        pytest.skip(f"codec_{ref}.npz stores no detokenize arrays")
    for key in keys:
        assert_close_to_peak(key, trace[key], data[key])
    assert wav.shape[0] == data["semantic_ids"].size * codec().settings.latent_hop_length
    if "detok_wav" in data:
        assert_abs("detok_wav", wav, data["detok_wav"], WAVE_ATOL)


# ── language model ────────────────────────────────────────────────────────────────


@pytest.fixture(params=case_names())
def lm_case(request: pytest.FixtureRequest) -> dict:
    require_fixtures()
    return case(request.param)


def _prompt(entry: dict) -> str:
    from podcast_gen_spark_tts.prompts import clone_prompt, create_prompt

    if entry.get("gender") is not None:
        return create_prompt(entry["text"], entry["gender"], entry["pitch"], entry["speed"])
    ref = npz(f"codec_{entry['ref']}.npz")
    return clone_prompt(
        entry["text"], ref["global_ids"].ravel().tolist(), entry.get("prompt_text"), ref["semantic_ids"].ravel().tolist()
    )


def test_prompt_string_and_ids(lm_case: dict) -> None:
    data = npz(f"lm_{lm_case['name']}.npz")
    prompt = _prompt(lm_case)
    assert prompt == lm_case["prompt"]
    ids = spark().encode(prompt)
    assert ids == data["prompt_input_ids"][0].tolist()
    assert len(ids) == lm_case.get("n_prompt_tokens", len(ids))


def test_prompt_forward_hidden_states_and_logits(lm_case: dict) -> None:
    data = npz(f"lm_{lm_case['name']}.npz")
    ids = torch.from_numpy(data["prompt_input_ids"])
    with torch.inference_mode():
        out = spark().lm.model(ids, attention_mask=torch.from_numpy(data["prompt_attention_mask"]), output_hidden_states=True)
    if "prompt_hidden_states" in data:
        assert_abs("prompt_hidden_states", torch.cat(out.hidden_states).numpy(), data["prompt_hidden_states"], HIDDEN_ATOL)
    if "prompt_last_logits" in data:
        assert_abs("prompt_last_logits", out.logits[0, -1].numpy(), data["prompt_last_logits"], HIDDEN_ATOL)


def test_greedy_trace_and_parse(lm_case: dict) -> None:
    from podcast_gen_spark_tts.lm import Sampling

    data = npz(f"lm_{lm_case['name']}.npz")
    steps: list[torch.Tensor] = []
    model = spark()
    sampling = Sampling(temperature=0.0, max_new_tokens=lm_case["max_new_tokens"])
    generated = model.lm.generate(
        [data["prompt_input_ids"][0].tolist()], sampling, on_step=lambda _, logits: steps.append(logits[0].clone())
    )[0]
    assert generated == data["generated_ids"].tolist()
    logits = torch.stack(steps)
    top = logits.topk(5, dim=-1)
    if "step_top5_ids" in data:
        assert top.indices.tolist() == data["step_top5_ids"].tolist()
    if "step_top5_logits" in data:
        assert_abs("step_top5_logits", top.values.numpy(), data["step_top5_logits"], HIDDEN_ATOL)
    for key, rows in (("step_logits_first4", logits[:4]), ("step_logits_last2", logits[-2:])):
        if key in data:
            assert_abs(key, rows.numpy(), data[key], HIDDEN_ATOL)
    global_ids, semantic = model.vocab.parse(generated)
    assert semantic == data["parsed_semantic_ids"].tolist()
    if lm_case.get("gender") is not None:
        assert global_ids == data["parsed_global_ids"].tolist()
    if "ended_with_eos" in lm_case:
        assert bool(generated and generated[-1] == model.vocab.eos) == lm_case["ended_with_eos"]


def test_parse_matches_the_reference_regex_on_decoded_text(lm_case: dict) -> None:
    import re

    data = npz(f"lm_{lm_case['name']}.npz")
    model = spark()
    text = model.tokenizer.batch_decode([data["generated_ids"].tolist()], skip_special_tokens=True)[0]
    if "decoded_text" in lm_case:
        assert text == lm_case["decoded_text"]
    global_ids, semantic = model.vocab.parse(data["generated_ids"].tolist())
    assert semantic == [int(x) for x in re.findall(r"bicodec_semantic_(\d+)", text)]
    assert global_ids == [int(x) for x in re.findall(r"bicodec_global_(\d+)", text)]


def test_end_to_end_decode(lm_case: dict) -> None:
    data = npz(f"lm_{lm_case['name']}.npz")
    if lm_case.get("gender") is not None:
        global_ids = data["parsed_global_ids"]
    else:
        global_ids = npz(f"codec_{lm_case['ref']}.npz")["global_ids"]
    trace, wav = _detokenize(global_ids, data["parsed_semantic_ids"])
    for key in (k for k in data if k.startswith("detok_")):
        assert_close_to_peak(key, trace[key], data[key])
    assert wav.shape[0] == lm_case.get("wav_samples", data["parsed_semantic_ids"].size * codec().settings.latent_hop_length)
    if "wav" in data:
        assert_abs("wav", wav, data["wav"], WAVE_ATOL)


def test_batched_greedy_decoding_matches_one_by_one() -> None:
    """Left-padded batches give every row the trace it has alone (the static-cache loop)."""
    from podcast_gen_spark_tts.lm import Sampling

    names = [n for n in case_names() if n != "absent"]
    if len(names) < 2:
        pytest.skip("fewer than two LM cases in this fixture set")
    arrays = [npz(f"lm_{n}.npz") for n in names]
    prompts = [a["prompt_input_ids"][0].tolist() for a in arrays]
    longest = max(case(n)["max_new_tokens"] for n in names)
    rows = spark().lm.generate(prompts, Sampling(temperature=0.0, max_new_tokens=longest))
    for name, data, row in zip(names, arrays, rows, strict=True):
        expected = data["generated_ids"].tolist()
        assert row[: len(expected)] == expected, name
