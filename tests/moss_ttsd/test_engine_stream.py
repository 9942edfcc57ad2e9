"""Streaming synthesis: pieces arrive before generation ends and join seamlessly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from podcast.models import Turn, Voice
from podcast.options import build_options
from podcast.stages.synthesize.moss_ttsd.engine import MossTTSDEngine
from podcast.stages.synthesize.moss_ttsd.generate import GenerationConfig
from podcast.stages.synthesize.moss_ttsd.model import set_attention
from podcast.stages.synthesize.moss_ttsd.processor import undelay, valid_prefix
from podcast.stages.synthesize.moss_ttsd.runtime import Runtime
from podcast.stages.synthesize.moss_ttsd.streaming import Dedelayer, concatenate, stream_audio
from podcast.stages.synthesize.moss_ttsd.voices import PromptAudio, Reference
from podcast.synthesis import Block

from .engine_helpers import (  # noqa: F401
    engine_codec,
    load_arrays,
    one_thread,
    prompt_length,
    test_wav,
    tiny_folders,
)
from .lm_helpers import StubTokenizer


def test_dedelayer_matches_batch_undelay(lm_dir: Path) -> None:
    runs = load_arrays(lm_dir / "generate.npz")
    generated = runs["A_generated"]
    for row in range(generated.shape[0]):
        dedelay = Dedelayer(8, 151665, 1024)
        frames = [dedelay.push(r) for r in generated[row]]
        streamed = np.concatenate(frames)
        whole = undelay(generated[row : row + 1])[0]
        np.testing.assert_array_equal(streamed, whole[: valid_prefix(whole)])
        np.testing.assert_array_equal(streamed, runs[f"A_codes_row{row}"])


def test_long_stream_is_sample_identical_to_one_shot(
    tiny_lm: Any, engine_codec: Any, lm_meta: dict, test_wav: np.ndarray
) -> None:
    """215+ forced speech frames (17 s): several pieces with left context, same samples as one shot."""
    set_attention(tiny_lm, "eager")
    runtime = Runtime(tiny_lm, engine_codec, StubTokenizer(lm_meta["stub_tokenizer"]), "v0.7")
    clip = test_wav[: prompt_length(lm_meta, 0, len(test_wav))]
    prompt = PromptAudio(
        clip,
        lm_meta["items"][0]["prompt_text"],
        Reference(clip, lm_meta["items"][0]["prompt_text"]),
    )
    item = runtime.prompt_rows(prompt, lm_meta["items"][0]["text"])
    config = GenerationConfig(max_new_tokens=240, min_new_tokens=215)
    pieces = list(stream_audio(runtime, item, config, prompt.reference))
    codes = runtime.generate([item], config).codes[0]
    assert len(codes) >= 215
    assert len(pieces) >= 3  # a piece every 85 frames once a window is final, then the tail
    whole = runtime.decode(codes, prompt.reference)
    np.testing.assert_array_equal(concatenate(pieces), whole)


def test_engine_stream_equals_block_render(tiny_folders: dict) -> None:
    from .engine_helpers import engine_options

    options = build_options(
        MossTTSDEngine.Options, engine_options(tiny_folders), "stages.synthesize.moss-ttsd"
    )
    engine = MossTTSDEngine(options)
    voices = {
        s: Voice(ref_audio=tiny_folders[s.lower()], ref_text=tiny_folders["texts"][s])
        for s in ("S1", "S2")
    }
    block = Block(
        0,
        (Turn("S1", "Streaming keeps the voices."), Turn("S2", "And it has no seams.")),
        (0, 1),
        "en",
        voices,
    )
    pieces = list(engine.iter_synthesize(block))
    assert pieces and all(p.sample_rate == 32000 for p in pieces)
    whole = engine.synthesize_block(block).audio.samples  # same seed: same tokens
    np.testing.assert_array_equal(np.concatenate([p.samples for p in pieces]), whole)


@pytest.mark.parametrize("lengths", [[3, 0, 5], [1]])
def test_concatenate_handles_edges(lengths: list[int]) -> None:
    pieces = [np.ones(n, dtype=np.float32) for n in lengths]
    assert concatenate(pieces).shape == (sum(lengths),)
    assert concatenate([]).shape == (0,)
