"""The ``openai-speech`` engine against local OpenAI-compatible ``/v1/audio/speech`` servers."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from podcast.errors import SynthesisError
from podcast.stages.synthesize.remote import OpenAISpeechEngine
from podcast.stages.synthesize.remote.http import TransientError

from .remote_fakes import decoded, render

KEY_ENV = "PODCAST_TEST_SPEECH_KEY"
SECRET = "sk-test-not-a-real-key-1234"


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)
    return SECRET


def _speak(episode, server, **options):
    options = {"api_key_env": KEY_ENV, "backoff": 0.05, "requests_per_minute": 0, **options}
    return render(OpenAISpeechEngine, episode, urls=server.url, **options)


def test_every_turn_is_one_request_with_its_speakers_voice(servers, make_episode, key):
    server = servers(protocol="openai", api_key=key)
    episode = _speak(server=server, episode=make_episode(voices=False))
    assert len(server.requests) == 8 and len(episode.rendering.clips) == 8
    by_text = {r["input"]: r for r in server.requests}
    assert by_text["Welcome back to the show about remote synthesis."]["voice"] == "onyx"
    assert by_text["Today we spread the blocks across two servers."]["voice"] == "nova"
    assert all(
        r["model"] == "gpt-4o-mini-tts" and r["response_format"] == "wav" for r in server.requests
    )
    assert episode.rendering.sample_rate == 24000
    assert SECRET not in json.dumps(str(episode)) and not any(
        SECRET in p.read_bytes().decode("latin-1") for p in episode.run_dir.rglob("*.json")
    )


@pytest.mark.parametrize("fmt", ["mp3", "flac", "pcm"])
def test_other_response_formats_decode(servers, make_episode, key, fmt):
    server = servers(protocol="openai")
    episode = _speak(
        make_episode(voices=False, lines=("One short line.", "And a reply.")),
        server,
        response_format=fmt,
    )
    durations = [len(x) / 24000 for x in decoded(episode)]
    assert all(0.5 < d < 3.0 for d in durations), durations


def test_rate_limit_spaces_request_starts(servers, make_episode, key):
    server = servers(protocol="openai")
    started = time.monotonic()
    _speak(
        make_episode(voices=False, lines=("One.", "Two.", "Three.", "Four.")),
        server,
        requests_per_minute=300,
        concurrency=4,
    )
    assert (
        time.monotonic() - started >= 3 * 0.2 - 0.05
    )  # 4 starts, 0.2 s apart, despite 4 in flight


def test_429_then_success(servers, make_episode, key):
    server = servers(protocol="openai", fail=[429, 429, 502], retry_after="0")
    episode = _speak(make_episode(voices=False, lines=("One line.", "Another line.")), server)
    assert len(episode.rendering.clips) == 2 and len(server.requests) == 2 + 3


def test_references_replace_the_voice_for_hosted_moss(servers, make_episode, key):
    server = servers(protocol="openai")
    _speak(
        make_episode(lines=("One line.", "Another line.")),
        server,
        references=True,
        model="fnlp/MOSS-TTSD-v0.5",
        profile="moss-v0.5",
    )
    first = next(r for r in server.requests if r["input"] == "[S1]One line.")
    assert "voice" not in first and first["references"][0]["text"] == "Hello, I am the first host."
    assert first["references"][0]["audio"].startswith("data:audio/wav;base64,")
    assert (
        OpenAISpeechEngine(OpenAISpeechEngine.Options(profile="moss-v0.5"))
        .capabilities()
        .normalizer
        == "moss-v0.5"
    )


def test_malformed_audio_is_a_one_line_error(servers, make_episode, key):
    server = servers(protocol="openai", malformed=True)
    with pytest.raises(
        SynthesisError, match=r"openai-speech server .* returned audio that cannot be decoded"
    ):
        _speak(make_episode(voices=False, lines=("One line.",)), server)


def test_a_wrong_key_is_not_retried_and_not_shown(servers, make_episode, key):
    server = servers(protocol="openai", api_key="something-else")
    with pytest.raises(Exception, match="HTTP 400") as info:
        _speak(make_episode(voices=False, lines=("One line.",)), server)
    assert not isinstance(info.value, TransientError) and SECRET not in str(info.value)
    assert len(server.requests) == 1


def test_the_openai_default_needs_a_key_before_any_request(make_episode, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(SynthesisError, match="set the OPENAI_API_KEY environment variable"):
        render(OpenAISpeechEngine, make_episode(voices=False))
    assert (
        OpenAISpeechEngine.unavailable(OpenAISpeechEngine.Options()) == "OPENAI_API_KEY is not set"
    )
    assert not (make_episode().run_dir / "clips").exists()


def test_a_rerun_reuses_every_turn(servers, make_episode, key):
    server = servers(protocol="openai")
    episode = make_episode(voices=False)
    first = _speak(episode, server)
    server.kill()
    again = _speak(episode, server)
    assert again.rendering == first.rendering and again.meta["synthesize.details"]["reused"] == 8
    assert all(np.array_equal(x, y) for x, y in zip(decoded(first), decoded(again), strict=True))
