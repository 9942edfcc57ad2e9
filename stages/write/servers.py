"""What a self-hosted LLM server can take, asked once per run before the first request.

Local servers run a model at a context the user (or a default) chose, and the popular ones cut
a longer prompt silently (Ollama keeps its first tokens and its end). So before writing, the
writer asks the server, on its own non-OpenAI routes:

* Ollama — ``/api/ps`` (``context_length`` of the loaded model), ``/api/show`` (the trained
  maximum in ``model_info.*.context_length``); a model not loaded yet runs at Ollama's default
  context (``OLLAMA_CONTEXT_LENGTH``, else 4096);
* llama.cpp ``llama-server`` — ``/props`` (``n_ctx`` per slot and the model path);
* vLLM — ``/v1/models`` (``max_model_len``);
* LM Studio — ``/api/v0/models`` (``loaded_context_length``).

An unknown local server gets a conservative default, said in one line; a hosted API keeps the
configured budgets. The probe is a few small GETs with a short timeout.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["OLLAMA_DEFAULT_CONTEXT", "UNKNOWN_LOCAL_CONTEXT", "ServerFacts", "Budget", "budget_for", "probe_server"]

OLLAMA_DEFAULT_CONTEXT = 4096
UNKNOWN_LOCAL_CONTEXT = 4096
PROBE_TIMEOUT = 2.0
#: Characters per token assumed when turning a token budget into characters (English text runs
#: about 4 with Qwen/Llama tokenizers, Chinese about 1.3; the lower bound keeps prompts inside).
CHARS_PER_TOKEN = {"en": 3.0, "zh": 1.0}
#: Tokens kept free besides the answer: chat template, system prompt overhead, rounding.
MARGIN_TOKENS = 256


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """One probe's result. ``context`` is the running context in tokens (``None`` = unknown or a
    hosted API); ``trained`` the model's maximum; ``model`` the real model name when the server
    knows it; ``note`` one line worth telling the user."""

    kind: str
    context: int | None = None
    trained: int | None = None
    model: str | None = None
    note: str | None = None
    setting: str = ""  # what the user changes to give the server more context
    probe_ms: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "context_tokens": self.context, "trained_context_tokens": self.trained,
                "model": self.model, "probe_ms": round(self.probe_ms, 1)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Budget:
    """Prompt characters and answer tokens that fit the server's context."""

    prompt_chars: int
    answer_tokens: int


def budget_for(context: int, language: str, max_tokens: int) -> Budget:
    """Split ``context`` tokens into an answer allowance and a prompt budget in characters."""
    answer = max(256, min(max_tokens, context // 3))
    prompt_tokens = max(context - answer - MARGIN_TOKENS, 256)
    return Budget(int(prompt_tokens * CHARS_PER_TOKEN.get(language, 1.0)), answer)


def probe_server(base_url: str, model: str, timeout: float = PROBE_TIMEOUT) -> ServerFacts:
    """Ask the server at ``base_url`` (an OpenAI-style ``…/v1`` URL) what it runs."""
    start = time.perf_counter()
    root = _root(base_url)
    facts = (
        _ollama(root, model, timeout)
        or _llamacpp(root, timeout)
        or _lmstudio(root, model, timeout)
        or _vllm(base_url, model, timeout)
        or ServerFacts(
            "unknown", UNKNOWN_LOCAL_CONTEXT,
            note=f"the local server at {root} does not say its context size; assuming {UNKNOWN_LOCAL_CONTEXT} tokens "
            "(set stages.write.openai.context_tokens to the server's context)",
            setting="stages.write.openai.context_tokens",
        )  # fmt: skip
    )
    return _with_time(facts, (time.perf_counter() - start) * 1000)


def _with_time(facts: ServerFacts, ms: float) -> ServerFacts:
    from dataclasses import replace

    return replace(facts, probe_ms=ms)


def _root(base_url: str) -> str:
    parts = urlsplit(base_url)
    path = parts.path.rstrip("/")
    for suffix in ("/v1", "/api"):
        path = path.removesuffix(suffix)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _get(url: str, timeout: float, body: dict | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a local server the user named
            return json.loads(response.read(1 << 20).decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError, ValueError, TimeoutError):
        return None


def _ollama(root: str, model: str, timeout: float) -> ServerFacts | None:
    version = _get(f"{root}/api/version", timeout)
    if not isinstance(version, dict) or "version" not in version:
        return None
    trained = _trained_context(_get(f"{root}/api/show", timeout, {"model": model}))
    loaded = _get(f"{root}/api/ps", timeout)
    running = next(
        (int(m["context_length"]) for m in (loaded or {}).get("models", []) if _same_model(m, model) and m.get("context_length")),
        None,
    )
    setting = "OLLAMA_CONTEXT_LENGTH (or num_ctx in a Modelfile)"
    if running is not None:
        return ServerFacts("ollama", running, trained, model or None, setting=setting)
    context = min(OLLAMA_DEFAULT_CONTEXT, trained or OLLAMA_DEFAULT_CONTEXT)
    note = (f"Ollama has not loaded {model} yet; planning for its default context of {context} tokens "
            "(start `ollama serve` with OLLAMA_CONTEXT_LENGTH=16384 for fewer, better requests)")  # fmt: skip
    return ServerFacts("ollama", context, trained, model or None, note=note, setting=setting)


def _same_model(entry: dict, model: str) -> bool:
    names = {entry.get("name"), entry.get("model")}
    return not model or model in names or f"{model}:latest" in names


def _trained_context(show: Any) -> int | None:
    info = (show or {}).get("model_info") if isinstance(show, dict) else None
    if not isinstance(info, dict):
        return None
    values = [v for k, v in info.items() if k.endswith(".context_length") and isinstance(v, int)]
    return values[0] if values else None


def _llamacpp(root: str, timeout: float) -> ServerFacts | None:
    props = _get(f"{root}/props", timeout)
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings") or {}
    n_ctx = settings.get("n_ctx") or props.get("n_ctx")
    if not n_ctx:
        return None
    path = props.get("model_path") or ""
    name = PurePosixPath(str(path).replace("\\", "/")).name.removesuffix(".gguf") or None
    return ServerFacts("llama.cpp", int(n_ctx), model=name, setting="llama-server -c (context size)")


def _lmstudio(root: str, model: str, timeout: float) -> ServerFacts | None:
    listing = _get(f"{root}/api/v0/models", timeout)
    if not isinstance(listing, dict) or not isinstance(listing.get("data"), list):
        return None
    loaded = [m for m in listing["data"] if m.get("state") == "loaded" and (not model or m.get("id") == model)]
    entry = loaded[0] if loaded else next((m for m in listing["data"] if m.get("id") == model), None)
    if entry is None or not ({"loaded_context_length", "max_context_length"} & set(entry)):
        return None  # not LM Studio (an OpenAI-style listing under another prefix)
    context = entry.get("loaded_context_length") or entry.get("max_context_length")
    return ServerFacts("lmstudio", int(context) if context else None, entry.get("max_context_length"), entry.get("id"),
                       setting="the context length in LM Studio's model load settings")  # fmt: skip


def _vllm(base_url: str, model: str, timeout: float) -> ServerFacts | None:
    listing = _get(base_url.rstrip("/") + "/models", timeout)
    rows = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(rows, list):
        return None
    entry = next((m for m in rows if m.get("id") == model), rows[0] if rows else None)
    if not entry or not entry.get("max_model_len"):
        return None
    return ServerFacts("vllm", int(entry["max_model_len"]), model=entry.get("id"), setting="vllm serve --max-model-len")
