"""Pronunciation lexicon: whole words, case handling, language priority, pinyin markup."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from podcast.errors import ConfigError
from podcast.stages.normalize.lexicon import load_lexicon, parse_lexicon
from podcast.stages.normalize.profiles import PROFILES

LEXICON_TOML = """
[en]
"SQL" = "sequel"
"nginx" = { say = "engine x", case = "insensitive" }
"COVID-19" = "covid nineteen"
"AI" = "A.I."

[zh]
"AI" = "人工智能"

[zh.pinyin]
"重庆" = "chong2 qing4"
"银行" = "yin2 hang2"
"""


@pytest.fixture(scope="module")
def lexicon():
    return parse_lexicon(tomllib.loads(LEXICON_TOML), "test.toml")


def podcast(text: str, language: str, lexicon) -> str:
    return PROFILES["podcast"].normalize_turn(text, language, lexicon)


def test_whole_word_case_sensitive(lexicon) -> None:
    assert (
        podcast("We use SQL, not SQLite or NoSQL.", "en", lexicon)
        == "We use sequel, not SQLite or NoSQL."
    )
    assert podcast("lower sql stays", "en", lexicon) == "lower sql stays."


def test_case_insensitive_table_form(lexicon) -> None:
    assert podcast("NGINX, Nginx and nginx", "en", lexicon) == "engine x, engine x and engine x."


def test_spoken_form_is_not_verbalized_again(lexicon) -> None:
    # "COVID-19" would otherwise become "COVID nineteen"; "A.I." would be re-spelled.
    assert podcast("COVID-19 and AI", "en", lexicon) == "covid nineteen and A.I."


def test_call_language_wins(lexicon) -> None:
    assert podcast("AI很强", "zh", lexicon) == "人工智能很强。"
    assert podcast("AI is strong", "en", lexicon) == "A.I. is strong."


def test_matches_inside_chinese_text(lexicon) -> None:
    assert podcast("用SQL查询", "zh", lexicon) == "用sequel查询。"


def test_pinyin_markup_one_syllable_per_character(lexicon) -> None:
    assert podcast("我在重庆的银行", "zh", lexicon) == "我在<chong2><qing4>的<yin2><hang2>。"
    assert podcast("我在重庆", "zh", lexicon.without_pinyin()) == "我在重庆。"


def test_pinyin_passes_through_engine_normalizers(lexicon) -> None:
    tagged = "[S1]" + podcast("重庆到了", "zh", lexicon)
    for name in ("moss-v0.5", "moss-v0.7", "moss-v1.0"):
        assert PROFILES[name].normalize(tagged, "zh") == tagged


def test_reference_profiles_apply_lexicon_outside_tags() -> None:
    lex = parse_lexicon({"en": {"S1": "never", "SQL": "sequel"}})
    assert (
        PROFILES["moss-v0.7"].normalize("[S1]SQL: S1 rocks", "en", lex) == "[S1]sequel, never rocks"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fr": {"a": "b"}}, "unknown section"),
        ({"zh": {"pinyin": {"重庆": "chong qing"}}}, "tone-numbered"),
        ({"zh": {"pinyin": {"重庆": "chong2"}}}, "one syllable per Chinese character"),
        ({"en": {"x": {"say": "y", "case": "loud"}}}, "insensitive"),
        ({"en": {"x": 3}}, "expected a string"),
    ],
)
def test_bad_lexicon_is_a_one_line_config_error(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_lexicon(data, "bad.toml")
    assert "\n" not in str(info.value)


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(LEXICON_TOML, encoding="utf-8")
    assert podcast("SQL", "en", load_lexicon(path)) == "sequel."
    with pytest.raises(ConfigError, match="not found"):
        load_lexicon(tmp_path / "missing.toml")
    path.write_text("[en\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read lexicon"):
        load_lexicon(path)
