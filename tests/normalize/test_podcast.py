"""The podcast profile: verbalization table, traps avoided, turn structure, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from podcast.models import Chapter, Script, Speaker, Turn
from podcast.stages.normalize import profiles as P
from podcast.stages.normalize.verbalize import verbalize

TABLE = json.loads((Path(__file__).parent / "verbalization_cases.json").read_text(encoding="utf-8"))
PODCAST = P.PROFILES["podcast"]


def test_table_is_large_and_bilingual() -> None:
    assert len(TABLE) >= 150
    assert {row["lang"] for row in TABLE} == {"en", "zh"}


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r['lang']}:{r['input'][:30]}")
def test_verbalization_table(row: dict) -> None:
    assert PODCAST.normalize_turn(row["input"], row["lang"]) == row["expected"]


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r['lang']}:{r['input'][:30]}")
def test_podcast_is_idempotent(row: dict) -> None:
    once = PODCAST.normalize_turn(row["input"], row["lang"])
    assert PODCAST.normalize_turn(once, row["lang"]) == once


@pytest.mark.parametrize("row", TABLE, ids=lambda r: f"{r['lang']}:{r['input'][:30]}")
@pytest.mark.parametrize("engine", ["moss-v0.7", "moss-v1.0"])
def test_engine_normalizer_changes_nothing(row: dict, engine: str) -> None:
    # The engine may normalize again (use_normalize): our output is its fixed point.
    tagged = "[S1]" + PODCAST.normalize_turn(row["input"], row["lang"])
    assert P.PROFILES[engine].normalize(tagged, row["lang"]) == tagged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The 1,234 figure", "The one thousand two hundred thirty-four figure"),
        ("2021年", "二零二一年"),
        ("3.5%", "百分之三点五"),
        ("10:30", "十点三十分"),
        ("$3.50", "three dollars fifty"),
    ],
)
def test_verbalizer_brief_examples(text: str, expected: str) -> None:
    assert (
        verbalize(text, "zh" if not text.isascii() or text in ("3.5%", "10:30") else "en")
        == expected
    )


TRAPS = [
    # (input turn, language, forbidden substring in the output, required substring)
    ("See reference [3] and year [2021].", "en", "[", "three"),
    ("It’s fine.", "en", "Its", "It's"),
    ("A well-known dash_under case", "en", "wellknown", "well known dash under"),
    ("Wait... what", "en", "，", "Wait, what"),
    ("<speaker1>literal token</speaker1>", "en", "speaker1", "literal token"),
    ("Meet at 10:30.", "en", "10,30", "ten thirty"),
    ("2021-05-01 release", "en", "20210501", "May first"),
    ("[S3] inside text", "en", "[", "S three"),
]


@pytest.mark.parametrize(("text", "language", "bad", "good"), TRAPS)
def test_reference_traps_are_avoided(text: str, language: str, bad: str, good: str) -> None:
    out = PODCAST.normalize_turn(text, language)
    assert bad not in out and good in out


def test_whole_text_keeps_turns_and_spaces() -> None:
    out = PODCAST.normalize("[S1]Hello.[S1]World.[S2]Hi [3] there", "en")
    assert out == "[S1]Hello.[S1]World.[S2]Hi three there."


def test_events_and_pinyin_markup_survive() -> None:
    out = PODCAST.normalize_turn("重庆<chong2>的 [laugh] 2个", "zh")
    assert out == "重庆<chong2>的 [laugh] 两个。"


def test_laughter_tokens() -> None:
    assert PODCAST.normalize_turn("哈哈哈，太好笑了", "zh") == "[笑]，太好笑了。"
    assert PODCAST.normalize_turn("Haha, ha-ha (laughs)", "en") == "[laugh], [laugh] [laugh]."


def test_mixed_script_context() -> None:
    out = PODCAST.normalize_turn("我们有3个GPU，He paid $5 for it，然后走了", "zh")
    assert out == "我们有三个G P U，He paid five dollars for it，然后走了。"
    # Chinese context wins inside an English call too.
    assert PODCAST.normalize_turn("2021年", "en") == "二零二一年。"


def test_normalize_script_preserves_structure() -> None:
    speakers = (Speaker("S1", "Ann"), Speaker("S2", "Bo"))
    script = Script(
        "en",
        (Turn("S1", "In 2021 we had 3 GPUs."), Turn("S1", "Really [2]?"), Turn("S2", "Yes, 50%.")),
        speakers,
        (Chapter(1, "Middle"),),
        "Title",
    )
    for name in ("podcast", "moss-v0.5", "moss-v0.7", "moss-v1.0"):
        out = P.normalize_script(script, P.PROFILES[name])
        assert [t.speaker for t in out.turns] == ["S1", "S1", "S2"]
        assert out.chapters == script.chapters and out.speakers == speakers and out.title == "Title"
        assert all("[" not in t.text or "[laugh]" in t.text for t in out.turns)
    podcast = P.normalize_script(script, PODCAST)
    assert podcast.turns[0].text == "In twenty twenty one we had three G P Us."


def test_plugin_profile_is_applied_per_turn() -> None:
    class Upper:
        name = "upper"
        description = "upper-cases text"

        def normalize(self, text: str, language: str) -> str:
            return text.upper()

    turns = P.normalize_turns(Upper(), (Turn("S1", "hi [2]"), Turn("S2", "yo")), "en")
    assert turns == (Turn("S1", "HI 2"), Turn("S2", "YO"))


def test_unknown_profile_lists_installed() -> None:
    from podcast.errors import UnknownStageError

    with pytest.raises(UnknownStageError, match="moss-v0.7"):
        P.get_profile("nope")
