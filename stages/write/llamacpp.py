"""``llamacpp``: a script writer that runs a GGUF model in this process (no server).

``--writer llamacpp --set write.llamacpp.model=PATH.gguf`` loads the file through ``xllamacpp``
(prebuilt llama.cpp wheels; the optional extra ``podcast-gen[local]``), with the context size
from the file's metadata bounded by free memory (and ``max_memory_gb``), threads from the cores,
and structured output through llama.cpp's JSON-schema grammar (plain JSON when the model's
template cannot take a grammar). The rest of the writing — map-reduce, repair, length control
— is the same as for any server. Nothing is downloaded; no weights are bundled.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from podcast import ConfigError, Document, InputError, Script, Speaker, StageContext, UpstreamError, option

from .client import ClientSettings, Usage
from .llm import LLMOptions, LLMWriter, Session
from .providers import Endpoint, Provider

__all__ = ["GGUFFacts", "LlamaCppOptions", "LlamaCppWriter", "gguf_facts"]

GGUF_MAGIC = b"GGUF"
EXTRA_HINT = "pip install 'podcast-gen[local]'"
#: Context used when the file does not say (and a ceiling: longer contexts slow a CPU down).
DEFAULT_CONTEXT = 8192
MAX_CONTEXT = 32768
LOCAL = Provider("llamacpp", "", "in-process", None, "")


@dataclass(frozen=True, slots=True)
class LlamaCppOptions(LLMOptions):
    """Options of the in-process GGUF writer (``model`` is the .gguf file)."""

    model: str = option("", "the GGUF model file (required)")
    max_memory_gb: float = option(0.0, "cap on memory for the model and its context in GB; 0 = 80 % of what is free")
    threads: int = option(0, "CPU threads; 0 = every core")


@dataclass(frozen=True, slots=True)
class GGUFFacts:
    """What the file says: its model name, trained context and KV-cache size per token."""

    name: str
    trained_context: int | None
    kv_bytes_per_token: int
    file_bytes: int


def gguf_facts(path: Path) -> GGUFFacts:
    """Read a GGUF file's metadata (not its tensors)."""
    from gguf import GGUFReader

    reader = GGUFReader(str(path), "r")

    def field(key: str) -> Any:
        f = reader.fields.get(key)
        if f is None or not f.data:
            return None
        value = f.parts[f.data[0]]
        return bytes(value).decode("utf-8", "replace") if f.types and f.types[0].name == "STRING" else value.tolist()[0]

    arch = field("general.architecture") or "llama"
    layers = int(field(f"{arch}.block_count") or 0)
    heads = int(field(f"{arch}.attention.head_count") or 1)
    kv = int(field(f"{arch}.attention.head_count_kv") or heads)
    dim = int(field(f"{arch}.embedding_length") or 0)
    head_dim = int(field(f"{arch}.attention.key_length") or (dim // heads if heads else 0))
    context = field(f"{arch}.context_length")
    name = field("general.name") or path.stem
    return GGUFFacts(str(name), int(context) if context else None, 2 * layers * kv * head_dim * 2, path.stat().st_size)


def plan_context(facts: GGUFFacts, max_memory_gb: float) -> int:
    """Tokens of context: the trained length, bounded by memory and :data:`MAX_CONTEXT`."""
    available = max_memory_gb * 1e9 if max_memory_gb > 0 else 0.8 * _free_memory()
    room = max(available - facts.file_bytes, 0)
    fits = int(room // facts.kv_bytes_per_token) if facts.kv_bytes_per_token else MAX_CONTEXT
    context = min(facts.trained_context or DEFAULT_CONTEXT, MAX_CONTEXT, fits)
    if context < 1024:
        raise ConfigError(
            f"the model needs {facts.file_bytes / 1e9:.1f} GB and leaves room for only {max(context, 0)} tokens of "
            "context; free memory, raise write.llamacpp.max_memory_gb or use a smaller model"
        )
    return context


def _free_memory() -> float:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in handle}
        return float(info.get("MemAvailable", info.get("MemFree", 0)))
    except (OSError, ValueError, IndexError):
        return 8e9


class InProcessClient:
    """The writer's chat client, answered by an in-process llama.cpp server."""

    def __init__(self, server: Any, settings: ClientSettings, name: str) -> None:
        self.server, self.settings = server, settings
        self.endpoint = Endpoint(replace(LOCAL, default_model=name), "in-process", "")
        self.usage = Usage()
        self.format_mode = "json_schema" if settings.response_format in ("auto", "json_schema") else settings.response_format
        self.cut_off = False
        self.local = False

    @property
    def label(self) -> str:
        return f"llamacpp (in process, model {self.settings.model})"

    def complete(self, messages: Sequence[Mapping[str, str]], purpose: str, schema: Mapping[str, Any] | None = None,
                 label: str = "") -> str:  # fmt: skip
        request: dict[str, Any] = {"messages": [dict(m) for m in messages], "max_tokens": self.settings.max_tokens,
                                   "temperature": self.settings.temperature}  # fmt: skip
        if schema is not None and self.format_mode == "json_schema":
            request["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": dict(schema)}}
        answer = self.server.handle_chat_completions(request)
        if "error" in answer and "response_format" in request and self.settings.response_format == "auto":
            self.format_mode = "text"  # the model's template cannot take a grammar: ask for JSON in words
            request.pop("response_format")
            answer = self.server.handle_chat_completions(request)
        if "error" in answer:
            message = str((answer.get("error") or {}).get("message", answer["error"]))
            raise UpstreamError(f"{self.label}: {' '.join(message.split())[:200]}")
        choice = (answer.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        self.cut_off = choice.get("finish_reason") == "length"
        usage = _Usage(**{k: int(v) for k, v in (answer.get("usage") or {}).items() if k in ("prompt_tokens", "completion_tokens")})
        self.usage.add(purpose, sum(len(m["content"]) for m in messages), usage, text)
        return text

    def first_model(self) -> str | None:
        return self.settings.model

    def redact(self, text: str) -> str:
        return text

    def reset(self) -> None:
        """Nothing to rebuild: there is no HTTP client."""


@dataclass(frozen=True, slots=True)
class _Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


class LlamaCppWriter(LLMWriter):
    """Script by a GGUF model run in this process through llama.cpp (no server, no key)."""

    name: ClassVar[str] = "llamacpp"
    provider: ClassVar[Provider] = LOCAL
    Options: ClassVar[type] = LlamaCppOptions

    def check(self, ctx: StageContext) -> None:
        self.model_path()
        if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("gguf") is None:
            raise ConfigError(f"the llamacpp writer needs its optional packages: {EXTRA_HINT}")

    def model_path(self) -> Path:
        if not self.options.model:
            raise ConfigError("the llamacpp writer needs a model file: --set write.llamacpp.model=PATH.gguf")
        path = Path(self.options.model).expanduser()
        if not path.is_file():
            raise InputError(f"GGUF model not found: {path}")
        with open(path, "rb") as handle:
            if handle.read(4) != GGUF_MAGIC:
                raise InputError(f"{path} is not a GGUF file (no GGUF header); convert it with llama.cpp or pick the .gguf")
        return path

    def cache_salt(self, ctx: StageContext) -> str:
        """The model file (name, size, date) and the prompts change the script, not a URL."""
        path = self.model_path()
        stat = path.stat()
        base = super(LLMWriter, self).cache_salt(ctx)  # the writer's salt without an endpoint URL
        return f"{base}|{path.name}|{stat.st_size}|{int(stat.st_mtime)}"

    def write(self, document: Document, language: str, speakers: tuple[Speaker, ...], ctx: StageContext) -> Script:
        path = self.model_path()
        facts = gguf_facts(path)
        context = self.options.context_tokens or plan_context(facts, self.options.max_memory_gb)
        server = _load(path, context, self.options.threads or os.cpu_count() or 1)
        o = self.options
        settings = ClientSettings(facts.name, o.temperature, o.max_tokens, o.timeout, o.retries, o.backoff, o.max_wait,
                                  False, o.response_format)  # fmt: skip
        session = Session.with_client(InProcessClient(server, settings, facts.name), o, language, speakers, ctx)
        session.fit_context(context, {"kind": "in-process", "context_tokens": context,
                                      "trained_context_tokens": facts.trained_context, "model": facts.name})  # fmt: skip
        try:
            return session.write(document)
        finally:
            self.report.details.update(session.details())
            self.report.warnings.extend(session.warnings)


def _load(path: Path, context: int, threads: int) -> Any:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(path)
    params.n_ctx = context
    params.n_parallel = 1
    params.cpuparams.n_threads = threads
    params.warmup = False
    params.verbosity = 0  # llama.cpp's own log lines would bury the progress display
    try:
        return xllamacpp.Server(params)
    except Exception as exc:  # the library reports load failures as several types
        raise InputError(f"llama.cpp could not load {path}: {' '.join(str(exc).split())[:200]}") from None
