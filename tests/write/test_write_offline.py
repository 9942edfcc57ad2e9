"""The offline writer: sections become questions, key sentences answers, in en and zh."""

from __future__ import annotations

from podcast.stages.write import OfflineWriter
from podcast.stages.write.length import script_units

from .write_helpers import document

EN = "\n".join(
    [
        "## Why tests matter",
        "Software fails in surprising ways. Automated tests catch regressions before users see them. "
        "Teams with good tests deploy more often. A survey of many engineers found they also sleep better.",
        "## Kinds of tests",
        "Unit tests check small pieces of code. Integration tests check how the pieces fit together. "
        "End-to-end tests drive the whole application like a user would. Each kind has a cost and a benefit.",
    ]
    * 3
)
ZH = "## 为什么要测试\n软件常常以意想不到的方式出错。自动化测试能在用户发现之前捕获回归问题。测试完善的团队部署更频繁。\n## 测试的种类\n单元测试检查小块代码。集成测试检查各部分如何配合。端到端测试像用户一样驱动整个应用。"


def test_english_dialogue_covers_every_section(write):
    episode = write(OfflineWriter, document(EN), {}, minutes=3)
    script = episode.script
    assert [c.title for c in script.chapters] == ["Why tests matter", "Kinds of tests"] * 3
    assert {t.speaker for t in script.turns} == {"S1", "S2"}
    assert any(
        t.text in {"Right.", "Mm-hmm.", "I see.", "Interesting.", "Okay.", "Huh, really?"}
        for t in script.turns
    )
    details = episode.meta["write.details"]
    assert details["mode"] == "extractive" and details["target_units"] == 450
    assert details["units"] == script_units(script)


def test_length_follows_minutes(write):
    text = "\n".join([EN] * 4)
    short = write(OfflineWriter, document(text), {}, minutes=1).meta["write.details"]
    long = write(OfflineWriter, document(text), {}, minutes=3).meta["write.details"]
    assert short["sections"] < long["sections"] <= 12
    assert 0.6 < short["length_ratio"] < 1.4 and 0.6 < long["length_ratio"] < 1.4


def test_chinese_dialogue_and_determinism(write):
    first = write(OfflineWriter, document(ZH, "测试", "zh"), {}, minutes=1).script
    second = write(OfflineWriter, document(ZH, "测试", "zh"), {}, minutes=1).script
    assert first == second
    assert first.turns[0].text.startswith("大家好，我是小雨")
    assert [c.title for c in first.chapters] == ["为什么要测试", "测试的种类"]
    assert all("Part" not in t.text for t in first.turns)
