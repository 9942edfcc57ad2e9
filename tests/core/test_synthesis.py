"""The pipeline-owned synthesis machinery: packing, caching, carrying prompts, resampling."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf

from podcast.config import Config
from podcast.errors import SynthesisError
from podcast.models import Turn
from podcast.options import option
from podcast.rendering import pack_blocks
from podcast.stage import StageContext
from podcast.stages.synthesize.espeak import EspeakEngine
from podcast.rendering import stage_for_engine
from podcast.synthesis import Audio, BlockAudio, Capabilities, DialogueEngine, DialogueOptions


def test_pack_blocks_respects_limits_and_turn_boundaries():
    turns = tuple(Turn("S1" if i % 2 == 0 else "S2", "x" * 140) for i in range(7))  # 10 s each in English
    assert pack_blocks(turns, "en", 25, None) == [(0, 1), (2, 3), (4, 5), (6,)]
    assert pack_blocks(turns, "en", None, 300) == [(0, 1), (2, 3), (4, 5), (6,)]
    assert pack_blocks(turns, "en", None, None) == [tuple(range(7))]
    assert pack_blocks(turns, "en", 5, None) == [(i,) for i in range(7)]  # a long turn gets its own block


@dataclass(frozen=True, slots=True)
class _DialogueOptions(DialogueOptions):
    gap: float = option(0.2, "seconds between turns")


class EspeakDialogue(DialogueEngine):
    """A real dialogue-shaped engine for tests: espeak turns joined in one block, exact spans,
    with every call (and the prompt it got) recorded."""

    name: ClassVar[str] = "espeak-dialogue"
    Options: ClassVar[type] = _DialogueOptions
    calls: ClassVar[list] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(frozenset({"en", "zh"}), 24000, dialogue_native=True, max_chars_per_call=120)

    def synthesize_block(self, block):
        espeak, pieces, spans, cursor = EspeakEngine(), [], [], 0.0
        for turn in block.turns:
            audio = espeak.synthesize_turn(turn, block.voices[turn.speaker], block.language)
            pieces += [audio.samples, np.zeros(int(self.options.gap * audio.sample_rate), np.float32)]
            spans.append((cursor, cursor + audio.duration))
            cursor += audio.duration + self.options.gap
        type(self).calls.append(block)
        return BlockAudio(Audio(np.concatenate(pieces), audio.sample_rate), tuple(spans))


def _script(episode_factory, n=6):
    return episode_factory(turns=tuple(("S1" if i % 2 == 0 else "S2", f"This is sentence number {i} of the test.") for i in range(n)))


def _run(stage, episode):
    return stage.run(episode, StageContext(Config(), episode.run_dir))


def test_dialogue_blocks_carry_prompts_and_cache(episode_factory):
    EspeakDialogue.calls.clear()
    stage_cls = stage_for_engine(EspeakDialogue)
    episode = _script(episode_factory)
    first = _run(stage_cls(), episode)
    blocks = EspeakDialogue.calls[:]
    assert [b.turn_ids for b in blocks] == [(0, 1, 2), (3, 4, 5)]  # 3 x 38 chars fit in 120
    assert blocks[0].prompt is None
    for previous, block in zip(blocks, blocks[1:]):
        assert block.prompt is not None and block.prompt.turns == previous.turns[-len(block.prompt.turns):]
        assert block.prompt.audio.samples.shape[-1] > 0
    rendering = first.rendering
    assert rendering.sample_rate == 24000 and [c.turns for c in rendering.clips] == [b.turn_ids for b in blocks]
    for clip in rendering.clips:
        info = sf.info(str(clip.path))
        assert info.samplerate == 24000
        assert clip.spans[-1][1] <= info.duration + 1e-3
        assert all(a[1] <= b[0] for a, b in zip(clip.spans, clip.spans[1:]))
    assert first.meta["synthesize.details"]["synthesized"] == 2

    EspeakDialogue.calls.clear()
    again = _run(stage_cls(), episode)
    assert EspeakDialogue.calls == [] and again.rendering == rendering
    assert again.meta["synthesize.details"]["reused"] == 2

    # Editing the last turn re-renders only the last block (earlier prompts are unchanged).
    edited = replace(episode.script, turns=(*episode.script.turns[:-1], Turn("S2", "A changed last line.")))
    _run(stage_cls(), replace(episode, script=edited))
    assert [b.turn_ids for b in EspeakDialogue.calls] == [blocks[-1].turn_ids]


def test_turn_engine_clips_are_cached_per_turn(episode_factory):
    stage = stage_for_engine(EspeakEngine)()
    episode = _script(episode_factory, 4)
    first = _run(stage, episode)
    assert first.meta["synthesize.details"]["synthesized"] == 4
    edited = replace(episode.script, turns=(*episode.script.turns[:2], Turn("S1", "Only this one is new."), episode.script.turns[3]))
    second = _run(stage, replace(episode, script=edited))
    assert second.meta["synthesize.details"]["synthesized"] == 1
    assert second.rendering.clips[0] == first.rendering.clips[0]


def test_a_line_said_twice_the_same_way_is_rendered_once(episode_factory):
    stage = stage_for_engine(EspeakEngine)()
    episode = _script(episode_factory, 4)
    again = Turn("S2", "Right.")
    turns = (episode.script.turns[0], again, episode.script.turns[2], again)
    done = _run(stage, replace(episode, script=replace(episode.script, turns=turns)))
    assert done.meta["synthesize.details"]["synthesized"] == 3
    clips = done.rendering.clips
    assert [c.turns for c in clips] == [(0,), (1,), (2,), (3,)]
    assert clips[1].path == clips[3].path and clips[1].path.exists()
    assert len({c.path for c in clips}) == 3


def test_capabilities_are_checked_before_any_work(episode_factory):
    stage = stage_for_engine(EspeakEngine)()
    episode = _script(episode_factory)
    french = replace(episode, script=replace(episode.script, language="fr"))
    with pytest.raises(SynthesisError, match="does not speak 'fr'"):
        _run(stage, french)
    crowd = replace(episode, script=replace(episode.script, turns=tuple(Turn(f"S{i}", "hi") for i in range(1, 7))))
    with pytest.raises(SynthesisError, match="at most 4 speakers"):
        _run(stage, crowd)
    assert not (episode.run_dir / "clips").exists()


def test_commercial_only_refuses_engines_not_cleared_for_commercial_use(tmp_path):
    from podcast import TurnEngine
    from podcast.config import load_config

    class NonCommercial(TurnEngine):
        name = "nc-test"

        def capabilities(self):
            return Capabilities(frozenset({"en"}), 16000, weights_licence="CC-BY-NC-4.0", commercial_ok=False)

        def synthesize_turn(self, turn, voice, language):
            raise AssertionError("never reached")

    strict = load_config(write_config(tmp_path, "[pipeline]\ncommercial_only = true\n"), env={})
    assert strict.commercial_only and not load_config(None, env={}).commercial_only
    assert load_config(None, env={"PODCAST_GEN_COMMERCIAL_ONLY": "1"}).commercial_only
    with pytest.raises(SynthesisError, match=r"nc-test output may not be used commercially \(CC-BY-NC-4.0\)"):
        stage_for_engine(NonCommercial)().check(StageContext(strict, tmp_path))
    stage_for_engine(EspeakEngine)().check(StageContext(strict, tmp_path))  # espeak is cleared


def write_config(folder, text):
    path = folder / "podcast.toml"
    path.write_text(text, encoding="utf-8")
    return path
