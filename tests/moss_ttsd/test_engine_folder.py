"""The moss-ttsd engine end to end on a tiny but complete model folder (CPU, offline)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest
import soundfile as sf

from podcast import Block
from podcast.config import Config
from podcast.errors import MissingModelError, SynthesisError
from podcast.models import Voice
from podcast.options import build_options
from podcast.stage import StageContext
from podcast.stages.synthesize.moss_ttsd.engine import MossTTSDEngine
from podcast.rendering import stage_for_engine
from podcast.testing import config_with_voices

from .engine_helpers import engine_options, one_thread, reference_voices, tiny_folders  # noqa: F401

LINES = (
    "Welcome back to the show, everyone.",
    "Thanks, it is good to be here today.",
    "We talk about speech synthesis.",
    "It turns text into natural audio.",
    "And now two voices share one model.",
    "That is the whole idea, thank you.",
)


class RecordingMoss(MossTTSDEngine):
    """The real engine, recording the blocks it is asked to render."""

    calls: ClassVar[list[Block]] = []

    def synthesize_block(self, block: Block) -> Any:
        type(self).calls.append(block)
        return super().synthesize_block(block)


def _options(folders: dict, **extra: object) -> Any:
    return build_options(
        MossTTSDEngine.Options, engine_options(folders, **extra), "stages.synthesize.moss-ttsd"
    )


def _episode(episode_factory: Any, folders: dict, lines: tuple[str, ...] = LINES) -> Any:
    episode = episode_factory(
        turns=tuple(("S1" if i % 2 == 0 else "S2", t) for i, t in enumerate(lines))
    )
    return episode.with_meta(**{"test.voices": reference_voices(folders)})



def _run(stage: Any, episode: Any) -> Any:
    config = config_with_voices(episode.meta.get("test.voices", {}))
    return stage.run(episode, StageContext(config, episode.run_dir))


def test_three_blocks_chain_prompts_and_rerun_is_cached(
    tiny_folders: dict, episode_factory: Any
) -> None:
    RecordingMoss.calls.clear()
    stage_cls = stage_for_engine(RecordingMoss)
    options = _options(tiny_folders, block_seconds=6.0, carry_seconds=2.0)
    episode = _episode(episode_factory, tiny_folders)
    first = _run(stage_cls(options), episode)
    blocks = RecordingMoss.calls[:]
    assert [b.turn_ids for b in blocks] == [(0, 1), (2, 3), (4, 5)]
    assert blocks[0].prompt is None
    for previous, block in zip(blocks, blocks[1:]):
        assert block.prompt is not None and block.prompt.audio.samples.shape[-1] > 0
        assert block.prompt.turns == previous.turns[-len(block.prompt.turns) :]
    rendering = first.rendering
    assert rendering.engine == "moss-ttsd" and rendering.sample_rate == 32000
    for clip in rendering.clips:
        audio, rate = sf.read(str(clip.path), dtype="float32")
        assert rate == 32000 and audio.size > 0 and np.isfinite(audio).all()
        assert len(audio) % 2560 == 0  # whole codec frames
        assert clip.spans[0][0] == 0.0 and abs(clip.spans[-1][1] - len(audio) / rate) < 1e-3
        assert all(a[1] <= b[0] + 1e-9 and a[0] < a[1] for a, b in zip(clip.spans, clip.spans[1:]))
    assert first.meta["synthesize.details"]["synthesized"] == 3

    RecordingMoss.calls.clear()
    again = _run(stage_cls(options), episode)
    assert RecordingMoss.calls == [] and again.rendering == rendering
    assert again.meta["synthesize.details"]["synthesized"] == 0


def test_batched_independent_blocks_match_one_by_one(
    tiny_folders: dict, episode_factory: Any
) -> None:
    """carry off + batch 3: one left-padded generation; greedy output equals single renders."""
    episode = _episode(episode_factory, tiny_folders)
    engine = MossTTSDEngine(_options(tiny_folders, sample=False))
    voices = reference_voices(tiny_folders)
    engine.check(episode.script, voices)
    blocks = [Block(i, (t,), (i,), "en", voices) for i, t in enumerate(episode.script.turns[:3])]
    single = [engine.synthesize_block(b).audio.samples for b in blocks]
    batched = MossTTSDEngine(_options(tiny_folders, sample=False, batch=3))
    batched.runtime = engine.runtime  # same loaded models: only the batching differs
    got = dict(batched.synthesize_blocks(blocks))
    assert sorted(got) == [0, 1, 2]
    for i, samples in enumerate(single):
        np.testing.assert_allclose(got[i].audio.samples, samples, atol=1e-4)


def test_capabilities_follow_version_and_codec(tiny_folders: dict) -> None:
    caps = MossTTSDEngine(_options(tiny_folders)).capabilities()
    assert caps.dialogue_native and caps.cloning and caps.needs_ref_text and caps.needs_reference
    assert (
        caps.sample_rate == 32000
        and caps.normalizer == "moss-v0.7"
        and caps.licence == "Apache-2.0"
    )
    assert caps.languages == frozenset({"en", "zh"}) and caps.device == "cpu"
    v05 = MossTTSDEngine(_options(tiny_folders, version="v0.5")).capabilities()
    assert not v05.needs_reference and v05.normalizer == "moss-v0.5"
    assert (
        MossTTSDEngine(_options(tiny_folders, max_new_tokens=250))
        .capabilities()
        .max_seconds_per_call
        == 20.0
    )


def test_v07_without_reference_is_refused(tiny_folders: dict, episode_factory: Any) -> None:
    episode = episode_factory(turns=(("S1", "Hello."), ("S2", "Hi.")))
    with pytest.raises(SynthesisError, match=r"--voice S1=ref\.wav"):
        MossTTSDEngine(_options(tiny_folders)).check(episode.script, {"S1": Voice(), "S2": Voice()})


def test_missing_weights_name_files_and_folder(
    tiny_folders: dict, episode_factory: Any, tmp_path: Any
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    engine = MossTTSDEngine(_options(tiny_folders, model_dir=str(empty)))
    with pytest.raises(MissingModelError) as info:
        engine.check(_episode(episode_factory, tiny_folders).script, reference_voices(tiny_folders))
    message = str(info.value)
    assert str(empty) in message and "config.json" in message and "model.safetensors" in message
    assert "tokenizer.json" in message
    reason = MossTTSDEngine.unavailable(_options(tiny_folders, model_dir=str(empty)))
    assert reason is not None and "config.json" in reason
    assert (
        MossTTSDEngine.unavailable(_options(tiny_folders)) is None
    )  # device=cpu + complete folders
