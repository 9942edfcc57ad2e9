"""Offline loading from HF-layout and HF-cache folders; clear errors for missing files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from podcast.errors import MissingModelError
from podcast.stages.synthesize.moss_ttsd.config import MossTTSDConfig
from podcast.stages.synthesize.moss_ttsd.loading import load_lm, resolve_model_dir
from podcast.stages.synthesize.moss_ttsd.model import build_lm

TINY = dict(
    vocab_size=152697, hidden_size=8, intermediate_size=16, num_hidden_layers=1,
    num_attention_heads=2, num_key_value_heads=1, head_dim=8, pad_token_id=151643,
    bos_token_id=151643, eos_token_id=152694, speech_token_range=[151665, 152689],
)


def _save(folder: Path, with_heads: bool = False) -> dict[str, torch.Tensor]:
    config = MossTTSDConfig(**TINY)
    lm = build_lm(config, random_init=True, seed=5)
    state = {k: v.contiguous() for k, v in lm.state_dict().items()}
    stored = dict(state)
    if with_heads:
        stored["lm_heads.1.weight"] = torch.zeros_like(state["model.embedding_list.1.weight"])
    folder.mkdir(parents=True)
    save_file(stored, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config.to_dict()))
    return state


def test_round_trip_and_heads_ignored(tmp_path: Path) -> None:
    state = _save(tmp_path / "ckpt", with_heads=True)
    lm = load_lm(tmp_path / "ckpt", dtype="fp32", attention="sdpa")
    for name, tensor in lm.state_dict().items():
        assert torch.equal(tensor, state[name]), name
    ids = torch.tensor([[[151700] + [3] * 7, [151701] + [5] * 7]])
    out = lm(ids)
    expected = out.hidden @ state["model.embedding_list.1.weight"].T
    torch.testing.assert_close(out.logits[1], expected)
    assert load_lm(tmp_path / "ckpt", dtype="bf16").dtype == torch.bfloat16


def test_hf_cache_snapshot_layout(tmp_path: Path) -> None:
    repo = tmp_path / "models--OpenMOSS-Team--MOSS-TTSD-v0.7"
    _save(repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    assert resolve_model_dir(repo) == repo / "snapshots" / "abc123"
    assert load_lm(repo, dtype="fp32").config.hidden_size == TINY["hidden_size"]


def test_missing_files_raise_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="config.json"):
        load_lm(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(MossTTSDConfig(**TINY).to_dict()))
    with pytest.raises(MissingModelError, match="model.safetensors"):
        load_lm(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"a": "part-1.safetensors"}}))
    with pytest.raises(MissingModelError, match="part-1.safetensors"):
        load_lm(tmp_path)
