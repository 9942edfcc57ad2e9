"""Model layout (names/shapes vs the full-size manifest) and forward parity with the reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from podcast.stages.synthesize.moss_ttsd.config import MossTTSDConfig, load_config
from podcast.stages.synthesize.moss_ttsd.fastpath import allocate_cache, cached_forward
from podcast.stages.synthesize.moss_ttsd.loading import assign_state
from podcast.stages.synthesize.moss_ttsd.model import MossTTSDLM, set_attention

ATOL = 1e-4


@pytest.fixture(scope="module")
def manifest(lm_dir: Path) -> dict:
    path = lm_dir / "manifest_full.json"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def forward_ref(lm_dir: Path) -> dict:
    return dict(np.load(lm_dir / "forward.npz"))


@pytest.fixture(scope="module")
def inputs(lm_dir: Path) -> dict:
    return {k: torch.from_numpy(v) for k, v in np.load(lm_dir / "inputs.npz").items()}


def test_full_size_names_and_shapes_match_manifest(manifest: dict) -> None:
    config = MossTTSDConfig(**manifest["config_used"])
    with torch.device("meta"):
        lm = MossTTSDLM(config)
    ours = {k: list(v.shape) for k, v in lm.state_dict().items()}
    entries = manifest["tensors"]
    unique = {e["name"]: e["shape"] for e in entries if "tied_to" not in e}
    assert ours == unique
    for alias in (e for e in entries if "tied_to" in e):  # heads: tied, never stored
        assert alias["shape"] == unique[alias["tied_to"]]
        assert alias["name"] not in ours
    count = sum(int(np.prod(s)) for s in unique.values())
    assert count == manifest["unique_parameter_count"]


def test_strict_meta_load_of_manifest_state(manifest: dict) -> None:
    config = MossTTSDConfig(**manifest["config_used"])
    state = {e["name"]: torch.empty(e["shape"], device="meta") for e in manifest["tensors"]}
    lm = assign_state(config, state)  # lm_heads.* aliases are present and must be ignored
    assert lm.model.embedding_list[0].weight.shape[0] == config.vocab_size


def test_config_reads_reference_file(lm_dir: Path) -> None:
    raw = json.loads((lm_dir / "config.json").read_text())
    config = load_config(lm_dir)
    assert config.channels == raw["channels"]
    assert config.speech_token_range == raw["speech_token_range"]
    assert config.eos_id == raw["eos_token_id"]
    assert config.num_hidden_layers == raw["num_hidden_layers"]
    assert config.head_dim == raw["head_dim"]


def _check_logits(logits: tuple[torch.Tensor, ...], ref: dict) -> None:
    ch0 = logits[0][:, -4:].float()
    width = ref["ch0_logits_last4_tail"].shape[-1]
    tail = ch0[..., ch0.shape[-1] - width :].numpy()
    np.testing.assert_allclose(tail, ref["ch0_logits_last4_tail"], atol=ATOL, rtol=1e-5)
    sample = ch0[..., torch.from_numpy(ref["ch0_sample_ids"])].numpy()
    np.testing.assert_allclose(sample, ref["ch0_logits_last4_sample"], atol=ATOL, rtol=1e-5)
    np.testing.assert_allclose(torch.logsumexp(ch0, -1).numpy(), ref["ch0_logsumexp_last4"], atol=ATOL, rtol=1e-5)
    np.testing.assert_array_equal(ch0.argmax(-1).numpy(), ref["ch0_argmax_last4"])
    for i in range(1, len(logits)):
        np.testing.assert_allclose(logits[i][:, -4:].numpy(), ref[f"ch{i}_logits_last4"], atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_forward_matches_reference(tiny_lm, forward_ref: dict, inputs: dict, attention: str) -> None:
    set_attention(tiny_lm, attention)
    valid = inputs["attention_mask"].bool()
    with torch.no_grad():
        out = tiny_lm(inputs["input_ids"], inputs["attention_mask"], inputs["position_ids"], True)
        plain = tiny_lm(inputs["input_ids"], inputs["attention_mask"])
    keys = sorted(k for k in forward_ref if k.startswith("hidden_states_"))
    assert len(out.hidden_states) == len(keys) == tiny_lm.config.num_hidden_layers + 1
    for i, state in enumerate(out.hidden_states):
        ref = torch.from_numpy(forward_ref[f"hidden_states_{i}"])
        torch.testing.assert_close(state[valid], ref[valid], atol=ATOL, rtol=1e-5)
    _check_logits(out.logits, forward_ref)
    arange_ref = torch.from_numpy(forward_ref["hidden_final_arange_positions"])
    torch.testing.assert_close(plain.hidden[valid], arange_ref[valid], atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("eager", [True, False])
def test_cached_fast_path_matches_reference(tiny_lm, forward_ref: dict, inputs: dict, eager: bool) -> None:
    ids, mask, pos = inputs["input_ids"], inputs["attention_mask"], inputs["position_ids"]
    batch, length, _ = ids.shape
    cache = allocate_cache(tiny_lm, batch, length + 3)
    cache.key_valid[:, :length] = mask.bool()
    with torch.no_grad():
        hidden = cached_forward(tiny_lm, ids, pos, cache, torch.arange(length), length, eager)
    ref = torch.from_numpy(forward_ref[f"hidden_states_{tiny_lm.config.num_hidden_layers}"])
    assert torch.isfinite(hidden).all()
    torch.testing.assert_close(hidden[mask.bool()], ref[mask.bool()], atol=ATOL, rtol=1e-5)
    _check_logits(tiny_lm.channel_logits(hidden), forward_ref)
