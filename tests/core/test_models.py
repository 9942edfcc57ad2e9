from __future__ import annotations

from pathlib import Path

import pytest

from podcast.models import (
    Chapter,
    Clip,
    Document,
    Episode,
    Outputs,
    Rendering,
    Script,
    Section,
    Segment,
    Speaker,
    StageRecord,
    Turn,
)
from podcast.serialize import from_jsonable, paths_in, to_jsonable


def test_script_file_form_round_trip():
    script = Script("en", (Turn("S1", "Hello."), Turn("S2", "Hi!"), Turn("S1", "Bye.")), (), (Chapter(0, "Intro"), Chapter(2, "End")), "Title")
    text = script.to_file_text()
    assert text == "# Title\n## Intro\n[S1]Hello.\n[S2]Hi!\n## End\n[S1]Bye.\n"
    assert Script.parse(text, "en") == script
    assert script.moss_text() == "[S1]Hello.[S2]Hi![S1]Bye."


def test_script_parse_one_string_and_continuations():
    script = Script.parse("[S1]你好。[S2]你好！\n接着说。", "zh")
    assert script.turns == (Turn("S1", "你好。"), Turn("S2", "你好！ 接着说。"))
    with pytest.raises(ValueError, match="text before the first speaker tag"):
        Script.parse("hello [S1]x", "en")
    with pytest.raises(ValueError, match="no \\[S1\\]"):
        Script.parse("# only a title\n", "en")


def test_models_are_frozen():
    turn = Turn("S1", "x")
    with pytest.raises(AttributeError):
        turn.text = "y"  # type: ignore[misc]


def test_episode_json_round_trip(tmp_path):
    speakers = (Speaker("S1", "Alex", "host"), Speaker("S2", "Sam", "guest"))  # voices live in the config, not the script
    episode = Episode(
        sources=("a.md",), language="en", run_dir=tmp_path,
        document=Document("a.md", "markdown", "T", (Section("H", "text"),), "en", {"author": "me"}),
        script=Script("en", (Turn("S1", "a"), Turn("S2", "b")), speakers, (Chapter(0, "c"),), "T"),
        rendering=Rendering("espeak", 22050, (Clip(tmp_path / "c.wav", 22050, (0, 1), ((0.0, 1.0), (1.0, 2.5)), "k"),)),
        segments=(Segment(0, "S1", 0.0, 1.0),),
        outputs=Outputs(tmp_path / "e.mp3", 2.5, {"vtt": tmp_path / "e.vtt"}, {"lufs": -16.0}),
        records=(StageRecord("write", "offline", "p", "1", "key", {"document": "h"}, ("x",), 0.1, False, {"calls": 0}),),
        warnings=("w",),
    ).with_meta(custom={"a": [1, 2]})
    data = to_jsonable(episode)
    assert from_jsonable(Episode, data) == episode
    assert {p.name for p in paths_in(episode)} >= {"c.wav", "e.mp3", "e.vtt"}


def test_document_hash_ignores_source_path():
    a = Document("a.md", "text", "T", (Section("", "x"),))
    b = Document("b.md", "text", "T", (Section("", "x"),))
    c = Document("a.md", "text", "T", (Section("", "y"),))
    assert a.hash == b.hash != c.hash
