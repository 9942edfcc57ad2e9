"""``openai-speech``: per-turn synthesis through any OpenAI-compatible ``/v1/audio/speech``.

Works with OpenAI itself (a voice per speaker, ``OPENAI_API_KEY``), hosted MOSS-TTSD that
takes reference audio in the request (SiliconFlow: ``references = true``, ``profile =
"moss-v0.5"``) and local servers such as Speaches or Kokoro-FastAPI (``urls =
["http://127.0.0.1:8880/v1"]``, no key needed).  Turns are independent, so all uncached turns
go out at once with ``concurrency`` requests per server and at most ``requests_per_minute``
request starts, retried with backoff on 429/5xx.

Request: ``POST {url}/audio/speech`` ``{model, input, voice | references, response_format,
[speed], [instructions]}`` → the audio file (``pcm``: raw 16-bit mono at ``sample_rate``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from podcast import Audio, Capabilities, Script, SynthesisError, Turn, TurnEngine, Voice, option

from .base import RemoteEngine, RemoteOptions
from .codec import ReferenceCache, data_uri, decode_audio, decode_pcm16, encode_wav
from .http import join_url, post_json

__all__ = ["OpenAISpeechEngine", "OpenAISpeechOptions"]

OPENAI_URL = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class OpenAISpeechOptions(RemoteOptions):
    """Options of the OpenAI-compatible speech client."""

    urls: tuple[str, ...] = option(
        (),
        "API base URLs ending in /v1 (default: $OPENAI_BASE_URL, else https://api.openai.com/v1)",
    )
    api_key_env: str = option(
        "OPENAI_API_KEY", "environment variable holding the API key ('' = send none)"
    )
    concurrency: int = option(4, "requests in flight per server")
    requests_per_minute: float = option(
        50.0, "most requests started per minute over all servers (0 = no limit)"
    )
    timeout: float = option(120.0, "seconds one request may take before it is retried")
    model: str = option(
        "gpt-4o-mini-tts",
        "model name sent with every request (e.g. tts-1, kokoro, fnlp/MOSS-TTSD-v0.5)",
    )
    voices: tuple[str, ...] = option(
        ("onyx", "nova"), "voice for S1, S2, … when a speaker has no preset (--voice S1=NAME)"
    )
    response_format: Literal["wav", "flac", "mp3", "opus", "pcm"] = option(
        "wav", "audio format asked for: wav, flac, mp3, opus or pcm"
    )
    sample_rate: int = option(24000, "rate of pcm responses and of the rendering, in Hz")
    speed: float = option(1.0, "speaking speed sent when not 1.0 (0.25-4.0)")
    instructions: str = option(
        "", "delivery instructions for models that take them (gpt-4o-mini-tts)"
    )
    references: bool = option(
        False,
        "send a speaker's reference audio and transcript as 'references' (SiliconFlow MOSS-TTSD)",
    )
    languages: tuple[str, ...] = option(
        ("en", "zh"), "languages the model behind the endpoint speaks"
    )
    profile: str = option(
        "podcast",
        "normalization profile of the model behind the endpoint (moss-v0.5: hosted MOSS-TTSD)",
    )


class OpenAISpeechEngine(RemoteEngine, TurnEngine):
    """Any OpenAI-compatible /v1/audio/speech endpoint, one request per turn."""

    name: ClassVar[str] = "openai-speech"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = OpenAISpeechOptions

    def __init__(self, options: Any = None, context: Any = None) -> None:
        super().__init__(options, context)
        self.references = ReferenceCache()

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset(self.options.languages),
            sample_rate=self.options.sample_rate,
            max_speakers=max(len(self.options.voices), 2),
            cloning=self.options.references,
            needs_ref_text=self.options.references,
            presets=tuple(self.options.voices),
            device="remote",
            normalizer=self.options.profile,
        )

    def server_urls(self) -> tuple[str, ...]:
        return tuple(self.options.urls) or (os.environ.get("OPENAI_BASE_URL") or OPENAI_URL,)

    def key_required(self) -> bool:
        return any(OPENAI_URL in url for url in self.server_urls())

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        engine = cls(options)
        if engine.key_required() and not os.environ.get(options.api_key_env or "OPENAI_API_KEY"):
            return f"{options.api_key_env or 'OPENAI_API_KEY'} is not set"
        return None

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        self.check_connection()
        speakers = {t.speaker for t in script.turns}
        known = voices
        unvoiced = [
            s
            for s in sorted(speakers)
            if not self._voice_name(s, known.get(s, Voice()))
            and not self._reference(known.get(s, Voice()))
        ]
        if unvoiced:
            raise SynthesisError(
                f"openai-speech has no voice for {', '.join(unvoiced)}: add names to "
                "synthesize.openai-speech.voices or pass --voice S3=NAME"
            )

    # ── synthesis ────────────────────────────────────────────────────────────
    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        return self.dispatch_one((turn, voice), self._render)

    def synthesize_turns(
        self, turns: Sequence[tuple[Turn, Voice]], language: str
    ) -> Iterator[tuple[int, Audio]]:
        return self.dispatch(turns, self._render)

    def _render(self, url: str, job: tuple[Turn, Voice]) -> Audio:
        response = post_json(
            join_url(url, "audio/speech"), self.payload(*job), self.headers(), self.options.timeout
        )
        source = f"openai-speech server {url}"
        if self.options.response_format == "pcm":
            return decode_pcm16(response.body, self.options.sample_rate, source)
        return decode_audio(response.body, source)

    def payload(self, turn: Turn, voice: Voice) -> dict[str, Any]:
        """The JSON body for one turn."""
        options = self.options
        body: dict[str, Any] = {
            "model": options.model,
            "input": turn.text,
            "response_format": options.response_format,
        }
        reference = self._reference(voice)
        if reference is not None:
            body.update(input=f"[S1]{turn.text}", references=[reference])
        else:
            body["voice"] = self._voice_name(turn.speaker, voice)
        if options.speed != 1.0:
            body["speed"] = options.speed
        if options.instructions:
            body["instructions"] = options.instructions
        return body

    def _voice_name(self, speaker: str, voice: Voice) -> str | None:
        if voice.preset:
            return voice.preset
        slot = int(speaker[1:]) - 1 if speaker[1:].isdigit() else 0
        return self.options.voices[slot] if 0 <= slot < len(self.options.voices) else None

    def _reference(self, voice: Voice) -> dict[str, str] | None:
        if not (self.options.references and voice.ref_audio is not None and voice.ref_text):
            return None
        rate = self.options.sample_rate
        return {
            "audio": data_uri(encode_wav(self.references.mono(voice.ref_audio, rate), rate)),
            "text": voice.ref_text,
        }
