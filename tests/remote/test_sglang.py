"""The ``sglang`` engine against local servers speaking the MOSS-TTSD SGLang protocols."""

from __future__ import annotations

import time

import numpy as np
import pytest

from podcast.errors import ConfigError, SynthesisError, UpstreamError
from podcast.stages.synthesize.remote import SglangEngine

from .remote_fakes import decoded, prompt_v0, render

FAST = {"block_seconds": 7.0, "backoff": 0.05}


def _urls(*servers) -> str:
    return ",".join(s.url for s in servers)


def _request_with(server, words):
    return next(r for r in server.requests if words in r.get("text", ""))


def _single_server_reference(servers, make_episode):
    reference = servers(prompt_text=prompt_v0())
    return decoded(
        render(SglangEngine, make_episode("single"), urls=reference.url, **FAST)
    ), reference


def test_blocks_split_across_two_servers_equal_a_single_server_run(servers, make_episode):
    single, only = _single_server_reference(servers, make_episode)
    a, b = (
        servers(prompt_text=prompt_v0(), delay=0.15),
        servers(prompt_text=prompt_v0(), delay=0.15),
    )
    episode = render(SglangEngine, make_episode("pair"), urls=_urls(a, b), concurrency=1, **FAST)
    assert len(only.requests) == 4 and len(a.requests) > 0 and len(b.requests) > 0
    assert len(a.requests) + len(b.requests) == 4
    assert a.health_checks == 1 and b.health_checks == 1
    clips = episode.rendering.clips
    assert [c.turns for c in clips] == [(0, 1), (2, 3), (4, 5), (6, 7)]
    assert episode.rendering.sample_rate == 32000
    pair = decoded(episode)
    assert all(np.array_equal(x, y) for x, y in zip(single, pair, strict=True))
    assert all(
        c.spans[-1][1] == pytest.approx(x.shape[0] / 32000, abs=1e-3)
        for c, x in zip(clips, pair, strict=True)
    )


def test_v07_request_carries_both_references_and_tagged_text(servers, make_episode):
    server = servers(prompt_text=prompt_v0())
    render(SglangEngine, make_episode(), urls=server.url, **FAST)
    first = _request_with(server, "Welcome")
    assert (
        first["text"]
        == prompt_v0()
        + "[S1]Welcome back to the show about remote synthesis."
        + "[S2]Today we spread the blocks across two servers."
    )
    assert (
        first["sampling_params"]["temperature"] == 0.8
        and first["sampling_params"]["max_new_tokens"] >= 2048
    )


def test_429_and_503_are_retried_then_succeed(servers, make_episode):
    server = servers(prompt_text=prompt_v0(), fail=[503, 429, 500], retry_after="0")
    episode = render(SglangEngine, make_episode(), urls=server.url, **FAST)
    assert len(episode.rendering.clips) == 4
    assert len(server.requests) == 4 + 3
    assert episode.meta["synthesize.details"]["synthesized"] == 4


def test_a_dead_server_fails_its_health_check_and_the_other_does_everything(servers, make_episode):
    dead, live = servers(prompt_text=prompt_v0()), servers(prompt_text=prompt_v0())
    dead.kill()
    episode = render(SglangEngine, make_episode(), urls=_urls(dead, live), **FAST)
    assert len(episode.rendering.clips) == 4 and len(live.requests) == 4


def test_a_server_without_the_health_route_still_serves(servers, make_episode):
    plain = servers(prompt_text=prompt_v0())
    episode = render(SglangEngine, make_episode(), urls=plain.url, health_path="/no-such-route", **FAST)
    assert plain.health_checks == 1 and len(episode.rendering.clips) == 4 and len(plain.requests) == 4


def test_without_health_checks_a_dead_server_is_dropped_by_failover(servers, make_episode):
    dead, live = servers(prompt_text=prompt_v0()), servers(prompt_text=prompt_v0())
    dead.kill()
    episode = render(SglangEngine, make_episode(), urls=_urls(dead, live), health_path="", **FAST)
    assert len(episode.rendering.clips) == 4 and len(live.requests) == 4


def test_a_server_killed_mid_request_hands_its_block_to_the_other(servers, make_episode):
    single, _ = _single_server_reference(servers, make_episode)
    # The steady server is slow, so the dying one surely answers a block, then takes another.
    dying = servers(prompt_text=prompt_v0(), die_on=2, delay=0.02)
    steady = servers(prompt_text=prompt_v0(), delay=0.4)
    episode = render(
        SglangEngine, make_episode("pair"), urls=_urls(dying, steady), concurrency=1, **FAST
    )
    assert len(dying.requests) == 2 and not dying.alive  # one answered, one cut off mid-flight
    assert len(steady.requests) == 3
    assert all(np.array_equal(x, y) for x, y in zip(single, decoded(episode), strict=True))


def test_a_slow_server_times_out_and_is_taken_out_of_rotation(servers, make_episode):
    slow, fast = servers(prompt_text=prompt_v0(), delay=3.0), servers(prompt_text=prompt_v0())
    started = time.monotonic()
    episode = render(
        SglangEngine, make_episode(), urls=_urls(slow, fast), timeout=0.5, max_failures=1, **FAST
    )
    assert time.monotonic() - started < 2.5
    assert len(episode.rendering.clips) == 4 and len(fast.requests) == 4


def test_only_slow_servers_end_in_one_clear_error(servers, make_episode):
    slow = servers(prompt_text=prompt_v0(), delay=2.0)
    with pytest.raises(UpstreamError, match=r"no complete answer within 0.3 s") as info:
        render(SglangEngine, make_episode(), urls=slow.url, timeout=0.3, retries=1, **FAST)
    assert "\n" not in str(info.value)


def test_malformed_audio_is_a_one_line_synthesis_error(servers, make_episode):
    server = servers(prompt_text=prompt_v0(), malformed=True)
    with pytest.raises(
        SynthesisError,
        match=r"sglang server http://127\.0\.0\.1:\d+ returned audio that cannot be decoded",
    ) as info:
        render(SglangEngine, make_episode(), urls=server.url, **FAST)
    assert "\n" not in str(info.value)


def test_a_rerun_reuses_every_clip_even_with_other_or_no_servers(servers, make_episode):
    server = servers(prompt_text=prompt_v0())
    episode = make_episode()
    first = render(SglangEngine, episode, urls=server.url, **FAST)
    server.kill()
    elsewhere = "http://127.0.0.1:9"  # nothing listens there: the cache must answer
    again = render(SglangEngine, episode, urls=elsewhere, concurrency=8, timeout=1.0, **FAST)
    assert again.rendering == first.rendering
    assert again.meta["synthesize.details"]["reused"] == 4


def test_carried_prompts_go_block_by_block(servers, make_episode):
    server = servers(protocol="v0.5")
    render(SglangEngine, make_episode(), urls=server.url, version="v0.5", carry_seconds=4.0, **FAST)
    texts = [r["prompt_text"] for r in server.requests]
    assert texts[0] == prompt_v0()
    assert texts[1] == "[S2]Today we spread the blocks across two servers."
    assert all(t.startswith("[S") and t != prompt_v0() for t in texts[1:])


def test_v05_protocol_posts_generate_audio_and_reads_wav(servers, make_episode):
    server = servers(protocol="v0.5", prompt_text=prompt_v0())
    episode = render(
        SglangEngine, make_episode(), urls=server.url, version="v0.5", silence_duration=0.1, **FAST
    )
    assert len(episode.rendering.clips) == 4
    assert all(r["silence_duration"] == 0.1 for r in server.requests)
    assert _request_with(server, "Welcome")["text"].startswith("[S1]Welcome")


def test_v10_protocol_sends_one_reference_per_speaker(servers, make_episode):
    prompt = "[S1] Hello, I am the first host. [S2] And I am the second host."
    server = servers(protocol="v1.0", prompt_text=prompt)
    episode = render(SglangEngine, make_episode(), urls=server.url, version="v1.0", **FAST)
    assert episode.rendering.sample_rate == 24000 and len(episode.rendering.clips) == 4
    assert _request_with(server, "Welcome")["text"].startswith(prompt + " [S1]Welcome")
    assert server.requests[0]["sampling_params"]["temperature"] == 1.1


def test_refusals_come_before_any_request(servers, make_episode):
    with pytest.raises(SynthesisError, match="needs at least one server URL"):
        render(SglangEngine, make_episode(), **FAST)
    with pytest.raises(ConfigError, match="not an http"):
        render(SglangEngine, make_episode(), urls="ftp://example.org", **FAST)
    with pytest.raises(UpstreamError, match="no server is reachable"):
        render(SglangEngine, make_episode(), urls="http://127.0.0.1:9", **FAST)


def test_v07_without_references_sends_text_only_and_warns(make_episode, caplog):
    from podcast.models import Turn, Voice
    from podcast.synthesis import Block

    engine = SglangEngine(SglangEngine.Options(urls=("http://127.0.0.1:9",)))
    block = Block(0, (Turn("S1", "Hello."), Turn("S2", "Hi.")), (0, 1), "en", {"S1": Voice(), "S2": Voice()})
    body = engine.payload(block)
    assert body["text"] == "[S1]Hello.[S2]Hi." and "audio_data" not in body
    with caplog.at_level("WARNING", logger="podcast"):
        engine.check(make_episode(voices=False).script, {"S1": Voice(), "S2": Voice()})
    assert "every block may get a different random voice" in caplog.text


def test_cache_key_ignores_connection_options_but_not_sampling():
    base = SglangEngine(SglangEngine.Options(urls=("http://a",)))
    moved = SglangEngine(
        SglangEngine.Options(urls=("http://b", "http://c"), concurrency=9, timeout=5.0)
    )
    hotter = SglangEngine(SglangEngine.Options(urls=("http://a",), temperature=1.0))
    assert base.settings_key() == moved.settings_key() != hotter.settings_key()
