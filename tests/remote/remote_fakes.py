"""Local HTTP servers on 127.0.0.1 that speak the SGLang MOSS-TTSD and OpenAI speech
protocols and answer with real espeak audio (deterministic for a given text).

Each server validates the request the way the real one would need it (paths, JSON fields,
prompt audio that decodes at the right rate) and answers 400 otherwise, records what it
got, and can misbehave on demand: fail the first requests with given statuses, answer
slowly, return malformed audio, or die in the middle of a request.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import soundfile as sf

from podcast.models import Episode, Turn, Voice
from podcast.options import build_options
from podcast.stage import StageContext
from podcast.stages.synthesize.espeak import EspeakEngine
from podcast.rendering import stage_for_engine
from podcast.testing import config_with_voices

TAG = re.compile(r"\[(S\d+)\]")
REFS = {"S1": "Hello, I am the first host.", "S2": "And I am the second host."}
LINES = (
    "Welcome back to the show about remote synthesis.",
    "Today we spread the blocks across two servers.",
    "What happens when one of them goes away?",
    "The client notices and sends its work elsewhere.",
    "And the result sounds exactly the same.",
    "Because the servers are deterministic in this test.",
    "That is a nice property to check.",
    "Thanks for listening, see you next time.",
)
GAP = 0.1


_SPOKEN: dict[str, tuple[np.ndarray, int]] = {}
_SPOKEN_LOCK = threading.Lock()


def speak(text: str, language: str = "en") -> tuple[np.ndarray, int]:
    """espeak audio for a ``[S1]…[S2]…`` text (or untagged text as S1), turns 0.1 s apart.

    espeak-ng varies slightly from call to call, so the audio of each text is made once
    and reused: every fake server is deterministic, as the acceptance test assumes."""
    with _SPOKEN_LOCK:
        if text not in _SPOKEN:
            _SPOKEN[text] = _speak(text, language)
        return _SPOKEN[text]


def _speak(text: str, language: str) -> tuple[np.ndarray, int]:
    pieces = TAG.split(text)
    tagged = zip(pieces[1::2], pieces[2::2], strict=True)
    turns = [(s, t.strip()) for s, t in tagged] or [("S1", text)]
    engine, chunks, rate = EspeakEngine(), [], 22050
    for speaker, body in turns:
        if body:
            audio = engine.synthesize_turn(Turn(speaker, body), Voice(), language)
            chunks += [audio.samples, np.zeros(int(GAP * audio.sample_rate), np.float32)]
            rate = audio.sample_rate
    return np.concatenate(chunks), rate


def wav_bytes(samples: np.ndarray, rate: int, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    subtype = {"WAV": "PCM_16", "FLAC": "PCM_16", "MP3": "MPEG_LAYER_III"}[fmt]
    sf.write(buffer, samples, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


@dataclass
class Behaviour:
    """How a fake server answers; ``fail`` statuses are used up one per request."""

    protocol: str = "v0.7"  # v0.5 | v0.7 | v1.0 | openai
    prompt_text: str | None = (
        None  # the prompt transcript every request must carry (None: not checked)
    )
    fail: list[int] = field(default_factory=list)
    retry_after: str | None = None
    delay: float = 0.0
    malformed: bool = False
    die_on: int | None = None  # drop the connection of request number N (1-based) and shut down
    api_key: str | None = None  # openai: the Bearer token required


class _QuietServer(ThreadingHTTPServer):
    """Clients that hang up (timeouts, a server killed on purpose) are expected here."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class FakeServer:
    """One server in a background thread; ``url`` is its base URL."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.requests: list[dict[str, Any]] = []
        self.health_checks = 0
        self.lock = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.alive = True
        suffix = "/v1" if behaviour.protocol == "openai" else ""
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{suffix}"

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            self.httpd.shutdown()
            self.httpd.server_close()

    # ── request handling (on the server's threads) ──────────────────────────
    def next_number(self, payload: dict[str, Any]) -> int:
        with self.lock:
            self.requests.append(payload)
            return len(self.requests)

    def answer(
        self, path: str, payload: dict[str, Any], headers: Any
    ) -> tuple[int, dict[str, str], bytes]:
        b = self.behaviour
        with self.lock:
            status = b.fail.pop(0) if b.fail else None
        if status is not None:
            extra = (
                {"Retry-After": b.retry_after}
                if b.retry_after is not None and status == 429
                else {}
            )
            return status, extra, b'{"error": "busy"}'
        if b.delay:
            time.sleep(b.delay)
        check = {
            "v0.5": _check_v05,
            "v0.7": _check_v07,
            "v1.0": _check_v10,
            "openai": _check_openai,
        }[b.protocol]
        problem = check(self, path, payload, headers)
        if problem:
            return 400, {}, json.dumps({"error": problem}).encode()
        return self.respond(payload)

    def respond(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        b = self.behaviour
        text = payload.get("input") if b.protocol == "openai" else payload["text"]
        text = (
            text[len(b.prompt_text) :] if b.protocol in ("v0.7", "v1.0") and b.prompt_text else text
        )
        samples, rate = speak(text)
        audio = b"RIFF\x00\x00junk-not-audio" if b.malformed else None
        if b.protocol == "openai":
            return self.openai_audio(payload, samples, rate, audio)
        data = audio or wav_bytes(samples, rate)
        if b.protocol == "v0.5":
            return 200, {"Content-Type": "audio/wav", "sample_rate": str(rate)}, data
        body = {
            "text": base64.b64encode(data).decode(),
            "meta_info": {"prompt_tokens": 10, "completion_tokens": 20},
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def openai_audio(
        self, payload: dict[str, Any], samples: np.ndarray, rate: int, audio: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        fmt = payload.get("response_format", "mp3")
        if audio is not None:
            return 200, {"Content-Type": "audio/wav"}, b"<html>gateway says hello</html>"
        if fmt == "pcm":
            import soxr

            pcm = np.clip(soxr.resample(samples, rate, 24000) * 32767, -32768, 32767).astype("<i2")
            return 200, {"Content-Type": "audio/pcm"}, pcm.tobytes()
        return (
            200,
            {"Content-Type": f"audio/{fmt}"},
            wav_bytes(samples, rate, {"wav": "WAV", "flac": "FLAC", "mp3": "MP3"}[fmt]),
        )


def _decode_wav(data: bytes) -> tuple[np.ndarray, int] | None:
    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    except Exception:
        return None
    return samples, rate


def _data_uri_audio(value: Any) -> tuple[np.ndarray, int] | None:
    prefix = "data:audio/wav;base64,"
    if not isinstance(value, str) or not value.startswith(prefix):
        return None
    return _decode_wav(base64.b64decode(value[len(prefix) :]))


def _check_sampling(payload: dict[str, Any]) -> str | None:
    params = payload.get("sampling_params")
    if not isinstance(params, dict) or not isinstance(params.get("max_new_tokens"), int):
        return "sampling_params.max_new_tokens missing"
    return None


def _check_v07(server: FakeServer, path: str, payload: dict[str, Any], headers: Any) -> str | None:
    if path != "/generate":
        return f"no route {path}"
    text, audio = payload.get("text"), _data_uri_audio(payload.get("audio_data"))
    if not isinstance(text, str) or not text.startswith(server.behaviour.prompt_text or ""):
        return "text must start with the prompt transcript"
    if audio is None or audio[1] != 16000 or audio[0].ndim != 1:
        return "audio_data must be a 16 kHz mono WAV data URI"
    return _check_sampling(payload)


def _check_v05(server: FakeServer, path: str, payload: dict[str, Any], headers: Any) -> str | None:
    if path != "/generate_audio":
        return f"no route {path}"
    audio = _decode_wav(base64.b64decode(payload.get("prompt_audio", "")))
    if audio is None or audio[1] != 16000:
        return "prompt_audio must be base64 16 kHz WAV"
    expected = server.behaviour.prompt_text
    if (expected is not None and payload.get("prompt_text") != expected) or payload.get(
        "use_normalize"
    ) is not False:
        return "prompt_text/use_normalize wrong"
    return _check_sampling(payload)


def _check_v10(server: FakeServer, path: str, payload: dict[str, Any], headers: Any) -> str | None:
    if path != "/generate":
        return f"no route {path}"
    clips = payload.get("audio_data")
    if (
        not isinstance(clips, list)
        or len(clips) != 2
        or any(_data_uri_audio(c) is None for c in clips)
    ):
        return "audio_data must list one WAV data URI per speaker"
    if not payload.get("text", "").startswith(server.behaviour.prompt_text or ""):
        return "text must start with the reference transcripts"
    return _check_sampling(payload)


def _check_openai(
    server: FakeServer, path: str, payload: dict[str, Any], headers: Any
) -> str | None:
    if path != "/v1/audio/speech":
        return f"no route {path}"
    key = server.behaviour.api_key
    if key is not None and headers.get("Authorization") != f"Bearer {key}":
        return "bad key"
    if not payload.get("model") or not payload.get("input"):
        return "model and input are required"
    if not payload.get("voice") and not payload.get("references"):
        return "voice or references required"
    return None


def _handler(server: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            server.health_checks += 1
            ok = self.path in ("/health", "/v1/health")
            self._send(200 if ok else 404, {"Content-Type": "text/plain"}, b"ok" if ok else b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            try:
                payload = json.loads(self.rfile.read(length))
            except ValueError:
                payload = {}
            number = server.next_number(payload)
            if server.behaviour.die_on == number:
                self.close_connection = True
                self.connection.close()
                threading.Thread(target=server.kill, daemon=True).start()
                return
            status, headers, body = server.answer(self.path, payload, self.headers)
            self._send(status, headers, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


# ── test helpers ─────────────────────────────────────────────────────────────


def render(engine_cls: type, episode: Episode, **options: Any) -> Episode:
    """Run the synthesize stage of ``engine_cls`` the way the pipeline does."""
    stage_cls = stage_for_engine(engine_cls)
    opts = build_options(stage_cls.Options, options, f"stages.synthesize.{stage_cls.name}")
    config = config_with_voices(episode.meta.get("test.voices", {}))
    return stage_cls(opts).run(episode, StageContext(config, episode.run_dir))


def prompt_v0() -> str:
    return "".join(f"[{s}]{t}" for s, t in REFS.items())


def decoded(episode: Episode) -> list[Any]:
    """The rendered clips as arrays, in order."""
    return [sf.read(str(clip.path), dtype="float32")[0] for clip in episode.rendering.clips]
