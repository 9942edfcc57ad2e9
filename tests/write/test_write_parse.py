"""Parsing and validating model answers (no server needed)."""

from __future__ import annotations

import json

import pytest

from podcast.config import Config
from podcast.stages.write.client import _retry_after, redact
from podcast.stages.write.parse import ScriptProblems, clean_reply, language_share, parse_script
from podcast.stages.write.providers import estimate_cost, price_of, safe_url

EN = Config().speaker_list("en")
ZH = Config().speaker_list("zh")


def test_json_shapes_names_and_prefixes():
    bare = json.dumps(
        [{"speaker": "Alex", "text": "Alex: Hello there."}, {"speaker": "2", "text": "Hi."}]
    )
    script = parse_script(bare, "en", EN)
    assert [(t.speaker, t.text) for t in script.turns] == [("S1", "Hello there."), ("S2", "Hi.")]
    string = json.dumps({"title": "T", "script": "[S1]One.[S2]Two."})
    assert parse_script(string, "en", EN).title == "T"


def test_moss_lines_with_chapter_marks_bold_tags_and_short_preamble():
    answer = "Sure, here is the script.\n**[S1]** Hello.\n## Part two\n[S2]: Hi there.\nS1: Next.\nSam: Fine."
    script = parse_script(answer, "en", EN)
    assert [t.speaker for t in script.turns] == ["S1", "S2", "S1", "S2"]
    assert script.chapters[0].turn == 1 and script.chapters[0].title == "Part two"


def test_long_preamble_is_a_problem():
    with pytest.raises(ScriptProblems, match="text before the first speaker tag"):
        parse_script("x" * 400 + "[S1]Hello.[S2]Hi.", "en", EN)


def test_unterminated_think_block_is_all_reasoning():
    assert clean_reply("<think>I am still thinking [S1]Hello") == ""
    assert clean_reply("reasoning without opening tag</think>[S1]Hi[S2]Yo") == "[S1]Hi[S2]Yo"


def test_chinese_script_and_language_check():
    script = parse_script("[S1]大家好，今天我们聊聊GPT四O。[S2]嗯。[S1]它是一个新模型。", "zh", ZH)
    assert len(script.turns) == 3
    with pytest.raises(ScriptProblems, match="not mostly in Chinese"):
        parse_script("[S1]Hello everyone, welcome.[S2]Thanks for having me.", "zh", ZH)
    assert (
        language_share("Hello 世界", "en") < 0.8 < language_share("Hello wonderful world 世", "en")
    )


def test_key_redaction_and_safe_urls():
    key = "sk-proj-abcdefghijklmnop"
    assert "abcdefgh" not in redact(f"bad key {key} and sk-other-12345678901", key)
    assert redact("short local key", "no-key") == "short local key"
    assert (
        safe_url("https://user:pass@host.example:8443/v1?key=abc#x")
        == "https://host.example:8443/v1"
    )


def test_prices_and_retry_after():
    assert price_of("gpt-4.1-mini-2025-04-14") == (0.40, 1.60)
    assert price_of("llama3.1:8b") is None and price_of("x", (1.0, 2.0)) == (1.0, 2.0)
    assert estimate_cost("gemini-2.5-flash", 1_000_000, 0) == pytest.approx(0.30)
    assert (
        _retry_after({"retry-after": "3"}) == 3.0
        and _retry_after({"retry-after-ms": "250"}) == 0.25
    )
    assert 0 <= _retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) < 1
    assert _retry_after({}) is None
