"""Loading the codec from local folders/checkpoints; one-line errors for missing or bad files."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from podcast.errors import ConfigError, MissingModelError
from podcast.stages.synthesize.moss_ttsd.xy_tokenizer import load_codec
from podcast.stages.synthesize.moss_ttsd.xy_tokenizer.loading import infer_preset
from podcast.stages.synthesize.moss_ttsd.xy_tokenizer.presets import PRESETS, preset_config

from .codec_helpers import ATOL_WAV, assert_close, codec_dir, fixture_root, load_json, load_npz


def _decoded(codec: Any) -> tuple[torch.Tensor, np.ndarray]:
    ref = load_npz(codec_dir() / "reference_2s.npz")
    return codec.decode(torch.from_numpy(ref["codes"]).T)[0], ref["decoded_wav"]


def test_lightning_style_ckpt_with_yaml(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    import json

    params = json.loads((codec_dir() / "tiny_config.json").read_text())["generator_params"]
    (tmp_path / "xy_tokenizer.yaml").write_text(yaml.safe_dump({"generator_params": params}))
    state = load_file(str(codec_dir() / "model.safetensors"))
    nested = {
        "state_dict": {
            **{f"generator.{k}": v for k, v in state.items()},
            "discriminator.conv.weight": torch.zeros(2),
        },
        "epoch": 3,
    }
    torch.save(nested, tmp_path / "xy_tokenizer.ckpt")
    codec = load_codec(tmp_path)
    wav, expected = _decoded(codec)
    assert_close(wav, expected, ATOL_WAV, "ckpt decode")


def test_weights_file_path_and_generator_key(tmp_path: Path) -> None:
    shutil.copy(codec_dir() / "tiny_config.json", tmp_path / "config.json")
    state = load_file(str(codec_dir() / "model.safetensors"))
    torch.save({"generator": state}, tmp_path / "weights.pt")
    codec = load_codec(tmp_path / "weights.pt")
    assert codec.output_sample_rate == codec.cfg.output_sample_rate
    wav, expected = _decoded(codec)
    assert_close(wav, expected, ATOL_WAV, "pt decode")


def test_missing_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="not found"):
        load_codec(tmp_path / "nope")
    with pytest.raises(MissingModelError, match=r"weights not found.*\*\.safetensors"):
        load_codec(tmp_path)
    shutil.copy(codec_dir() / "tiny_config.json", tmp_path / "tiny_config.json")
    with pytest.raises(MissingModelError, match=r"\*\.safetensors"):
        load_codec(tmp_path)
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(codec_dir() / "model.safetensors", bare / "model.safetensors")
    with pytest.raises(MissingModelError, match="config not found"):
        load_codec(bare)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_inferred_from_full_size_weights(name: str) -> None:
    manifest = load_json(fixture_root() / "codec" / f"manifest_full_{name}.json")
    state = {t["name"]: torch.empty(t["shape"], device="meta") for t in manifest["tensors"]}
    found = infer_preset(state)
    assert found is not None
    assert preset_config(found) == dataclasses.replace(
        preset_config(name), source=preset_config(found).source
    )


def test_incomplete_or_untrained_weights(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    shutil.copy(codec_dir() / "tiny_config.json", tmp_path / "tiny_config.json")
    state = load_file(str(codec_dir() / "model.safetensors"))
    partial = {k: v for k, v in state.items() if not k.startswith("enhanced_vocos.head")}
    save_file(partial, str(tmp_path / "model.safetensors"))
    with pytest.raises(ConfigError, match="do not match"):
        load_codec(tmp_path)
    untrained = dict(state)
    untrained["quantizer.quantizers.0.inited"] = torch.tensor([False])
    save_file(untrained, str(tmp_path / "model.safetensors"))
    with pytest.raises(ConfigError, match="inited=False"):
        load_codec(tmp_path)


def test_bfloat16_load_keeps_quantizer_float32() -> None:
    codec = load_codec(codec_dir(), dtype=torch.bfloat16)
    assert codec.dtype == torch.bfloat16
    assert codec.quantizer.quantizers[0].codebook.dtype == torch.float32
    wav, expected = _decoded(codec)
    assert wav.dtype == torch.float32 and wav.shape == expected.shape
    # bf16 is lossy; the waveform must still follow the reference closely.
    corr = np.corrcoef(wav.numpy(), expected)[0, 1]
    assert corr > 0.9, corr
