"""The same clips and the same options give the same bytes: two clean master runs write
identical MP3s and transcripts, whatever the cores; the date tag comes from the source,
``SOURCE_DATE_EPOCH`` or the date the first run recorded, never from the clock alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import podcast.stages.master.mp3split as split
from podcast.models import Chapter, Episode
from podcast.stages.master.options import MasterOptions
from podcast.stages.master.produce import DATE_FILE, master_episode

from .master_signals import clip_episode, speech_like

RATE = 24000


def episode(folder: Path, seed: int = 0) -> Episode:
    rng = np.random.default_rng(seed)
    turns = []
    for i in range(14):
        text = "Yeah." if i % 5 == 4 else f"Turn {i} says something, then more. And a bit more."
        seconds = 0.6 if text == "Yeah." else float(rng.uniform(3.0, 7.0))
        turns.append(("S1" if i % 2 == 0 else "S2", text, speech_like(seconds, RATE, seed=i)))
    return clip_episode(folder, turns, RATE, (Chapter(0, "Start"), Chapter(6, "Middle")))


def outputs(done: Episode) -> dict[str, bytes]:
    return {k: Path(p).read_bytes() for k, p in done.outputs.files.items()}


@pytest.fixture
def short_segments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(split, "SEGMENT", 15.0)
    monkeypatch.setattr(split, "OVERLAP", 3.0)


def test_two_clean_runs_write_the_same_bytes(
    tmp_path: Path, short_segments: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    for name, workers in (("a", 2), ("b", 1)):
        monkeypatch.setattr(split, "parallel_workers", lambda w=workers: w)
        done = master_episode(episode(tmp_path / name), MasterOptions(), tmp_path / name)
        runs.append(outputs(done))
    assert runs[0].keys() == runs[1].keys() and "audio" in runs[0]
    for key in runs[0]:
        assert runs[0][key] == runs[1][key], key


def test_the_date_tag_is_recorded_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mutagen.id3 import ID3

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    folder = tmp_path / "run"
    plain = episode(folder)
    undated = replace(plain, document=replace(plain.document, metadata={}))
    (folder / DATE_FILE).write_text("2020-02-29\n")
    first = master_episode(undated, MasterOptions(), folder)
    assert ID3(first.outputs.audio)["TDRC"].text[0].get_text() == "2020-02-29"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    second = master_episode(undated, MasterOptions(), folder)
    assert ID3(second.outputs.audio)["TDRC"].text[0].get_text() == "2023-11-14"
    (folder / DATE_FILE).unlink()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    third = master_episode(undated, MasterOptions(), folder)
    recorded = (folder / DATE_FILE).read_text().strip()
    assert ID3(third.outputs.audio)["TDRC"].text[0].get_text() == recorded
    dated = master_episode(plain, MasterOptions(), folder)  # the source's date wins
    assert ID3(dated.outputs.audio)["TDRC"].text[0].get_text() == "2026-01-02"
