"""``sglang``: MOSS-TTSD served by OpenMOSS's SGLang fork, on one or more servers.

Each block of the script is one request.  By default nothing is carried between blocks
(``carry_seconds = 0``): every block is prompted by the speakers' reference voices, so all
blocks go out at once, spread over the servers with ``concurrency`` requests each, retried
with backoff and moved to another server when one fails (see :mod:`.pool`).  With
``carry_seconds > 0`` blocks are chained through the previous block's tail (v0.5/v0.7) and
go one at a time, still with retries and failover.

Wire formats (request JSON → response), per served model version:

* ``v0.5`` — ``POST /generate_audio`` ``{text, prompt_text, prompt_audio: base64 16 kHz WAV,
  silence_duration, use_normalize, sampling_params}`` → WAV bytes.
* ``v0.7`` — ``POST /generate`` ``{text: prompt_text + text, audio_data: "data:audio/wav;base64,…"
  (S1 then S2 reference, 16 kHz mono), sampling_params}`` → JSON whose ``text`` is base64 WAV.
* ``v1.0`` — ``POST /generate`` ``{text: "[S1] ref1 [S2] ref2 script", audio_data: [one data
  URI per speaker], sampling_params}`` → JSON whose ``text`` is base64 WAV.

The server does not report turn timings, so spans are estimated from text lengths.  Text
arrives normalized by the pipeline with the profile of the served version (``moss-v0.5``,
``moss-v0.7``, ``moss-v1.0``); the server's own normalizer is not used.
"""

from __future__ import annotations

import base64
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from podcast import (
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    Script,
    SynthesisError,
    Turn,
    Voice,
    estimate_seconds,
    option,
)

from .base import RemoteEngine, RemoteOptions
from .codec import ReferenceCache, data_uri, decode_audio, decode_base64_audio, encode_wav
from .http import join_url, post_json

__all__ = ["SglangEngine", "SglangOptions"]

FRAMES_PER_SECOND = 12.5
PROMPT_RATE = 16000  # v0.x servers expect 16 kHz prompts


@dataclass(frozen=True, slots=True)
class _Profile:
    """What differs between served versions."""

    path: str
    output_rate: int
    reference_rate: int
    max_seconds: float
    max_speakers: int
    needs_reference: bool
    sampling: tuple[tuple[str, float], ...]


PROFILES: dict[str, _Profile] = {
    "v0.5": _Profile(
        "/generate_audio",
        32000,
        PROMPT_RATE,
        960.0,
        2,
        False,
        (("temperature", 0.9), ("top_p", 0.95), ("top_k", 50), ("repetition_penalty", 1.0)),
    ),
    "v0.7": _Profile(
        "/generate",
        32000,
        PROMPT_RATE,
        1700.0,
        2,
        False,  # the server decides: OpenMOSS's refuses text-only v0.7, test servers may not
        (("temperature", 0.8), ("top_p", 0.95), ("top_k", 50)),
    ),
    "v1.0": _Profile(
        "/generate",
        24000,
        24000,
        3600.0,
        5,
        False,
        (("temperature", 1.1), ("top_p", 0.9), ("top_k", 50)),
    ),
}


@dataclass(frozen=True, slots=True)
class SglangOptions(RemoteOptions):
    """Options of the SGLang MOSS-TTSD client."""

    version: Literal["v0.5", "v0.7", "v1.0"] = option(
        "v0.7",
        "MOSS-TTSD version served: v0.5, v0.7 or v1.0 (sets the protocol and text profile)",
    )
    health_path: str = option(
        "/health", "path checked with GET on every server before the first request ('' = none)"
    )
    block_seconds: float = option(
        120.0, "longest block (seconds of speech) per request; shorter blocks spread better"
    )
    carry_seconds: float = option(
        0.0,
        "seconds of the previous block carried as the next prompt (0 = independent, parallel)",
    )
    temperature: float | None = option(
        None, "sampling temperature (default: the version's reference client)"
    )
    top_p: float | None = option(
        None, "nucleus sampling threshold (default: the version's reference client)"
    )
    top_k: int | None = option(None, "top-k sampling (default: the version's reference client)")
    max_new_tokens: int = option(
        0,
        "generation limit per request in 12.5 Hz frames (0 = 3x the block's estimated length)",
    )
    silence_duration: float = option(
        0.0,
        "v0.5: seconds of silence appended to the prompt (0.1 helps if outputs start with noise)",
    )


class SglangEngine(RemoteEngine, DialogueEngine):
    """MOSS-TTSD on SGLang servers (OpenMOSS fork): blocks in parallel across servers."""

    name: ClassVar[str] = "sglang"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = SglangOptions

    def __init__(self, options: Any = None, context: Any = None) -> None:
        super().__init__(options, context)
        self.references = ReferenceCache()

    @property
    def profile(self) -> _Profile:
        return PROFILES[self.options.version]

    def capabilities(self) -> Capabilities:
        profile, version = self.profile, self.options.version
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=profile.output_rate,
            dialogue_native=True,
            max_speakers=profile.max_speakers,
            cloning=True,
            needs_ref_text=True,
            needs_reference=profile.needs_reference,
            max_seconds_per_call=profile.max_seconds,
            device="remote",
            licence="Apache-2.0",
            commercial_ok=True,
            normalizer=f"moss-{version}",
        )

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        return None if options.urls else "no server URLs configured (stages.synthesize.sglang.urls)"

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        self.check_connection()
        if self.options.carry_seconds > 0 and self.options.version == "v1.0":
            raise SynthesisError(
                "sglang v1.0 takes one reference per speaker, not a carried prompt; "
                "set synthesize.sglang.carry_seconds=0"
            )
        for speaker, voice in voices.items():
            if voice.ref_audio is not None and not voice.ref_text:
                raise SynthesisError(
                    f"sglang needs the exact transcript of {speaker}'s reference: "
                    f'--voice {speaker}=ref.wav:"transcript"'
                )
        if all(v.ref_audio is None for v in voices.values()):
            logging.getLogger("podcast").warning(
                "sglang: no reference voices, so every block may get a different random voice; "
                'pass --voice S1=ref.wav:"transcript" for each speaker'
            )

    # ── synthesis ────────────────────────────────────────────────────────────
    def synthesize_block(self, block: Block) -> BlockAudio:
        return self.dispatch_one(block, self._render)

    def synthesize_blocks(self, blocks: Sequence[Block]) -> Iterator[tuple[int, BlockAudio]]:
        return self.dispatch(blocks, self._render)

    def _render(self, url: str, block: Block) -> BlockAudio:
        """One request to one server (called on a worker thread)."""
        endpoint = join_url(url, self.profile.path)
        response = post_json(endpoint, self.payload(block), self.headers(), self.options.timeout)
        source = f"sglang server {url}"
        if self.options.version == "v0.5":
            return BlockAudio(decode_audio(response.body, source))
        try:
            answer = response.json()
        except ValueError:
            raise SynthesisError(
                f"{source} did not answer JSON; is it a MOSS-TTSD {self.options.version} server? "
                "(see synthesize.sglang.version)"
            ) from None
        if not isinstance(answer, dict):
            raise SynthesisError(
                f"{source} answered {type(answer).__name__} JSON instead of an object with 'text'"
            )
        return BlockAudio(decode_base64_audio(answer.get("text"), source))

    # ── requests ─────────────────────────────────────────────────────────────
    def payload(self, block: Block) -> dict[str, Any]:
        """The request body for ``block`` in the configured version's format."""
        text = _tagged(block.turns)
        sampling = self._sampling(block)
        if self.options.version == "v1.0":
            return self._payload_v1(block, text, sampling)
        prompt = self._prompt_v0(block)
        if self.options.version == "v0.5":
            body: dict[str, Any] = {
                "text": text,
                "use_normalize": False,
                "sampling_params": sampling,
            }
            if prompt is not None:
                body.update(
                    prompt_text=prompt[0], prompt_audio=base64.b64encode(prompt[1]).decode("ascii")
                )
                body["silence_duration"] = self.options.silence_duration
            return body
        if prompt is None:
            return {"text": text, "sampling_params": sampling}
        return {
            "text": prompt[0] + text,
            "audio_data": data_uri(prompt[1]),
            "sampling_params": sampling,
        }

    def _sampling(self, block: Block) -> dict[str, Any]:
        params: dict[str, Any] = dict(self.profile.sampling)
        for name in ("temperature", "top_p", "top_k"):
            if getattr(self.options, name) is not None:
                params[name] = getattr(self.options, name)
        params["max_new_tokens"] = self.options.max_new_tokens or _frames_for(block)
        return params

    def _prompt_v0(self, block: Block) -> tuple[str, bytes] | None:
        """``(prompt_text, 16 kHz mono WAV)``: the carried tail, else S1's then S2's reference."""
        import numpy as np

        from podcast.audio import resample, to_mono

        if block.prompt is not None:
            audio = block.prompt.audio
            samples = to_mono(resample(audio.samples, audio.sample_rate, PROMPT_RATE))
            return _tagged(block.prompt.turns), encode_wav(samples, PROMPT_RATE)
        refs = _references(block.voices)
        if not refs:
            return None
        clips = [self.references.mono(voice.ref_audio, PROMPT_RATE) for _, voice in refs]  # type: ignore[arg-type]
        text = "".join(f"[{speaker}]{voice.ref_text}" for speaker, voice in refs)
        return text, encode_wav(np.concatenate(clips), PROMPT_RATE)

    def _payload_v1(self, block: Block, text: str, sampling: dict[str, Any]) -> dict[str, Any]:
        refs = _references(block.voices)
        rate = self.profile.reference_rate
        prompt = " ".join(f"[{speaker}] {voice.ref_text}" for speaker, voice in refs)
        audio = [
            data_uri(encode_wav(self.references.mono(v.ref_audio, rate), rate)) for _, v in refs
        ]  # type: ignore[arg-type]
        body: dict[str, Any] = {
            "text": f"{prompt} {text}" if prompt else text,
            "sampling_params": sampling,
        }
        if audio:
            body["audio_data"] = audio
        return body


def _tagged(turns: Sequence[Turn]) -> str:
    """``[S1]text[S2]text…`` (the MOSS-TTSD script form)."""
    return "".join(f"[{t.speaker}]{t.text}" for t in turns)


def _references(voices: Any) -> list[tuple[str, Voice]]:
    """Speakers with a reference recording, in speaker order (S1, S2, …)."""
    found = [(speaker, voice) for speaker, voice in voices.items() if voice.ref_audio is not None]
    return sorted(found, key=lambda item: int(item[0][1:]) if item[0][1:].isdigit() else 0)


def _frames_for(block: Block) -> int:
    """Three times the block's estimated length in 12.5 Hz frames, at least 2048."""
    seconds = sum(estimate_seconds(t.text, block.language) for t in block.turns)
    return max(2048, math.ceil(3 * seconds * FRAMES_PER_SECOND))
