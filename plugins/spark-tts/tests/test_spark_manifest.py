"""Full-size geometry without weights: the modules built from the published configs hold
exactly the tensors (names and shapes) of the published files, checked on the meta device."""

from __future__ import annotations

import json

import pytest
import torch
from spark_helpers import require_fixtures

pytestmark = pytest.mark.parity


def _manifest(name: str) -> dict:
    path = require_fixtures() / f"manifest_full_{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} is absent from this fixture set")
    return json.loads(path.read_text(encoding="utf-8"))


def _expected(data: dict, drop: set[str] = frozenset()) -> dict[str, list[int]]:
    return {t["name"]: list(t["shape"]) for t in data["tensors"] if t["name"] not in drop}


def test_bicodec_matches_the_published_state_dict() -> None:
    from podcast_gen_spark_tts.bicodec import BiCodec, legacy_manifest

    data = _manifest("bicodec")
    with torch.device("meta"):
        model = BiCodec(data["config"])
    ours = legacy_manifest(model)
    expected = _expected(data)
    assert sorted(ours) == sorted(expected)
    assert ours == expected
    assert sum(v.numel() for v in model.parameters()) == data["n_parameters"]


def test_llm_matches_the_published_state_dict() -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from podcast.neural.checkpoint import manifest_differences

    data = _manifest("llm")
    config = {k: v for k, v in data["config"].items() if k not in {"torch_dtype", "transformers_version"}}
    with torch.device("meta"):
        model = Qwen2ForCausalLM(Qwen2Config(**config))
    tied = {entry.split(" -> ")[0] for entry in data.get("tied", [])}
    expected = _expected(data)
    ours = {k: list(v.shape) for k, v in model.state_dict().items() if k not in tied}
    assert ours == expected
    assert not manifest_differences(model.model, {k.removeprefix("model."): v for k, v in expected.items()})
    unique = {id(p): p.numel() for p in model.parameters()}
    assert sum(unique.values()) == data["n_unique_parameters"]


def test_wav2vec2_matches_the_published_pretraining_checkpoint() -> None:
    from transformers import Wav2Vec2Config, Wav2Vec2ForPreTraining

    from podcast.neural.checkpoint import manifest, weight_norm_keys

    data = _manifest("wav2vec2")
    with torch.device("meta"):
        model = Wav2Vec2ForPreTraining(Wav2Vec2Config(**data["config"]))
    ours = weight_norm_keys(manifest(model), "legacy")
    expected = _expected(data)
    # transformers keeps a (non-weight) masking vector the 2021 checkpoint may or may not hold.
    optional = {"wav2vec2.masked_spec_embed"} - set(expected)
    assert {k: v for k, v in ours.items() if k not in optional} == expected
    assert sum(p.numel() for n, p in model.wav2vec2.named_parameters()) == data["n_parameters_base_model"]


def test_tiny_bicodec_loads_strictly_and_names_what_is_wrong(tmp_path) -> None:
    from safetensors.torch import load_file, save_file

    from podcast import MissingModelError
    from podcast_gen_spark_tts.bicodec import load_bicodec

    source = require_fixtures() / "model" / "BiCodec"
    state = load_file(source / "model.safetensors")
    for keep_mel in (True, False):
        folder = tmp_path / f"mel_{keep_mel}"
        folder.mkdir()
        (folder / "config.yaml").write_bytes((source / "config.yaml").read_bytes())
        kept = {k: v for k, v in state.items() if keep_mel or not k.startswith("mel_transformer.")}
        save_file(kept, str(folder / "model.safetensors"))
        model = load_bicodec(folder)
        assert not any("parametrizations" in name for name, _ in model.named_parameters())
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.yaml").write_bytes((source / "config.yaml").read_bytes())
    save_file({k: v for k, v in state.items() if "decoder.model.0" not in k}, str(broken / "model.safetensors"))
    with pytest.raises(MissingModelError, match=r"decoder\.model\.0") as info:
        load_bicodec(broken)
    assert "\n" not in str(info.value)
