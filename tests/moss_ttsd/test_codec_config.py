"""Codec configuration parsing and full-size parameter names/shapes against the manifests."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from podcast.errors import ConfigError
from podcast.stages.synthesize.moss_ttsd.xy_tokenizer import (
    build_codec,
    load_config_file,
    parse_generator_params,
)
from podcast.stages.synthesize.moss_ttsd.xy_tokenizer.presets import (
    PRESETS,
    preset_config,
    preset_params,
)

from .codec_helpers import fixture_root, load_json, require


def _manifests() -> list[Path]:
    folder = fixture_root() / "codec"
    return sorted(folder.glob("manifest_full_*.json")) if folder.is_dir() else []


def test_tiny_config_parses_to_frozen_dataclass() -> None:
    raw = load_json(fixture_root() / "codec" / "tiny_config.json")
    params = raw["generator_params"]
    cfg = parse_generator_params(raw)
    assert cfg.output_sample_rate == params["output_sample_rate"]
    assert cfg.decoder_upsample_rate == params["decoder_upsample_rate"]
    assert cfg.quantizer.num_quantizers == params["quantizer_kwargs"]["num_quantizers"]
    assert cfg.semantic_encoder.d_model == params["semantic_encoder_kwargs"]["d_model"]
    assert cfg.vocos.n_fft == params["vocos_kwargs"]["n_fft"]
    assert cfg.frame_rate == params["input_sample_rate"] / params["encoder_downsample_rate"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.output_sample_rate = 1  # type: ignore[misc]


def test_unknown_key_and_inconsistent_rates_are_rejected() -> None:
    bad = preset_params("MOSS_TTSD_tokenizer")
    bad["vocos_kwargs"]["mystery"] = 1
    with pytest.raises(ConfigError, match="mystery"):
        parse_generator_params(bad)
    bad = preset_params("MOSS_TTSD_tokenizer")
    bad["decoder_upsample_rate"] = 1920
    with pytest.raises(ConfigError, match="decoder_upsample_rate"):
        parse_generator_params(bad)


def test_yaml_round_trip(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "xy.yaml"
    path.write_text(
        yaml.safe_dump({"generator_params": preset_params("xy_tokenizer_config")}), encoding="utf-8"
    )
    assert load_config_file(path) == preset_config("xy_tokenizer_config")
    json_path = tmp_path / "xy.json"
    json_path.write_text(json.dumps(preset_params("xy_tokenizer_config")), encoding="utf-8")
    assert load_config_file(json_path).output_sample_rate == 24000


@pytest.mark.parametrize(
    "manifest", _manifests(), ids=lambda p: p.stem.removeprefix("manifest_full_")
)
def test_full_size_state_dict_matches_manifest(manifest: Path) -> None:
    name = manifest.stem.removeprefix("manifest_full_")
    if name not in PRESETS:
        pytest.skip(f"no preset for {name}")
    data = load_json(require(manifest))
    model = build_codec(preset_config(name), device="meta")
    ours = [
        (k, list(v.shape), str(v.dtype).removeprefix("torch."))
        for k, v in model.state_dict().items()
    ]
    ref = [(t["name"], t["shape"], t["dtype"]) for t in data["tensors"]]
    assert ours == ref
    params = {k for k, _ in model.named_parameters()}
    assert params == {t["name"] for t in data["tensors"] if t["kind"] == "parameter"}
    assert sum(v.numel() for v in model.state_dict().values()) == data["total_elements"]
    meta_sd = {
        t["name"]: torch.empty(t["shape"], dtype=getattr(torch, t["dtype"]), device="meta")
        for t in data["tensors"]
    }
    model.load_state_dict(meta_sd, strict=True, assign=True)


def test_manifests_present() -> None:
    if not (fixture_root() / "codec").is_dir():
        pytest.skip("codec fixtures absent")
    assert _manifests(), "no manifest_full_*.json in the codec fixtures"
