"""The engine's own render path (prompt rows → generate → decode) against the reference run A."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podcast.stages.synthesize.moss_ttsd.generate import GenerationConfig
from podcast.stages.synthesize.moss_ttsd.model import set_attention
from podcast.stages.synthesize.moss_ttsd.runtime import Runtime
from podcast.stages.synthesize.moss_ttsd.voices import PromptAudio, Reference

from .engine_helpers import (  # noqa: F401
    ATOL_WAV,
    engine_codec,
    load_arrays,
    max_abs,
    one_thread,
    prompt_length,
    test_wav,
)
from .lm_helpers import StubTokenizer, reference_normalizer


@pytest.fixture(scope="module")
def runtime(tiny_lm: Any, engine_codec: Any, lm_meta: dict) -> Runtime:
    set_attention(tiny_lm, "eager")
    # The fixture ids come from the stub tokenizer; it is injected here, never through options.
    return Runtime(
        tiny_lm, engine_codec, StubTokenizer(lm_meta["stub_tokenizer"]), "v0.7", normalizer=reference_normalizer("v0.7")
    )


def _prompt(meta: dict, wav: np.ndarray, item: int) -> PromptAudio:
    clip = wav[: prompt_length(meta, item, len(wav))]
    text = meta["items"][item]["prompt_text"]
    return PromptAudio(clip, text, Reference(clip, text))


def test_prompt_rows_match_reference_inputs(
    runtime: Runtime, lm_meta: dict, test_wav: np.ndarray, lm_dir: Path
) -> None:
    inputs = load_arrays(lm_dir / "inputs.npz")
    for item, spec in enumerate(lm_meta["items"]):
        rows = runtime.prompt_rows(_prompt(lm_meta, test_wav, item), spec["text"])
        np.testing.assert_array_equal(rows, inputs[f"shifted_row{item}"])


def test_run_a_audio_matches_e2e_decode(
    runtime: Runtime, lm_meta: dict, test_wav: np.ndarray, lm_dir: Path
) -> None:
    e2e = load_arrays(lm_dir / "e2e_decode.npz")
    items = lm_meta["runs"]["A"]["items"]
    prompts = [_prompt(lm_meta, test_wav, i) for i in items]
    grids = [runtime.prompt_rows(p, lm_meta["items"][i]["text"]) for p, i in zip(prompts, items)]
    result = runtime.generate(
        grids, GenerationConfig(max_new_tokens=lm_meta["runs"]["A"]["max_new_tokens"])
    )
    assert int(e2e["sample_rate"]) == runtime.sample_rate
    for row, prompt in enumerate(prompts):
        audio = runtime.decode(result.codes[row], prompt.reference)
        assert max_abs(audio, e2e[f"audio_row{row}"]) <= ATOL_WAV, f"run A row {row}"


def test_windowed_decode_through_runtime(
    runtime: Runtime, lm_meta: dict, test_wav: np.ndarray, lm_dir: Path
) -> None:
    data = load_arrays(lm_dir / "decode_windows.npz")
    reference = _prompt(lm_meta, test_wav, 0).reference
    audio = runtime.decode(data["codes"], reference)
    assert len(audio) == int(data["audio_len"])
    assert max_abs(audio[: len(data["audio_head"])], data["audio_head"]) <= ATOL_WAV
    assert max_abs(audio[-len(data["audio_tail"]) :], data["audio_tail"]) <= ATOL_WAV
