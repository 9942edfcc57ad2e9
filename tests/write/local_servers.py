"""Stand-ins for self-hosted LLM servers, built on :class:`LLMServer` (real sockets): Ollama
(its OpenAI endpoint runs at the loaded context, ignores any ``num_ctx``, and cuts a longer
prompt silently, keeping its first tokens and its end), llama.cpp's ``llama-server`` (``/props``,
lists its model as ``-``) and vLLM (``max_model_len``; refuses longer requests).

The model behind them is the cooperative fake of :mod:`.llm_cooperative`, which also repeats the
section markers (``MARKnn``) it could read, so a test can tell which sections reached the script.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .llm_cooperative import cooperative
from .llm_server import LLMServer, Reply, Seen

CHARS_PER_TOKEN = 4  # how these stand-ins count tokens
MARK = re.compile(r"MARK\d\d")


@dataclass
class Ledger:
    """What the server received and kept, per chat request."""

    sent_tokens: list[int] = field(default_factory=list)
    kept_tokens: list[int] = field(default_factory=list)
    max_tokens: list[int] = field(default_factory=list)
    refused: int = 0


def long_source(sections: int = 20, words_per_section: int = 1500) -> str:
    """A Markdown source of ``sections`` sections, each carrying its own marker word."""
    filler = ("Tidal turbines turn slowly in deep water while engineers measure the flow and the blades "
              "for wear over many seasons of steady currents. ")  # fmt: skip
    body = []
    for n in range(1, sections + 1):
        reps = max(words_per_section // len(filler.split()), 1)
        body.append(f"## Part {n}: MARK{n:02d} topic\n\nMARK{n:02d} opens this part. " + filler * reps)
    return "# A very long report\n\n" + "\n\n".join(body) + "\n"


def markers(text: str) -> set[str]:
    return set(MARK.findall(text))


def _cut(messages: list[dict], keep_tokens: int) -> list[dict]:
    """Ollama's silent truncation: keep the first and the last tokens of the whole prompt."""
    joined = "\x00".join(m.get("content") or "" for m in messages)
    keep = keep_tokens * CHARS_PER_TOKEN
    if len(joined) <= keep:
        return messages
    kept = joined[: keep // 2] + joined[-keep // 2 :]
    parts = kept.split("\x00")
    out = [{"role": "system", "content": ""}] * 0
    for index, message in enumerate(messages):
        out.append({**message, "content": parts[index] if index < len(parts) else ""})
    return out


def _model(seen: Seen, messages: list[dict], kept: int) -> Reply:
    """The cooperative answer for what the model could read, with the markers it saw."""
    view = Seen(seen.path, seen.headers, {**seen.body, "messages": messages}, seen.at)
    try:
        reply = cooperative(view)
    except (AttributeError, ValueError, StopIteration):  # the task itself was cut away
        reply = Reply("I am not sure what you want me to do with this text.")
    found = sorted(markers(" ".join(m.get("content") or "" for m in messages)))
    content = reply.content
    if found:
        if content.lstrip().startswith("{"):
            data = json.loads(content)
            if data.get("turns"):
                data["turns"][0]["text"] += " " + " ".join(found)
            elif data.get("chapters"):
                data["chapters"][0]["points"].append(" ".join(found))
            content = json.dumps(data)
        else:
            content += "\n- markers: " + " ".join(found)
    completion = max(len(content) // CHARS_PER_TOKEN, 1)
    return Reply(content, usage=(kept, completion))


def _tokens(messages: list[dict]) -> int:
    return sum(len(m.get("content") or "") for m in messages) // CHARS_PER_TOKEN + 4 * len(messages)


def ollama(loaded_context: int | None, trained: int = 40960, model: str = "qwen3:8b") -> tuple[LLMServer, Ledger]:
    """Ollama: ``loaded_context`` None = the model is not loaded (it will run at 4096)."""
    server, ledger = LLMServer(model=model, context=None), Ledger()
    running = loaded_context or 4096
    server.routes[("GET", "/api/version")] = lambda body: {"version": "0.12.6"}
    server.routes[("POST", "/api/show")] = lambda body: {"model_info": {"qwen3.context_length": trained}}
    server.routes[("GET", "/api/ps")] = lambda body: {
        "models": [{"name": model, "model": model, "context_length": loaded_context}] if loaded_context else []
    }

    def respond(seen: Seen) -> Reply:
        messages = seen.body["messages"]
        sent = _tokens(messages)
        kept = min(sent, running)
        ledger.sent_tokens.append(sent)
        ledger.kept_tokens.append(kept)
        ledger.max_tokens.append(int(seen.body.get("max_tokens") or seen.body.get("max_completion_tokens") or 0))
        return _model(seen, _cut(messages, running) if sent > running else messages, kept)

    server.responder = respond
    return server, ledger


def llama_server(n_ctx: int, path: str = "/models/Qwen3-8B-Q4_K_M.gguf") -> tuple[LLMServer, Ledger]:
    """llama.cpp's server: ``/props`` says ``n_ctx`` and the model path; it lists its model as ``-``
    and refuses a request that does not fit (HTTP 400, as llama-server does)."""
    server, ledger = LLMServer(model="-", context=None), Ledger()
    server.routes[("GET", "/props")] = lambda body: {"default_generation_settings": {"n_ctx": n_ctx}, "model_path": path, "total_slots": 1}
    server.responder = _refusing(ledger, n_ctx)
    return server, ledger


def vllm(max_model_len: int, model: str = "Qwen/Qwen3-8B") -> tuple[LLMServer, Ledger]:
    server, ledger = LLMServer(model=model, context=max_model_len), Ledger()
    server.responder = _refusing(ledger, max_model_len)
    return server, ledger


def _refusing(ledger: Ledger, context: int):
    def respond(seen: Seen) -> Reply:
        messages = seen.body["messages"]
        sent = _tokens(messages)
        answer = int(seen.body.get("max_tokens") or seen.body.get("max_completion_tokens") or 0)
        ledger.sent_tokens.append(sent)
        ledger.max_tokens.append(answer)
        if sent + answer > context:
            ledger.refused += 1
            return Reply(status=400, error=f"This model's maximum context length is {context} tokens; you requested {sent + answer}")
        ledger.kept_tokens.append(sent)
        return _model(seen, messages, sent)

    return respond
