"""How turns reach the cores: the longest first, so no core idles at the end."""

from __future__ import annotations

import time

from podcast.models import Turn, Voice
from podcast.stages.synthesize.onnx_voice import render_turns


def test_the_longest_turns_start_first_and_every_turn_comes_back_once() -> None:
    texts = ["Hi.", "A much longer turn than any other one here.", "Medium length turn.", "Okay then."]
    started: list[str] = []

    def synthesize(turn: Turn, voice: Voice, language: str) -> str:
        started.append(turn.text)
        time.sleep(0.01)
        return f"{language}:{turn.text}"

    jobs = [(Turn("S2", t), Voice()) for t in texts]
    results = dict(render_turns(synthesize, jobs, "en", workers=2))
    assert results == {i: f"en:{t}" for i, t in enumerate(texts)}
    assert started[:2] == [texts[1], texts[2]]  # both workers take the two longest first
    assert sorted(started) == sorted(texts)
    alone: list[str] = []
    list(render_turns(lambda turn, voice, language: alone.append(turn.text), jobs, "en", workers=1))
    assert alone == texts  # one worker: the script's order
