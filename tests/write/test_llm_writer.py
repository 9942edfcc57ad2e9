"""The openai/gemini writers against a real local OpenAI-compatible server (real sockets)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from podcast.errors import UpstreamError
from podcast.stages.write import GeminiWriter, OpenAIWriter

from .llm_cooperative import cooperative, script_json
from .llm_server import Reply
from .write_helpers import KEY, document

DOC = document(
    "## Why test\nTesting finds bugs early. Teams that test ship faster.\n\n## How\nWrite small tests first."
)
MOSS_MINUTES = 0.2  # MOSS has 29 words, on target for 0.2 min: no resize pass
MOSS = "[S1]Welcome to the show, today we talk about testing.[S2]Thanks, it is a good topic.[S1]Why test at all?[S2]Because tests find bugs early.[S1]Mhm.[S2]And teams ship faster."
VALID = script_json(40)


def _run(write, llm, doc=DOC, minutes=0.3, **options):  # 0.3 min ≈ 45 words: VALID is on target
    return write(OpenAIWriter, doc, {"base_url": llm.url, **options}, minutes=minutes)


def _turns(episode):
    return [(t.speaker, t.text) for t in episode.script.turns]


@pytest.mark.parametrize("stream", [True, False])
def test_valid_json_streaming_and_not(write, llm, keyed, stream):
    llm.queue(VALID)
    episode = _run(write, llm, stream=stream)
    expected = [(t["speaker"], t["text"]) for t in json.loads(VALID)["turns"]]
    assert _turns(episode) == expected
    assert episode.script.chapters[0].title == "Opening"
    request = llm.chats[0]
    assert (
        request.body["stream"] is stream
        if stream
        else "stream" not in request.body or not request.body["stream"]
    )
    assert request.body["model"] == "local-test-model"  # listed by the custom server
    assert request.body["response_format"]["type"] == "json_schema"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    details = episode.meta["write.details"]
    assert (
        details["calls"] == 1
        and details["prompt_tokens"] == request.prompt_chars // 4
        and details["completion_tokens"] == len(VALID) // 4
    )
    assert (
        details["mode"] == "single" and details["estimated_cost_usd"] is None
    )  # unknown local model
    assert (
        (episode.run_dir / "script.txt").read_text().startswith("# Test episode\n## Opening\n[S1]")
    )


def test_server_that_ignores_stream_is_asked_again_without_it(write, llm, keyed):
    llm.streams = False
    llm.queue(MOSS, MOSS)
    episode = _run(write, llm, minutes=MOSS_MINUTES)
    assert [s for s, _ in _turns(episode)] == ["S1", "S2", "S1", "S2", "S1", "S2"]
    assert [bool(r.body.get("stream")) for r in llm.chats] == [True, False]


def test_json_inside_fences_after_think_block(write, llm, keyed):
    llm.queue(
        f"<think>The user wants JSON. {MOSS}</think>\nHere you go:\n```json\n{VALID}\n```\nEnjoy!"
    )
    episode = _run(write, llm)
    assert len(episode.script.turns) == len(json.loads(VALID)["turns"])
    assert len(llm.chats) == 1


def test_moss_form_tags_instead_of_json(write, llm, keyed):
    llm.queue(MOSS)
    episode = _run(write, llm, minutes=MOSS_MINUTES)
    assert [s for s, _ in _turns(episode)] == ["S1", "S2", "S1", "S2", "S1", "S2"]
    assert _turns(episode)[4] == ("S1", "Mhm.")


def test_unknown_speaker_is_repaired_once(write, llm, keyed):
    llm.queue(MOSS.replace("[S2]And", "[S3]And"), MOSS)
    episode = _run(write, llm, minutes=MOSS_MINUTES)
    repair = llm.chats[1]
    assert "unknown speaker(s) S3" in repair.user
    assert [m["role"] for m in repair.body["messages"]] == ["system", "user", "assistant", "user"]
    assert episode.meta["write.details"]["repairs"] == 1
    assert {s for s, _ in _turns(episode)} == {"S1", "S2"}


def test_one_speaker_only_fails_after_one_repair(write, llm, keyed):
    monologue = "[S1]Hello there.[S1]I will talk alone today.[S1]Goodbye."
    llm.queue(monologue, monologue)
    with pytest.raises(UpstreamError, match="only one speaker talks"):
        _run(write, llm)
    assert len(llm.chats) == 2  # bounded: one repair, then a clear error
    assert not (llm.chats[0].path == "")  # sanity: requests were real


def test_empty_content_is_an_error_not_a_dummy(write, llm, keyed):
    llm.queue("", "   ")
    with pytest.raises(UpstreamError, match="the answer was empty"):
        _run(write, llm)


def test_tags_inside_turns_and_wrong_language_are_problems(write, llm, keyed):
    bad = json.dumps(
        {
            "title": "x",
            "turns": [
                {"speaker": "S1", "text": "As shown in [3], tests help.", "chapter": ""},
                {"speaker": "S2", "text": "测试可以尽早发现问题并且节省时间", "chapter": ""},
            ],
        }
    )
    llm.queue(bad, VALID)
    _run(write, llm)
    problems = llm.chats[1].user
    assert "'[3]'" in problems and "not mostly in English" in problems


def test_429_twice_then_success_honours_retry_after(write, llm, keyed):
    limited = Reply(status=429, headers={"Retry-After": "0.4"}, error="slow down")
    llm.queue(limited, limited, VALID)
    started = time.monotonic()
    episode = _run(write, llm, backoff=0.01)
    assert time.monotonic() - started >= 0.8  # waited what the server asked, not the 0.01 s backoff
    gaps = [b.at - a.at for a, b in zip(llm.chats, llm.chats[1:])]
    assert all(gap >= 0.39 for gap in gaps), gaps
    assert episode.meta["write.details"]["retries"] == 2


def test_500_fails_after_bounded_retries(write, llm, keyed):
    llm.responder = lambda seen: Reply(status=500, error="boom")
    with pytest.raises(UpstreamError) as info:
        _run(write, llm, retries=2)
    assert len(llm.chats) == 3
    assert "HTTP 500" in str(info.value) and "gave up after 3 attempts" in str(info.value)


def test_a_local_first_byte_wait_past_its_limit_fails_without_a_retry(write, llm, keyed):
    """A local server still reading the prompt is not asked again (that would repeat the work)."""
    llm.responder = lambda seen: Reply(VALID, delay=5.0)
    started = time.monotonic()
    with pytest.raises(UpstreamError, match=r"no (first token|complete answer) within 1 s"):
        _run(write, llm, timeout=1, first_byte_timeout=1, retries=2)
    assert time.monotonic() - started < 10  # the 5 s reply is not waited for, nor asked for again
    assert len(llm.chats) <= 1


def test_a_slow_first_byte_from_a_local_server_is_waited_for(write, llm, keyed):
    llm.responder = lambda seen: Reply(VALID, delay=2.5)
    episode = _run(write, llm, timeout=1.0, first_byte_timeout=20, retries=0)
    assert len(llm.chats) == 1 and episode.script is not None


def test_a_stalled_stream_is_retried(write, llm, keyed):
    replies = iter([Reply(VALID, stall=4.0), Reply(VALID)])
    llm.responder = lambda seen: next(replies)
    started = time.monotonic()
    episode = _run(write, llm, timeout=1.0, first_byte_timeout=20, retries=1, backoff=0.01)
    assert len(llm.chats) == 2 and episode.meta["write.details"]["retries"] == 1
    assert time.monotonic() - started < 8


def test_trickling_answer_is_cut_off_by_the_total_timeout(write, llm, keyed):
    """Every read is quick, the whole is not: a local server's request is bounded in all by
    first_byte_timeout, and not asked again (it would redo the same slow work)."""
    llm.responder = lambda seen: Reply(VALID, trickle=1.0)  # the whole answer would take ~10 s
    started = time.monotonic()
    with pytest.raises(UpstreamError, match=r"no complete answer within 1 s"):
        _run(write, llm, timeout=1, first_byte_timeout=1, retries=1)
    assert time.monotonic() - started < 8 and len(llm.chats) == 1


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize(
    ("raw", "kind", "said"),
    [
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html", "502 Bad Gateway"),
        (b'{"choices": [{"message": ', "application/json", '{"choices"'),
    ],
)
def test_html_or_malformed_json_is_an_upstream_error_after_the_retries(write, llm, keyed, stream, raw, kind, said):
    llm.responder = lambda seen: Reply(raw=raw, raw_type=kind)
    with pytest.raises(UpstreamError) as info:
        _run(write, llm, retries=1, stream=stream)
    message = str(info.value)
    assert said in message and "gave up after 2 attempts" in message, message
    assert KEY not in message


def test_runaway_answer_is_refused_not_advised(write, llm, keyed):
    llm.responder = lambda seen: Reply(script_json(1200))  # 1200 words for a 150-word target
    with pytest.raises(UpstreamError, match=r"wrote 1200 words for a target of 150 .*refusing the script"):
        _run(write, llm, minutes=1)


def test_answer_past_the_size_cap_is_refused(write, llm, keyed):
    llm.responder = lambda seen: Reply("[S1]" + "blah " * 50000)
    with pytest.raises(UpstreamError, match="passed 200000 characters"):
        _run(write, llm, max_tokens=100, stream=False)
    assert len(llm.chats) == 1


def test_connection_refused(write, keyed):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    doc_url = f"http://127.0.0.1:{port}/v1"
    with pytest.raises(UpstreamError, match="cannot connect") as info:
        write(OpenAIWriter, DOC, {"base_url": doc_url, "model": "m", "retries": 1})
    assert "\n" not in str(info.value)


def test_client_errors_are_not_retried_and_never_show_the_key(write, llm, keyed):
    llm.queue(
        Reply(status=401, error=f"Incorrect API key provided: {KEY}. Find yours at the dashboard.")
    )
    with pytest.raises(UpstreamError) as info:
        _run(write, llm)
    message = str(info.value)
    assert len(llm.chats) == 1 and "HTTP 401" in message and "OPENAI_API_KEY" in message
    assert KEY not in message and "SECRET" not in message


def test_server_refusing_json_schema_gets_plain_json(write, llm, keyed):
    llm.refuse_schema = True
    llm.queue(VALID)
    episode = _run(write, llm)
    assert "response_format" in llm.chats[0].body and "response_format" not in llm.chats[1].body
    assert episode.meta["write.details"]["response_format"] == "text"


def test_gemini_style_base_url(write, llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "gemini-secret-key-42")
    llm.prefix = "/v1beta/openai"
    llm.queue(VALID)
    episode = write(GeminiWriter, DOC, {"base_url": llm.url + "/"}, minutes=0.3)
    request = llm.chats[0]
    assert request.path == "/v1beta/openai/chat/completions"
    assert request.headers["authorization"] == "Bearer gemini-secret-key-42"
    assert request.body["model"] == "gemini-2.5-flash"
    details = episode.meta["write.details"]
    assert details["provider"] == "gemini" and details["estimated_cost_usd"] == pytest.approx(
        (request.prompt_chars // 4 * 0.30 + len(VALID) // 4 * 2.50) / 1e6, abs=1e-6
    )  # the report rounds to a millionth of a dollar


def test_missing_key_for_the_real_service_is_a_config_error(write, monkeypatch):
    from podcast.errors import ConfigError

    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        write(OpenAIWriter, DOC)


def test_key_file_option(write, llm, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    key_file = tmp_path / "key.txt"
    key_file.write_text("file-key-123456\n")
    llm.queue(VALID)
    _run(write, llm, api_key_file=str(key_file))
    assert llm.chats[0].headers["authorization"] == "Bearer file-key-123456"


def test_length_outside_tolerance_gets_one_adjustment_pass(write, llm, keyed):
    llm.queue(script_json(60))  # 1 minute asks for 150 words
    llm.responder = cooperative
    episode = _run(write, llm, minutes=1)
    resize = llm.chats[1].user
    assert "60 words long, but it should be about 150 words" in resize
    details = episode.meta["write.details"]
    assert details["length_adjusted"] and details["units_before_adjustment"] == 60
    assert abs(details["units"] - 150) <= 30 and details["estimated_minutes"] == pytest.approx(
        details["units"] / 150, abs=0.01
    )
    assert not episode.warnings


def test_length_still_off_after_the_pass_is_a_recorded_warning(write, llm, keyed):
    llm.queue(script_json(60), script_json(62))
    episode = _run(write, llm, minutes=1)
    assert len(llm.chats) == 2
    assert any("off the target of 150" in w for w in episode.warnings)


def test_refused_optional_fields_are_dropped_one_by_one(write, llm, keyed):
    refusals = [
        Reply(status=400, error="Unsupported parameter: 'max_tokens'; use 'max_completion_tokens' instead."),
        Reply(status=400, error="Unsupported value: 'temperature' does not support 0.8."),
        Reply(status=400, error="Unknown field stream_options"),
    ]
    llm.queue(*refusals, VALID)
    _run(write, llm)
    last = llm.chats[-1].body
    assert len(llm.chats) == 4 and "max_completion_tokens" in last and "max_tokens" not in last
    assert "temperature" not in last and "stream_options" not in last
    assert last["response_format"]["type"] == "json_schema"


def test_chinese_episode_uses_chinese_prompts_and_budget(write, llm, keyed):
    llm.responder = cooperative
    doc = document("## 测试\n测试能尽早发现问题。团队因此发布得更快。", "测试", "zh")
    episode = write(OpenAIWriter, doc, {"base_url": llm.url}, minutes=1)
    prompt = llm.chats[0]
    assert "约 250 字（200 到 300 字之间）" in prompt.user and "小雨" in prompt.body["messages"][0]["content"]
    details = episode.meta["write.details"]
    assert details["unit"] == "characters" and abs(details["units"] - 250) <= 50


def test_answer_cut_off_at_max_tokens_says_so(write, llm, keyed):
    cut = Reply(VALID[: len(VALID) // 2], finish_reason="length")
    llm.queue(cut, cut)
    with pytest.raises(UpstreamError, match="stopped at max_tokens"):
        _run(write, llm)
