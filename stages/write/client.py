"""One chat-completion round trip through the official ``openai`` client, made robust.

Bounded retries with exponential backoff for 408/409/429/5xx, timeouts, dropped connections
and answers that are not chat completions at all (an HTML page, malformed JSON) (a server's
``Retry-After`` wins over the backoff), a total time limit per request (a server that
trickles its answer is cut off), a cap on the answer's size,
streaming with progress, token accounting, and structured output that degrades gracefully:
``json_schema`` first, plain text (the prompt still asks for JSON) when a server rejects it.
Every failure becomes a one-line :class:`~podcast.errors.UpstreamError` with the key redacted.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from podcast import UpstreamError

from .providers import NO_KEY, Endpoint, safe_url

__all__ = ["ChatClient", "ClientSettings", "PromptCut", "Usage", "redact"]

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})
# An answer may hold this many characters per max_tokens token (at least MIN_ANSWER_CHARS):
# far more than any tokenizer yields, so only a runaway server reaches it.
CHARS_PER_TOKEN = 16
MIN_ANSWER_CHARS = 200_000
_KEYLIKE = re.compile(r"\b(?:sk|AIza)[-_A-Za-z0-9*]{8,}")
Progress = Callable[[float, float | None, str], None]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Request settings shared by every call of one writer run."""

    model: str
    temperature: float = 0.8
    max_tokens: int = 8192
    timeout: float = 120.0
    retries: int = 3
    backoff: float = 2.0
    max_wait: float = 60.0
    stream: bool = True
    response_format: str = "auto"  # auto | json_schema | json_object | text


@dataclass(slots=True)
class Usage:
    """What the calls of one run cost and how they went (recorded in episode.json)."""

    calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    estimated_tokens: bool = False
    largest_prompt_chars: int = 0
    purposes: dict[str, int] = field(default_factory=dict)

    def add(self, purpose: str, prompt_chars: int, usage: Any, reply: str) -> None:
        self.calls += 1
        self.purposes[purpose] = self.purposes.get(purpose, 0) + 1
        self.largest_prompt_chars = max(self.largest_prompt_chars, prompt_chars)
        if usage is not None and getattr(usage, "prompt_tokens", None) is not None:
            self.prompt_tokens += int(usage.prompt_tokens or 0)
            self.completion_tokens += int(usage.completion_tokens or 0)
        else:  # the server reported nothing: about four characters a token
            self.estimated_tokens = True
            self.prompt_tokens += prompt_chars // 4
            self.completion_tokens += len(reply) // 4


class _Retry(Exception):
    """A failure worth another attempt; ``wait`` is the server's Retry-After, if any."""

    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class PromptCut(Exception):
    """The server counted far fewer prompt tokens than were sent: it cut the prompt."""

    def __init__(self, sent_tokens: int, kept_tokens: int) -> None:
        super().__init__(f"prompt cut from about {sent_tokens} to {kept_tokens} tokens")
        self.sent_tokens, self.kept_tokens = sent_tokens, kept_tokens

    @property
    def kept_share(self) -> float:
        return self.kept_tokens / max(self.sent_tokens, 1)


#: Characters per token for the cut check: above what real text runs (English about 4 with
#: the common tokenizers, Chinese about 1.3), so a real cut is never mistaken for a short count.
CUT_CHARS_PER_TOKEN = 4.5
CUT_SHARE = 0.9


class _Late(Exception):
    """A call did not finish within its time limit."""


def _within(seconds: float, call: Callable[[], T]) -> T:
    """``call()`` run in a worker thread, waited for at most ``seconds``.

    The HTTP client's timeouts bound each read, not a whole request: a server that trickles
    a byte at a time could hold it forever.  On :class:`_Late` the caller closes the client,
    which ends the worker's read; the daemon thread never blocks the process's exit.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=work, name="podcast-llm-request", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise _Late()
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Downgrade(Exception):
    """The server refused the structured-output request; ask again in plain text."""


class ChatClient:
    """Chat completions against one endpoint; see the module docstring for the guarantees."""

    def __init__(
        self,
        endpoint: Endpoint,
        settings: ClientSettings,
        progress: Progress | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.endpoint, self.settings = endpoint, settings
        self.progress = progress or (lambda done, total, what: None)
        self.log = log or logging.getLogger("podcast.write")
        self.usage = Usage()
        self.format_mode = (
            "json_schema" if settings.response_format == "auto" else settings.response_format
        )
        self._client: Any = None
        self.token_param = "max_tokens"
        self.cut_off = False  # the last answer stopped at max_tokens
        self.dropped: set[str] = set()  # optional request fields the server refused
        self.local = False  # a server on this machine: long first-byte waits, cut checks
        self.first_byte_timeout = 1800.0

    @property
    def label(self) -> str:
        return f"{self.endpoint.provider.name} ({safe_url(self.endpoint.base_url)}, model {self.settings.model})"

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        purpose: str,
        schema: Mapping[str, Any] | None = None,
        label: str = "",
    ) -> str:
        """The assistant's text for ``messages``; ``schema`` asks for JSON of that shape;
        ``label`` describes the call in progress reports."""
        prompt_chars = sum(len(m["content"]) for m in messages)
        attempt = 0
        while True:
            try:
                text, usage = self._attempt(list(messages), label or purpose, schema)
            except _Downgrade:
                continue  # at most once: the format is now plain text
            except _Retry as exc:
                if attempt >= self.settings.retries:
                    raise UpstreamError(
                        f"{self.label}: {exc} (gave up after {attempt + 1} attempts)"
                    ) from None
                self._pause(attempt, exc)
                attempt += 1
                continue
            self.usage.add(purpose, prompt_chars, usage, text)
            self._check_cut(prompt_chars, usage)
            return text

    def reset(self) -> None:
        """Forget the HTTP client so the next request builds one with the current timeouts."""
        self._client = None

    def _check_cut(self, prompt_chars: int, usage: Any) -> None:
        """Raise :class:`PromptCut` when a local server's own prompt-token count is well below the
        least the prompt can have been (a silent truncation at the server's context)."""
        kept = getattr(usage, "prompt_tokens", None) if usage is not None else None
        if not self.local or not kept:
            return
        least = int(prompt_chars / CUT_CHARS_PER_TOKEN)
        if kept < CUT_SHARE * least:
            raise PromptCut(int(prompt_chars / 4), int(kept))

    def first_model(self) -> str | None:
        """The first model a self-hosted server lists, or ``None`` when it lists none."""
        seconds = min(10.0, self.settings.timeout)
        try:
            client = self._openai()  # built (and openai imported) before the clock starts
            page = _within(seconds, lambda: client.models.list(timeout=seconds))
            return next((m.id for m in page.data if getattr(m, "id", None)), None)
        except _Late:
            self._abandon()
            return None
        except Exception:  # listing is a convenience; the chat call reports real failures
            return None

    def redact(self, text: str) -> str:
        return redact(text, self.endpoint.key)

    # ── one attempt ──────────────────────────────────────────────────────────
    @property
    def answer_cap(self) -> int:
        """The most characters one answer may have before it is refused."""
        return max(MIN_ANSWER_CHARS, self.settings.max_tokens * CHARS_PER_TOKEN)

    def _attempt(
        self, messages: list[dict[str, str]], label: str, schema: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        """One request, given up after :meth:`_deadline` seconds in all (see :func:`_within`).
        A local server past its whole allowance is not asked again: it would redo the same work."""
        try:
            return _within(self._deadline(), lambda: self._attempt_now(messages, label, schema))
        except _Late:
            self._abandon()
            if self.local:
                raise UpstreamError(
                    f"{self.label}: no complete answer within {self._deadline():g} s; raise "
                    "stages.write.*.first_byte_timeout or use a smaller model or shorter --minutes"
                ) from None
            raise _Retry(f"no answer within {self.settings.timeout:g} s (in all)") from None

    def _deadline(self) -> float:
        """Seconds one request may take in all: ``timeout``, or for a local server (which may
        read a long prompt for minutes before its first token) ``first_byte_timeout``."""
        return max(self.first_byte_timeout, self.settings.timeout) if self.local else self.settings.timeout

    def _abandon(self) -> None:
        """Drop the client of a request past its time (closing its connections ends the
        worker's read); the next attempt opens a new one."""
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:  # the worker still holds the connection: it fails on its own
                pass

    def _attempt_now(
        self, messages: list[dict[str, str]], label: str, schema: Mapping[str, Any] | None
    ) -> tuple[str, Any]:
        import openai

        timeouts, transport = _transport_errors()
        kwargs = self._request(messages, schema)
        try:
            if self.settings.stream and "stream" not in self.dropped:
                streamed = self._stream(kwargs, label)
                if streamed is not None:
                    return streamed
                # The server ignored stream=true and answered with one JSON body, which the
                # SSE reader cannot see: ask again without streaming, and keep it that way.
                self.dropped.add("stream")
                self.log.info("the server does not stream; asking without streaming")
            return self._plain(kwargs)
        except openai.APIStatusError as exc:
            if exc.status_code in (400, 422) and self._downgrade(_error_text(exc).lower(), kwargs):
                raise _Downgrade() from None
            raise self._status_error(exc) from None
        except _Stalled as exc:
            raise _Retry(str(exc)) from None
        except (openai.APITimeoutError, *timeouts):
            if self.local:  # prompt processing on a CPU: waiting again would repeat the same work
                raise UpstreamError(
                    f"{self.label}: no first token within {self.first_byte_timeout:g} s; raise "
                    "stages.write.*.first_byte_timeout or use a smaller model or shorter --minutes"
                ) from None
            raise _Retry(f"no answer within {self.settings.timeout:g} s") from None
        except openai.APIConnectionError as exc:
            raise _Retry(f"cannot connect: {self.redact(_cause(exc))}") from None
        except (openai.APIError, *transport) as exc:  # dropped or broken stream
            raise _Retry(f"the answer broke off: {self.redact(_short(str(exc)))}") from None
        except json.JSONDecodeError as exc:  # a body or event that is not JSON
            raise _Retry(f"the server sent malformed JSON: {self.redact(_short(exc.doc))!r}") from None

    def _downgrade(self, error: str, kwargs: Mapping[str, Any]) -> bool:
        """Drop one optional request feature the server refused; False when none is left.

        Servers differ: some reject ``stream_options``, newer OpenAI models want
        ``max_completion_tokens`` and a default temperature, and many local servers do not
        know ``json_schema`` (an unexplained 400 while asking for it is taken to mean that).
        """
        if "max_completion_tokens" in error and self.token_param == "max_tokens":
            self.token_param = "max_completion_tokens"
        elif "temperature" in error and "temperature" in kwargs:
            self.dropped.add("temperature")
        elif "stream_options" in error and "stream_options" not in self.dropped:
            self.dropped.add("stream_options")
        elif "response_format" in kwargs and self.settings.response_format == "auto":
            self.format_mode = "text"
        else:
            return False
        self.log.debug(
            "the server refused part of the request (%s); asking again without it", error[:80]
        )
        return True

    def _request(
        self, messages: list[dict[str, str]], schema: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            self.token_param: self.settings.max_tokens,
        }
        for name in self.dropped & {"temperature"}:
            kwargs.pop(name)
        if schema is not None and self.format_mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": dict(schema)},
            }
        elif schema is not None and self.format_mode == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    def _stream(self, kwargs: dict[str, Any], label: str) -> tuple[str, Any] | None:
        """The streamed answer and usage, or ``None`` when no chunk arrived at all."""
        extra = (
            {} if "stream_options" in self.dropped else {"stream_options": {"include_usage": True}}
        )
        stream = self._openai().chat.completions.create(**kwargs, stream=True, **extra)
        parts: list[str] = []
        usage, received, chunks = None, 0, 0
        self.cut_off = False
        watchdog = _Watchdog(stream, self.settings.timeout) if self.local else None
        for chunk in _watched(stream, watchdog):
            chunks += 1
            if not hasattr(chunk, "choices"):
                raise _Retry(f"the server did not stream chat completion chunks: {self._shown(chunk)}")
            usage = getattr(chunk, "usage", None) or usage
            for choice in chunk.choices or ():
                self.cut_off = self.cut_off or choice.finish_reason == "length"
                piece = getattr(choice.delta, "content", None) if choice.delta else None
                if piece:
                    parts.append(piece)
                    received += len(piece)
                    self._check_size(received)
                    self.progress(received, None, f"{label} ({received} chars)")
        return ("".join(parts), usage) if chunks else None

    def _plain(self, kwargs: dict[str, Any]) -> tuple[str, Any]:
        response = self._openai().chat.completions.create(**kwargs)
        choices = getattr(response, "choices", None)
        if not isinstance(choices, list):  # an HTML page, plain text or some other JSON
            raise _Retry(f"the server did not answer with a chat completion: {self._shown(response)}")
        text = (getattr(choices[0].message, "content", None) or "") if choices else ""
        self.cut_off = bool(choices) and choices[0].finish_reason == "length"
        self._check_size(len(text))
        return text, getattr(response, "usage", None)

    def _check_size(self, chars: int) -> None:
        if chars > self.answer_cap:
            raise UpstreamError(
                f"{self.label}: the answer passed {self.answer_cap} characters (max_tokens "
                f"{self.settings.max_tokens}); refusing a runaway answer"
            )

    def _shown(self, sent: Any) -> str:
        """What a server sent instead of a completion, short and redacted."""
        text = sent if isinstance(sent, str) else repr(sent)
        return repr(self.redact(_short(text, 160)))

    def _openai(self) -> Any:
        if self._client is None:
            import openai

            # A local server may think for minutes before its first byte; a stalled stream is
            # caught by the watchdog of _stream instead.
            timeout = max(self.first_byte_timeout, self.settings.timeout) if self.local else self.settings.timeout
            self._client = openai.OpenAI(
                api_key=self.endpoint.key or NO_KEY,
                base_url=self.endpoint.base_url,
                timeout=timeout,
                max_retries=0,
            )
        return self._client

    def _status_error(self, exc: Any) -> Exception:
        status = exc.status_code
        detail = self.redact(_error_text(exc))
        if status in RETRY_STATUS:
            return _Retry(f"HTTP {status} {detail}".strip(), _retry_after(exc.response.headers))
        hint = {
            401: f"; check {self.endpoint.provider.key_env}",
            403: "; the key lacks access",
            404: "; check the model name and base URL",
        }.get(status, "")
        return UpstreamError(f"{self.label}: HTTP {status} {detail}{hint}")

    def _pause(self, attempt: int, exc: _Retry) -> None:
        self.usage.retries += 1
        delay = exc.wait if exc.wait is not None else self.settings.backoff * 2**attempt
        delay = min(max(delay, 0.0), self.settings.max_wait)
        self.log.debug("%s: %s; retrying in %.1f s", self.endpoint.provider.name, exc, delay)
        time.sleep(delay)


class _Stalled(Exception):
    """A streamed answer stopped arriving (after its first token)."""


class _Watchdog:
    """Closes a stream whose chunks stop for ``stall`` seconds after the first one arrived."""

    def __init__(self, stream: Any, stall: float) -> None:
        import threading

        self.stream, self.stall = stream, stall
        self.last: float | None = None
        self.fired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def tick(self) -> None:
        self.last = time.monotonic()

    def stop(self) -> None:
        self._done.set()

    def _watch(self) -> None:
        while not self._done.wait(min(0.5, self.stall / 4)):
            if self.last is not None and time.monotonic() - self.last > self.stall:
                self.fired = True
                try:
                    self.stream.close()
                finally:
                    return


def _watched(stream: Any, watchdog: _Watchdog | None) -> Any:
    """Iterate ``stream``, feeding ``watchdog``; a stall it detected becomes :class:`_Stalled`."""
    if watchdog is None:
        yield from stream
        return
    try:
        for chunk in stream:
            watchdog.tick()
            yield chunk
    except Exception:
        if watchdog.fired:
            raise _Stalled(f"the answer stalled for more than {watchdog.stall:g} s") from None
        raise
    finally:
        watchdog.stop()
    if watchdog.fired:
        raise _Stalled(f"the answer stalled for more than {watchdog.stall:g} s")


def _transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Timeout and transport exception classes of the HTTP library under ``openai``
    (``httpx`` or its successor ``httpx2``), which a broken stream raises unwrapped."""
    import importlib

    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(module.TimeoutException)
        transport.append(module.TransportError)
    return tuple(timeouts), tuple(transport)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return float(raw_ms) / 1000
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        moment = email.utils.parsedate_to_datetime(raw) if raw else None
        return max(0.0, moment.timestamp() - time.time()) if moment else None


def _error_text(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, Mapping):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, Mapping) else inner
        if message:
            return _short(str(message))
    return _short(getattr(exc, "message", "") or "")


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    return _short(str(cause) if cause else str(exc)) or type(exc).__name__


def _short(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def redact(text: str, key: str) -> str:
    """``text`` with ``key`` and anything shaped like an API key replaced by ``[redacted]``."""
    if key and key != NO_KEY and len(key) >= 4:
        text = text.replace(key, "[redacted]")
    return _KEYLIKE.sub("[redacted]", text)
