"""Parity with the reference ZipVoice-Dialog: tokens, features, every stored solver state,
mel, vocoder output and waveform of the fixture cases (tiny random models run through the
upstream code), plus strict full-size manifests. Sizes, keys and step counts are read from the
fixture files; checks whose arrays a fixture set does not store are skipped."""

from __future__ import annotations

import json

import numpy as np
import pytest
from zipvoice_helpers import as_numpy, case_names, fixtures_root, run_case

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")

# README tolerances: 1e-5 on fbank, text path and solver states of the short cases; 1e-4 on
# waveforms and on the long case's features; integers and strings exactly.
TIGHT, LOOSE = 1e-5, 1e-4
# A log-mel whose band holds little of its frame's energy (the lowest bands, next to DC) carries
# the float32 FFT's rounding, which scales with the frame, amplified by the log: MKL's AVX-512 and
# AVX2 kernels give the same prompt log-mels 2.3e-5 apart there, while the linear mels differ by
# at most 4.8e-7 of the frame's loudest band. Such an entry passes when its linear mel is that
# close; everything else keeps the README's 1e-5 on the log. Rounding has no direction: over all
# entries the log differences average under 1.3e-7 with an RMS under 5.7e-7 on both kernels, so
# a systematic error (a scale, a window) that the per-entry test could let through fails there.
FFT_REL = 1e-6
MEAN_LOG, RMS_LOG = 1e-6, 2e-6
MELS = 100


def _close(name: str, mine: object, ref: np.ndarray, tol: float) -> None:
    got = as_numpy(mine)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    if ref.dtype.kind in "biu":
        assert np.array_equal(got.astype(ref.dtype), ref), f"{name}: integers differ"
        return
    diff = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    assert diff <= tol, f"{name}: max |difference| {diff:.3g} > {tol}"


def test_tokenizer_cases() -> None:
    from podcast_gen_zipvoice.tokenizer import DialogTokenizer, preprocess, segment_text

    root = fixtures_root()
    path = root / "tokenizer" / "cases.json"
    if not path.is_file():
        pytest.skip("fixture set has no tokenizer/cases.json")
    spec = json.loads(path.read_text(encoding="utf-8"))
    tokenizer = DialogTokenizer.from_file(root / spec.get("token_file", "model/zipvoice_dialog/tokens.txt"))
    for key in ("vocab_size", "pad_id", "spk_a_id", "spk_b_id"):
        if key in spec:
            assert getattr(tokenizer, key) == spec[key], key
    for case in spec["cases"]:
        if "preprocessed" in case:
            assert preprocess(case["text"]) == case["preprocessed"]
        if "segments" in case:
            assert [list(s) for s in segment_text(preprocess(case["text"]))] == case["segments"]
        result = tokenizer.tokenize(case["text"])
        assert result.tokens == case["tokens"], case["text"]
        assert result.ids == case["ids"], case["text"]
        if "oov_skipped" in case:
            assert result.dropped == case["oov_skipped"]


def _params(name: str) -> object:
    marks = [pytest.mark.slow] if "long" in name else []
    return pytest.param(name, marks=marks, id=name)


# Meta entries compared exactly (lists of strings or ids, integers).
_EXACT_META = (
    "text_punct",
    "prompt_text_punct",
    "chunk_max_tokens",
    "chunked_tokens_str",
    "chunked_index",
    "batches",
)
_PER_BATCH_META = ("tokens", "prompt_tokens", "cat_tokens", "tokens_padded_len")


def _waveform_refs(arrays: dict, meta: dict, trace: dict, output: np.ndarray) -> dict[str, np.ndarray]:
    """Our arrays for every stored waveform key (whole signals, or 4800-sample windows)."""
    ours: dict[str, np.ndarray] = {"output": output}
    for key in arrays:
        base, _, part = key.rpartition("_")
        if key.startswith("vocoder_out") and key in trace:
            ours[key] = as_numpy(trace[key])
        elif part in ("head4800", "tail4800"):
            if base.startswith("vocoder_out"):
                signal = as_numpy(trace[base])
            elif base.startswith("chunk_wav"):
                signal = trace["chunk_wavs"][int(base.removeprefix("chunk_wav"))]
            elif base == "final_wav":
                signal = output
            else:
                continue
            ours[key] = signal[:, :4800] if part == "head4800" else signal[:, -4800:]
    if "crossfaded_wav_window" in arrays:
        start = int(meta["crossfade_window_start"])
        width = arrays["crossfaded_wav_window"].shape[-1]
        ours["crossfaded_wav_window"] = trace["crossfaded_wav"][:, start : start + width]
    return ours


def _close_log_mel(name: str, mine: object, ref: np.ndarray) -> None:
    """Log-mel features [frames, C * MELS]: within TIGHT on the log, or, where the log is
    ill-conditioned, within FFT_REL of the frame's loudest band on the linear mel."""
    got = as_numpy(mine).astype(np.float64)
    assert got.shape == ref.shape, f"{name}: shape {got.shape} != {ref.shape}"
    want = ref.astype(np.float64)
    linear_got, linear_want = np.exp(got), np.exp(want)
    bands = linear_want.reshape(len(want), -1, MELS)
    peak = np.repeat(bands.max(axis=-1), MELS, axis=-1)
    log_ok = np.abs(got - want) <= TIGHT
    linear_ok = np.abs(linear_got - linear_want) <= FFT_REL * peak
    bad = ~(log_ok | linear_ok)
    diff = got - want
    assert abs(diff.mean()) <= MEAN_LOG, f"{name}: log-mels off by {diff.mean():.3g} on average"
    assert np.sqrt(np.mean(diff**2)) <= RMS_LOG, f"{name}: log-mel RMS difference {np.sqrt(np.mean(diff**2)):.3g}"
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, np.abs(got - want), 0.0)), want.shape)
        raise AssertionError(
            f"{name}: {int(bad.sum())} entries differ, e.g. {i}: {got[i]:.7g} vs {want[i]:.7g} "
            f"(linear {abs(linear_got[i] - linear_want[i]) / peak[i]:.3g} of the frame's peak)"
        )


@pytest.mark.parametrize("name", [_params(n) for n in case_names()])
def test_case_matches_reference(name: str) -> None:
    root = fixtures_root()
    if not (root / "cases" / name / "meta.json").is_file():
        pytest.skip(f"no case {name}")
    run = run_case(name)
    meta, arrays, trace, output = run["meta"], run["arrays"], run["trace"], run["output"]
    short = "b0_x0" in arrays or "fbank_out" in arrays
    state_tol = TIGHT if short else LOOSE

    # Text, chunking and batching: exact.
    for key in _EXACT_META:
        if key in meta:
            assert trace[key] == meta[key], key
    for key in [k for k in meta if k.startswith("b") and k.split("_", 1)[-1] in _PER_BATCH_META]:
        assert trace[key] == meta[key], key
    if "batchify_args" in meta:
        for key in ("prompt_duration", "token_duration"):
            assert abs(trace["batchify_args"][key] - meta["batchify_args"][key]) <= 1e-9, key
    if "prompt_rms" in meta:
        assert abs(trace["prompt_rms"] - meta["prompt_rms"]) <= 1e-7

    compared: set[str] = set()
    waves = _waveform_refs(arrays, meta, trace, output)
    for key, ref in arrays.items():
        if key in waves:
            _close(key, waves[key], ref, LOOSE)
        elif key.endswith("_text_encoder_out") and key in trace:
            # The reference adds the speaker embedding to the encoder's output tensor in place,
            # so a hook that stored that tensor may hold it before or after the addition.
            try:
                _close(key, trace[key], ref, state_tol)
            except AssertionError:
                _close(key, trace[key.replace("_text_encoder_out", "_text_embed")], ref, state_tol)
        elif key == "fbank_out_first200":
            _close_log_mel(key, as_numpy(trace["fbank_out"])[: ref.shape[0]], ref)
        elif key == "fbank_out":
            _close_log_mel(key, trace[key], ref)
        elif key in trace:
            exact = ref.dtype.kind in "biu" or key.endswith(("_lens", "_mask"))
            tight = key == "prompt_wav_after_remove_silence" or key.endswith("_t")
            _close(key, trace[key], ref, 0 if exact else TIGHT if tight else state_tol)
        else:
            continue
        compared.add(key)
    # Every stored array must have been compared: nothing present may be skipped silently.
    assert set(arrays) == compared, f"arrays not compared: {sorted(set(arrays) - compared)}"

    for key, value in (("crossfaded_wav", trace["crossfaded_wav"]), ("final_wav", output)):
        if f"{key}_shape" in meta:
            assert list(value.shape) == meta[f"{key}_shape"], key
            total = float(value.astype(np.float64).sum())
            assert abs(total - meta[f"{key}_sum"]) <= 1e-3 * max(1.0, abs(meta[f"{key}_sum"])), key
    if "chunk_wavs_sorted_lengths" in meta:
        lengths = [wav.shape[-1] for wav in trace["chunk_wavs"]]  # restored (original) order
        assert lengths == meta["chunk_wavs_sorted_lengths"]
    wav_path = root / "cases" / name / "output.wav"
    if wav_path.is_file():
        import soundfile as sf

        _close("output.wav", output, sf.read(wav_path, dtype="float32", always_2d=True)[0].T, LOOSE)


def _manifest(name: str) -> dict:
    path = fixtures_root() / "manifest" / name
    if not path.is_file():
        pytest.skip(f"no manifest {name}")
    return json.loads(path.read_text())


@pytest.mark.parametrize("variant", ["zipvoice_dialog", "zipvoice_dialog_stereo"])
def test_full_size_manifest(variant: str) -> None:
    from podcast.neural.checkpoint import manifest_differences

    from podcast_gen_zipvoice.model import DialogConfig, build_model

    spec = _manifest(f"full_{variant}.json")
    vocab = int(spec.get("assumed_vocab_size") or spec["tensors"]["embed.weight"][0])
    cfg = DialogConfig.from_json(
        spec["config"]["model"], vocab_size=vocab, pad_id=0, spk_a_id=1, spk_b_id=2, stereo=variant.endswith("stereo")
    )
    model = build_model(cfg, device="meta")
    assert manifest_differences(model, spec["tensors"]) == []
    if "num_params" in spec:
        assert sum(p.numel() for p in model.parameters()) == spec["num_params"]


def test_full_size_vocos_manifest() -> None:
    from podcast.neural.checkpoint import manifest_differences
    from podcast.neural.vocos import Vocos

    from podcast_gen_zipvoice.pipeline import vocos_config

    spec = _manifest("full_vocos_mel_24khz.json")
    with torch.device("meta"):
        vocos = Vocos(vocos_config(spec["config"]))
    expected = {k: v for k, v in spec["tensors"].items() if not k.startswith("feature_extractor.")}
    # The feature extractor's window and mel matrix are buffers of the reference's extractor;
    # the plugin reads the mel matrix from the checkpoint for its prompt features.
    assert set(spec["tensors"]) - set(expected) <= {
        "feature_extractor.mel_spec.spectrogram.window",
        "feature_extractor.mel_spec.mel_scale.fb",
    }
    assert manifest_differences(vocos, expected) == []
