"""MossTTSDelay parity: prompt assembly, forward pass, the four greedy runs of the reference
loop, row-independent repetition penalty, decode with the reference's and the exact prompt trim,
and the full-size manifest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from .conftest import close, npz

pytestmark = [pytest.mark.parity, pytest.mark.filterwarnings("ignore::FutureWarning")]


def _cfg(v1_dir: Path):
    from podcast.stages.synthesize.moss_ttsd.v1.model import DelayConfig

    return DelayConfig.from_dict(json.loads((v1_dir / "lm" / "config.json").read_text()))


def _references(v1_dir: Path, row: int, mode: str) -> tuple[list, np.ndarray]:
    codes = npz(v1_dir / "lm" / f"prompt_codes_row{row}.npz")
    refs = sorted(k for k in codes if k.startswith("reference_codes_s"))
    given = [codes[k] for k in refs] if mode == "voice_clone_and_continuation" else [None] * len(refs)
    return given, codes["prompt_codes"]


def test_prompt_messages_and_padded_batch(v1_dir: Path, meta: dict, tokenizer) -> None:
    from podcast.stages.synthesize.moss_ttsd.v1.prompt import build_prompt, pad_batch, user_content

    cfg = _cfg(v1_dir)
    inputs = npz(v1_dir / "lm" / "inputs.npz")
    prompts = []
    for row, sample in enumerate(meta["lm"]["samples"]):
        refs, prompt_codes = _references(v1_dir, row, sample["mode"])
        text = sample["text_after_normalize_tts_text"]
        assert user_content(text, [r is not None for r in refs]) == sample["user_content"]
        prompt = build_prompt(tokenizer, cfg, text, refs, prompt_codes)
        for block, key in zip(prompt.blocks, sorted(k for k in inputs if k.startswith(f"row{row}_msg")), strict=True):
            assert np.array_equal(block, inputs[key]), key
        prompts.append(prompt.ids)
    ids, mask = pad_batch(prompts, cfg)
    assert np.array_equal(ids, inputs["input_ids"]) and np.array_equal(mask, inputs["attention_mask"])
    if "single_row1_input_ids" in inputs:
        assert np.array_equal(prompts[1], inputs["single_row1_input_ids"][0])


def test_prefixed_and_merged_text(meta: dict) -> None:
    from podcast.stages.synthesize.moss_ttsd.v1.prompt import merge_speaker_tags, prefixed_text

    sample = meta["lm"]["samples"][0]
    merged = sample["text_after_prefix_merge"]
    script = sample["text_after_normalize_text"]
    head = merged[: len(merged) - len(script)] if merged.endswith(script) else None
    if head is not None:
        parts = [p for p in head.split("[S") if p]
        transcripts = [(int(p.split("]")[0]), p.split("]", 1)[1]) for p in parts]
        assert prefixed_text(script, transcripts) == merged
    assert merge_speaker_tags("[S1]a[S1]b[S2]c[S2]d[S1]e") == "[S1]ab[S2]cd[S1]e"


def test_forward_pass(v1_dir: Path, lm) -> None:
    inputs, ref = npz(v1_dir / "lm" / "inputs.npz"), npz(v1_dir / "lm" / "forward.npz")
    valid = inputs["attention_mask"].astype(bool)
    with torch.no_grad():
        logits, _, hidden = lm(torch.from_numpy(inputs["input_ids"]), torch.from_numpy(inputs["attention_mask"]),
                               output_hidden_states=True)  # fmt: skip
    layers = sorted((k for k in ref if k.startswith("hidden_states_")), key=lambda k: int(k.rsplit("_", 1)[1]))
    assert len(layers) == len(hidden)
    for key, ours in zip(layers, hidden, strict=True):
        close(ours.numpy()[valid], ref[key][valid], 1e-4, key)
    text = logits[0][:, -4:]
    vocab = text.shape[-1]
    tail = ref["head0_logits_last4_tail"]
    close(text[..., vocab - tail.shape[-1] :], tail, 1e-4, "text head, special-token tail")
    if "head0_sample_ids" in ref:
        close(text[..., torch.from_numpy(ref["head0_sample_ids"])], ref["head0_logits_last4_sample"], 1e-4, "text head sample")
    close(torch.logsumexp(text.float(), dim=-1), ref["head0_logsumexp_last4"], 1e-4, "text logsumexp")
    assert np.array_equal(text.argmax(-1).numpy(), ref["head0_argmax_last4"])
    audio = torch.stack(logits[1:], dim=2)[:, -4:].numpy()
    expected = ref["audio_logits_last4"]
    assert np.array_equal(np.isfinite(audio), np.isfinite(expected))
    finite = np.isfinite(expected)
    close(audio[finite], expected[finite], 1e-4, "audio heads")


def _runs(v1_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    inputs = npz(v1_dir / "lm" / "inputs.npz")
    single = inputs["single_row1_input_ids"]
    ones = np.ones(single.shape[:2], dtype=np.int64)
    return {"A": (inputs["input_ids"], inputs["attention_mask"], 1.1), "B": (single, ones, 1.1),
            "C": (inputs["input_ids"], inputs["attention_mask"], 1.0), "D": (single, ones, 1.0)}  # fmt: skip


@pytest.mark.parametrize("run", ["A", "B", "C", "D"])
def test_greedy_runs_of_the_reference_loop(v1_dir: Path, meta: dict, lm, run: str) -> None:
    from podcast.stages.synthesize.moss_ttsd.v1.generate import Sampling, generate

    ref = npz(v1_dir / "lm" / "generate.npz")
    if f"{run}_generation_ids_row0" not in ref:
        pytest.skip(f"run {run} is not in this fixture set")
    ids, mask, penalty = _runs(v1_dir)[run]
    greedy = Sampling(0, 1.0, 50, 0, 1.0, 50, penalty, "reference")
    out = generate(lm, torch.from_numpy(ids), torch.from_numpy(mask), meta["params"]["max_new"], greedy)
    for row, (prompt_rows, rows) in enumerate(out):
        assert prompt_rows == int(ref[f"{run}_start_length_row{row}"])
        assert np.array_equal(rows.numpy(), ref[f"{run}_generation_ids_row{row}"]), f"run {run} row {row}"


def test_row_penalty_keeps_rows_independent(v1_dir: Path, meta: dict, lm) -> None:
    """Our default: row 1 of a batch is exactly row 1 generated alone (the reference's is not)."""
    from podcast.stages.synthesize.moss_ttsd.v1.generate import Sampling, generate

    runs = _runs(v1_dir)
    greedy = Sampling(0, 1.0, 50, 0, 1.0, 50, 1.1, "row")
    steps = meta["params"]["max_new"]
    batch = generate(lm, torch.from_numpy(runs["A"][0]), torch.from_numpy(runs["A"][1]), steps, greedy)
    alone = generate(lm, torch.from_numpy(runs["B"][0]), torch.from_numpy(runs["B"][1]), steps, greedy)
    rows_batch, rows_alone = batch[1][1], alone[0][1]
    shorter = min(len(rows_batch), len(rows_alone))
    assert torch.equal(rows_batch[:shorter], rows_alone[:shorter])


def test_decode_with_reference_and_exact_prompt_trim(v1_dir: Path, codec) -> None:
    from podcast.stages.synthesize.moss_ttsd.v1.decode import de_delay, decode_rows

    gen, ref = npz(v1_dir / "lm" / "generate.npz"), npz(v1_dir / "lm" / "decode.npz")
    rows_in_set = sorted(int(k[3:].split("_")[0]) for k in ref if k.endswith("_dedelayed"))
    for row in rows_in_set:
        rows, prompt_rows = gen[f"A_generation_ids_row{row}"], int(gen[f"A_start_length_row{row}"])
        n = rows.shape[1] - 1
        assert np.array_equal(de_delay(rows[:, 1:], n), ref[f"row{row}_dedelayed"])
        upstream = decode_rows(codec, rows, prompt_rows, 1024, exact_trim=False)
        assert [list(b) for b in upstream.bounds] == ref[f"row{row}_segment_bounds"].tolist()
        close(upstream.untrimmed_first, ref[f"row{row}_first_segment_untrimmed_audio"], 1e-3, "untrimmed")
        close(upstream.segments[0], ref[f"row{row}_audio0"], 1e-3, "trimmed as upstream")
        exact = decode_rows(codec, rows, prompt_rows, 1024)
        assert len(exact.segments[0]) == len(upstream.segments[0]) + 1920  # the frame upstream drops
        np.testing.assert_allclose(exact.segments[0][1920:], upstream.segments[0], atol=1e-6)


def test_full_size_lm_manifest(v1_dir: Path) -> None:
    from podcast.neural.checkpoint import manifest_differences
    from podcast.stages.synthesize.moss_ttsd.v1.model import DelayConfig, MossTTSDelay

    expected = json.loads((v1_dir / "manifests" / "manifest_full_lm.json").read_text())
    language = {**expected["language_config"], "model_type": "qwen3"}
    cfg = DelayConfig.from_dict({"n_vq": expected["n_vq"], "language_config": language})
    with torch.device("meta"):
        model = MossTTSDelay(cfg)
    shapes = {p["name"]: p["shape"] for p in expected["parameters"]}
    assert manifest_differences(model, shapes) == []
    assert sum(int(np.prod(s)) for s in shapes.values()) == expected["total_parameters"]
