"""Parity with the upstream CosyVoice code, on the reference fixtures (``$COSYVOICE_FIXTURES``).

Sizes, ids and lengths come from the files; a check whose arrays a fixture set does not store is
skipped alone. Tolerances are the fixture README's: tokens exact, LM log-probs 1e-4, flow 1e-4,
f0 relative 1e-5, source and waveform 1e-3, frontend 1e-4 (Whisper log-mel and fbank 1e-3).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from cosyvoice_helpers import Arrays, close, fixture_root, meta

pytestmark = pytest.mark.parity

CASES = ("zero_shot", "cross_lingual", "instruct2")
HIFT_SEEDS = {"zero_shot": 11, "cross_lingual": 12, "instruct2": 13}


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def root() -> Path:
    return fixture_root()


@pytest.fixture(scope="module")
def model(root: Path):
    from podcast_gen_cosyvoice.model import CosyVoice2

    return CosyVoice2(root / "model")


def _trace(root: Path, case: str) -> Arrays:
    return Arrays(root / "reference" / f"{case}.npz")


def _prompt(root: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    samples, rate = sf.read(root / "prompt.wav", dtype="float32", always_2d=True)
    return samples.mean(axis=1), rate


# ── frontend ──────────────────────────────────────────────────────────────────────────────


def test_frontend_features(root: Path, model) -> None:
    from podcast.neural.resample import sinc_resample
    from podcast_gen_cosyvoice.frontend import fbank_features, prompt_features, prompt_mel, whisper_features

    ref = Arrays(root / "reference" / "frontend.npz")
    samples, rate = _prompt(root)
    wav = torch.from_numpy(samples)[None]
    wav16, wav24 = sinc_resample(wav, rate, 16000), sinc_resample(wav, rate, 24000)
    if ref.has("wav16"):
        close(wav16, ref["wav16"], 1e-4, "16 kHz prompt")
    if ref.has("wav24"):
        close(wav24, ref["wav24"], 1e-4, "24 kHz prompt")
    mel128 = whisper_features(wav16)
    if ref.has("whisper_logmel128"):
        close(mel128, ref["whisper_logmel128"], 1e-3, "whisper log-mel")
    if ref.has("speech_token_raw"):
        assert model.onnx.speech_tokens(mel128).tolist() == ref["speech_token_raw"].reshape(-1).tolist()
    fbank = fbank_features(wav16)
    if ref.has("fbank80_cmn"):
        close(fbank, ref["fbank80_cmn"], 1e-3, "mean-normalised fbank")
    features = prompt_features(samples, rate, model.onnx, model.mel)
    if ref.has("campplus_embedding"):
        close(features.embedding, ref["campplus_embedding"], 1e-4, "CAM++ embedding")
    if ref.has("speech_feat_raw"):
        raw = prompt_mel(wav24, model.mel)
        close(raw, ref["speech_feat_raw"][0], 1e-4, "prompt mel")
        close(features.mel, ref["speech_feat_raw"][0][: features.mel.shape[0]], 1e-4, "aligned prompt mel")
    if ref.has("speech_token_aligned"):
        assert features.tokens.tolist() == ref["speech_token_aligned"].reshape(-1).tolist()


def test_text_normalization_and_splitting(root: Path, model) -> None:
    from podcast_gen_cosyvoice.text import normalize

    path = root / "reference" / "text_normalize.json"
    if not path.is_file():
        pytest.skip("text_normalize.json is not in this fixture set")
    for case in json.loads(path.read_text(encoding="utf-8")):
        split = normalize(case["input"], model.tokenizer.encode)
        assert split == case["split_true"], case.get("id")
        assert normalize(case["input"], model.tokenizer.encode, split=False) == case["split_false"], case.get("id")
        if "segment_token_ids" in case:
            assert [model.tokenizer.encode(s) for s in split] == case["segment_token_ids"], case.get("id")


def test_tokenizer_special_ids(root: Path, model) -> None:
    ids = meta(root).get("tokenizer", {}).get("special_ids", {})
    if not ids:
        pytest.skip("meta.json lists no tokenizer ids")
    assert {token: model.tokenizer.id_of(token) for token in ids} == ids


def test_saved_speakers_match_the_frontend(root: Path, model) -> None:
    """``spk2info.pt`` (written by the reference) holds what our frontend computes from the prompt."""
    stored = model.stored_voices()
    if not stored:
        pytest.skip("no spk2info.pt in this fixture set")
    saved = next(iter(stored.values()))
    samples, rate = _prompt(root)
    ours = model.voice(samples, rate, meta(root)["cases"]["zero_shot"]["prompt_text"])
    assert ours.features.tokens.tolist() == saved.features.tokens.tolist()
    assert list(ours.text_ids) == list(saved.text_ids)
    close(ours.features.mel, saved.features.mel, 1e-4, "saved prompt mel")
    close(ours.features.embedding, saved.features.embedding, 1e-4, "saved embedding")


# ── LM ────────────────────────────────────────────────────────────────────────────────────


def _ids(trace: Arrays, key: str) -> torch.Tensor:
    return trace.t(key).reshape(-1).long() if trace.has(key) else torch.zeros(0, dtype=torch.long)


def _lm_input(model, trace: Arrays, case: str) -> torch.Tensor:
    prompt_text = _ids(trace, "prompt_text_token") if case != "cross_lingual" else torch.zeros(0, dtype=torch.long)
    speech = _ids(trace, "llm_prompt_speech_token") if case == "zero_shot" else torch.zeros(0, dtype=torch.long)
    with torch.inference_mode():
        return model.lm.embed_input(_ids(trace, "text_token"), prompt_text, speech)


@pytest.mark.parametrize("case", CASES)
def test_lm_input_assembly(root: Path, model, case: str) -> None:
    trace = _trace(root, case)
    trace.need("text_token", "lm_input")
    got = _lm_input(model, trace, case)
    close(got, trace["lm_input"], 1e-5, f"{case} LM input")
    segments = meta(root)["cases"][case].get("lm_input_segments")
    if segments:
        assert sum(n for _, n in segments) == got.shape[1]


def _observe(model, trace: Arrays, case: str, forced: list[int] | None):
    from podcast_gen_cosyvoice.lm import Sampling

    hidden, logps = [], []
    n = trace["text_token"].size
    out = model.lm.generate(_lm_input(model, trace, case), 2 * n, 20 * n, Sampling(greedy=True),
                            observe=lambda i, h, lp: (hidden.append(h), logps.append(lp)), forced=forced)  # fmt: skip
    return out, torch.stack(hidden), torch.stack(logps)


@pytest.mark.parametrize("case", CASES)
def test_lm_log_probs_along_reference_tokens(root: Path, model, case: str) -> None:
    """Teacher forcing: the reference's tokens fed back; every step's log-probs compared."""
    trace = _trace(root, case)
    trace.need("text_token", "speech_tokens")
    tokens = trace["speech_tokens"].reshape(-1).tolist()
    _, hidden, logp = _observe(model, trace, case, forced=tokens + [model.lm.speech_token_size])
    steps = len(tokens) + 1
    if trace.has("lm_last_hidden"):
        close(hidden[:steps], trace["lm_last_hidden"], 1e-4, f"{case} LM hidden")
    if trace.has("logp_top16_ids", "logp_top16_values"):
        ids = trace.t("logp_top16_ids").long()
        close(torch.gather(logp[: ids.shape[0]], 1, ids), trace["logp_top16_values"], 1e-4, f"{case} top-16 log-probs")
    if trace.has("logp_eos"):
        eos = trace["logp_eos"]
        close(logp[: eos.shape[0], model.lm.speech_token_size], eos, 1e-4, f"{case} EOS log-prob")
    if trace.has("logp_full_first_steps"):
        full = trace["logp_full_first_steps"]
        close(logp[: full.shape[0]], full, 1e-4, f"{case} full log-prob rows")


@pytest.mark.parametrize("case", CASES)
def test_lm_greedy_free_run(root: Path, model, case: str) -> None:
    """Free-running greedy decoding equals the reference up to the first step whose top-1 margin
    is too small to decide at float32 precision (all of it when every margin is safe)."""
    trace = _trace(root, case)
    trace.need("text_token", "speech_tokens")
    tokens = trace["speech_tokens"].reshape(-1).tolist()
    out, _, _ = _observe(model, trace, case, forced=None)
    safe = len(tokens) + 1
    if trace.has("greedy_gap"):
        unsafe = np.flatnonzero(trace["greedy_gap"] < 1e-3)
        safe = int(unsafe[0]) if unsafe.size else safe
    assert out[:safe] == tokens[:safe]
    if safe > len(tokens):
        assert out == tokens  # stopped at the same step


def test_ras_sampler_trace(root: Path, model) -> None:
    from podcast_gen_cosyvoice.lm import Sampling

    trace = Arrays(root / "reference" / "ras_trace.npz")
    zero = _trace(root, "zero_shot")
    zero.need("text_token", "prompt_text_token", "llm_prompt_speech_token")
    seed = meta(root)["cases"].get("ras_trace", {}).get("seed") or meta(root)["seeds"]["ras_seed"]
    sampling = Sampling(**{k: getattr(model.sampling, k) for k in ("top_p", "top_k", "win_size", "tau_r")})
    n = zero["text_token"].size
    logps: list[torch.Tensor] = []
    out = model.lm.generate(_lm_input(model, zero, "zero_shot"), 2 * n, 20 * n, sampling,
                            generator=torch.Generator().manual_seed(int(seed)),
                            observe=lambda i, h, lp: logps.append(lp))  # fmt: skip
    assert out == trace["speech_tokens"].reshape(-1).tolist()
    if trace.has("logp_top32_ids", "logp_top32_values"):
        ids = trace.t("logp_top32_ids").long()
        close(torch.gather(torch.stack(logps)[: ids.shape[0]], 1, ids), trace["logp_top32_values"], 1e-4, "RAS log-probs")
    decisions_file = root / "reference" / "ras_trace.json"
    if decisions_file.is_file():
        decisions = json.loads(decisions_file.read_text(encoding="utf-8")).get("decisions", [])
        # a nucleus draw followed by a fallback was replaced by the fallback's choice
        final = [d["chosen"] for i, d in enumerate(decisions)
                 if i + 1 == len(decisions) or decisions[i + 1].get("kind") != "random_fallback"]  # fmt: skip
        assert final[: len(out)] == out


# ── flow ──────────────────────────────────────────────────────────────────────────────────


def _step0(flow, trace: Arrays, mu: torch.Tensor, spk: torch.Tensor, what: str) -> None:  # noqa: ANN001
    """The estimator's first call (t = 0) on the reference noise: guided and unguided rows."""
    x, c, z = trace.t("cfm_noise"), trace.t("cfm_cond"), torch.zeros_like
    out = flow.decoder.estimator(torch.cat([x, x]), torch.ones(2, 1, x.shape[-1]), torch.cat([mu, z(mu)]),
                                 torch.zeros(2), torch.cat([spk, z(spk)]), torch.cat([c, z(c)]))  # fmt: skip
    close(out[:1], trace["est_step0_out_cond"], 1e-4, f"{what} step 0 (conditioned)")
    close(out[1:], trace["est_step0_out_uncond"], 1e-4, f"{what} step 0 (unconditioned)")


@pytest.mark.parametrize("case", CASES)
def test_flow_every_solver_step(root: Path, model, case: str) -> None:
    trace = _trace(root, case)
    trace.need("flow_prompt_token", "flow_token", "flow_prompt_feat", "flow_embedding_in", "flow_mel_out")
    flow = model.flow
    tokens = torch.cat([trace.t("flow_prompt_token"), trace.t("flow_token")], dim=1).long()
    lengths = torch.tensor([tokens.shape[1]])
    with torch.inference_mode():
        spk = flow.speaker(trace.t("flow_embedding_in"))
        if trace.has("flow_spk_proj"):
            close(spk, trace["flow_spk_proj"], 1e-5, "speaker projection")
        if trace.has("flow_token_embedding_masked"):
            close(flow.input_embedding(tokens), trace["flow_token_embedding_masked"], 1e-6, "token embedding")
        if trace.has("flow_encoder_out"):
            close(flow.encoder(flow.input_embedding(tokens), lengths), trace["flow_encoder_out"], 1e-4, "encoder")
        mu = flow.mu(tokens, lengths)
        if trace.has("flow_mu"):
            close(mu, trace["flow_mu"], 1e-4, "mu")
        if trace.has("cfm_noise"):
            close(flow.decoder.noise(mu.shape[1], mu), trace["cfm_noise"], 0.0, "fixed noise")
        if trace.has("est_step0_out_cond", "cfm_cond", "cfm_noise"):
            _step0(flow, trace, mu.transpose(1, 2), spk, "estimator")
        steps: list[torch.Tensor] = []
        prompt = trace.t("flow_prompt_feat")
        mel = flow.inference(tokens, lengths, prompt, torch.tensor([prompt.shape[1]]), trace.t("flow_embedding_in"),
                             on_step=lambda k, x: steps.append(x[0].clone()))  # fmt: skip
    if trace.has("cfm_x_after_step"):
        close(torch.stack(steps), trace["cfm_x_after_step"], 1e-4, "every solver step")
    if trace.has("cfm_x_after_step1"):
        close(steps[0], trace["cfm_x_after_step1"], 1e-4, "solver step 1")
    if trace.has("cfm_x_final_full"):
        close(steps[-1], trace["cfm_x_final_full"], 1e-4, "final solver state")
    if trace.has("cfm_t"):
        from podcast.neural.flow import time_grid

        close(time_grid(len(steps), schedule="cosine")[:-1], trace["cfm_t"], 1e-6, "time grid")
    close(mel[0][None], trace["flow_mel_out"], 1e-4, f"{case} flow mel")


# ── HiFT ──────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("case", CASES)
def test_hift_waveform(root: Path, model, case: str) -> None:
    trace = _trace(root, case)
    trace.need("flow_mel_out", "tts_speech")
    seed = meta(root)["cases"].get(case, {}).get("hift_seed", HIFT_SEEDS[case])
    hift = model.hift
    mel = trace.t("flow_mel_out")
    with torch.inference_mode():
        f0 = hift.f0(mel)
        if trace.has("hift_f0"):
            close(f0, trace["hift_f0"], 1e-5, "f0", relative=True)
        gen = torch.Generator().manual_seed(int(seed))
        if trace.has("hift_draw0_rand"):
            close(torch.rand(1, hift.harmonics, generator=torch.Generator().manual_seed(int(seed))),
                  trace["hift_draw0_rand"], 0.0, "first random draw")  # fmt: skip
        source = hift.source(f0, gen)
        if trace.has("hift_source"):
            close(source, trace["hift_source"], 1e-3, "NSF source")
        wav = hift.decode(mel, source)
    close(wav, trace["tts_speech"], 1e-3, f"{case} waveform")


def test_zero_shot_end_to_end_from_the_prompt_file(root: Path, model) -> None:
    """Prompt file + texts -> waveform through every stage of the native pipeline (greedy LM)."""
    case = meta(root)["cases"]["zero_shot"]
    trace = _trace(root, "zero_shot")
    samples, rate = _prompt(root)
    voice = model.voice(samples, rate, case["prompt_text"])
    if trace.has("prompt_text_token"):
        assert list(voice.text_ids) == trace["prompt_text_token"].reshape(-1).tolist()
    wav = model.synthesize(case["tts_text"], voice, greedy=True, seed=int(case.get("hift_seed", 11)))
    close(wav, trace["tts_speech"].reshape(-1), 1e-3, "zero-shot waveform")


# ── CosyVoice 3 token-to-audio ────────────────────────────────────────────────────────────


def test_cosyvoice3_token_to_audio(root: Path) -> None:
    from podcast.neural.checkpoint import load_strict, read_state_dict
    from podcast_gen_cosyvoice.config import read_yaml
    from podcast_gen_cosyvoice.dit import build_flow_v3
    from podcast_gen_cosyvoice.hift import replay_cv3_noise
    from podcast_gen_cosyvoice.model import load_hift

    folder = root / "cosyvoice3" / "model"
    trace = Arrays(root / "cosyvoice3" / "reference" / "token2wav.npz")
    if not (folder / "cosyvoice3.yaml").is_file():
        pytest.skip("no CosyVoice 3 part in this fixture set")
    cfg = read_yaml(folder / "cosyvoice3.yaml")
    with torch.device("meta"):
        flow = build_flow_v3(cfg["flow"])
    load_strict(flow, read_state_dict(folder / "flow.pt"), what="flow.pt")
    hift = load_hift(folder / "hift.pt", cfg["hift"], 3, torch.device("cpu"))
    tokens = torch.cat([trace.t("prompt_token"), trace.t("token")], dim=1).long()
    lengths = torch.tensor([tokens.shape[1]])
    with torch.inference_mode():
        if trace.has("flow_spk_proj"):
            close(flow.speaker(trace.t("embedding")), trace["flow_spk_proj"], 1e-5, "v3 speaker projection")
        if trace.has("flow_pre_lookahead_out"):
            emb = flow.input_embedding(tokens)
            close(flow.pre_lookahead_layer(emb), trace["flow_pre_lookahead_out"], 1e-5, "v3 pre-lookahead")
        mu = flow.mu(tokens, lengths).transpose(1, 2)
        if trace.has("flow_mu"):
            close(mu, trace["flow_mu"], 1e-5, "v3 mu")
        if trace.has("est_step0_out_cond", "cfm_noise", "cfm_cond", "flow_spk_proj"):
            _step0(flow, trace, mu, trace.t("flow_spk_proj"), "DiT")
        steps: list[torch.Tensor] = []
        prompt = trace.t("prompt_feat")
        mel = flow.inference(tokens, lengths, prompt, torch.tensor([prompt.shape[1]]), trace.t("embedding"),
                             on_step=lambda k, x: steps.append(x[0].clone()))[0]  # fmt: skip
        if trace.has("cfm_x_after_step1"):
            close(steps[0], trace["cfm_x_after_step1"], 1e-4, "v3 solver step 1")
        if trace.has("cfm_x_final_full"):
            close(steps[-1], trace["cfm_x_final_full"], 1e-4, "v3 final solver state")
        close(mel[None], trace["flow_mel_out"], 1e-4, "v3 flow mel")
        length = trace["tts_speech"].shape[-1]
        noise = replay_cv3_noise(hift, seconds=max(1, -(-length // hift.sample_rate)))
        if trace.has("hift_fixed_rand_ini"):
            close(noise["rand_ini"], trace["hift_fixed_rand_ini"], 0.0, "v3 fixed initial phases")
        if trace.has("hift_fixed_sine_noise"):
            close(noise["sine_waves"][:, :length], trace["hift_fixed_sine_noise"], 0.0, "v3 fixed source noise")
        hift.set_noise(noise)
        ref_mel = trace.t("flow_mel_out")
        f0 = hift.f0(ref_mel)
        if trace.has("hift_f0"):
            close(f0, trace["hift_f0"], 1e-5, "v3 f0", relative=True)
        source = hift.source(f0)
        if trace.has("hift_source"):
            close(source, trace["hift_source"], 1e-3, "v3 source")
        close(hift.decode(ref_mel, source), trace["tts_speech"], 1e-3, "v3 waveform")


# ── full-size manifests ───────────────────────────────────────────────────────────────────


def _manifest(root: Path) -> dict:
    path = root / "manifest_full.json"
    if not path.is_file():
        pytest.skip("manifest_full.json is not in this fixture set")
    return json.loads(path.read_text(encoding="utf-8"))


def _expected(entry: dict) -> dict:
    return {**entry.get("keys", {}), **entry.get("buffers_in_state_dict", {})}


def _check(module: torch.nn.Module, entry: dict, what: str) -> None:
    from podcast.neural.checkpoint import load_strict, manifest

    ours = manifest(module)
    expected = {k: v for k, v in _expected(entry).items() if k in ours or k in entry.get("keys", {})}
    assert ours == expected, f"{what}: manifest differs"
    load_strict(module, {k: torch.empty(v, device="meta") for k, v in expected.items()}, what=what)


def test_full_size_manifests_v2(root: Path) -> None:
    from podcast_gen_cosyvoice.config import RELEASED, RELEASED_QWEN
    from podcast_gen_cosyvoice.flow import build_flow_v2
    from podcast_gen_cosyvoice.hift import build_hift
    from podcast_gen_cosyvoice.lm import Qwen2LM, QwenConfig

    full = _manifest(root)["cosyvoice2"]
    with torch.device("meta"):
        _check(Qwen2LM(QwenConfig(**RELEASED_QWEN)), full["llm"], "CosyVoice2 llm.pt")
        _check(build_flow_v2(RELEASED[2]["flow"]), full["flow"], "CosyVoice2 flow.pt")
        _check(build_hift(RELEASED[2]["hift"], 2), full["hift"], "CosyVoice2 hift.pt")


def test_full_size_manifests_v3_token_to_audio(root: Path) -> None:
    from podcast_gen_cosyvoice.config import RELEASED
    from podcast_gen_cosyvoice.dit import build_flow_v3
    from podcast_gen_cosyvoice.hift import build_hift

    full = _manifest(root).get("cosyvoice3")
    if not full:
        pytest.skip("no CosyVoice 3 manifest in this fixture set")
    with torch.device("meta"):
        _check(build_flow_v3(RELEASED[3]["flow"]), full["flow"], "CosyVoice3 flow.pt")
        _check(build_hift(RELEASED[3]["hift"], 3), full["hift"], "CosyVoice3 hift.pt")
