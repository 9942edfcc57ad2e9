"""The VRAM model: the README line, scaling, and the engine's early refusal and block cap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from podcast.errors import SynthesisError
from podcast.models import Script, Speaker, Turn, Voice
from podcast.options import build_options
from podcast.stages.synthesize.moss_ttsd.engine import MossTTSDEngine
from podcast.stages.synthesize.moss_ttsd.memory import lm_parameters, memory_model

from .engine_helpers import engine_options, one_thread, reference_voices, tiny_folders  # noqa: F401


@pytest.fixture(scope="module")
def full_config(lm_dir: Path) -> dict:
    manifest = json.loads((lm_dir / "manifest_full.json").read_text(encoding="utf-8"))
    return {**manifest["config_used"], "expected_params": manifest["unique_parameter_count"]}


def test_parameter_count_matches_manifests(full_config: dict, lm_dir: Path) -> None:
    assert lm_parameters(full_config) == full_config["expected_params"]
    from safetensors import safe_open

    tiny = json.loads((lm_dir / "config.json").read_text())
    with safe_open(str(lm_dir / "model.safetensors"), "np") as f:
        stored = sum(int(__import__("math").prod(f.get_slice(k).get_shape())) for k in f.keys())
    assert lm_parameters(tiny) == stored


def test_full_size_bf16_reproduces_readme_line(full_config: dict) -> None:
    model = memory_model(full_config, "bf16")
    for seconds, expected_gb in (
        (0, 5.8832),
        (120, 0.00172 * 120 + 5.8832),
        (600, 0.00172 * 600 + 5.8832),
    ):
        assert model.bytes_for(seconds) / 1e9 == pytest.approx(expected_gb, rel=1e-6)
    assert model.max_seconds(model.bytes_for(300.0)) == pytest.approx(300.0)
    fp32 = memory_model(full_config, "fp32")
    assert fp32.fixed > 1.8 * model.fixed and fp32.per_second == pytest.approx(2 * model.per_second)
    assert memory_model(full_config, "bf16").bytes_for(100, batch=4) > model.bytes_for(400) - 1


class SmallGpu(MossTTSDEngine):
    """The real engine on a simulated CUDA device with a given amount of free memory."""

    free = 0

    def _device_is_cuda(self) -> bool:
        return True

    def _memory(self) -> tuple[Any, int]:
        config = json.loads((self._model_files().model_dir / "config.json").read_text())
        return memory_model(config, self.options.dtype), self.free


def _script(folders: dict, text: str) -> Script:
    speakers = tuple(Speaker(s, s) for s in ("S1", "S2"))
    return Script("en", (Turn("S1", text), Turn("S2", "Yes.")), speakers)



def test_memory_refusal_and_block_cap(tiny_folders: dict) -> None:
    options = build_options(
        MossTTSDEngine.Options, engine_options(tiny_folders, max_new_tokens=0), "x"
    )
    engine = SmallGpu(options)
    config = json.loads((tiny_folders["model"] / "config.json").read_text())
    model = memory_model(config, "fp32")
    engine.free = int(model.fixed * 0.5)  # not even the weights fit
    with pytest.raises(SynthesisError, match="GB are free"):
        engine.check(_script(tiny_folders, "Hello there, this is a test."), reference_voices(tiny_folders))
    engine.free = int(model.bytes_for(200.0) / 0.9)  # room for 200 s of sequence
    engine.check(_script(tiny_folders, "Hello there, this is a test."), reference_voices(tiny_folders))
    cap = engine.capabilities().max_seconds_per_call
    prompt = engine._prompt_seconds()
    assert cap == pytest.approx((200.0 - prompt - 10.0) / 2, rel=1e-6)
