"""Local LLM servers as script writers: the writer asks the server for its context before the
first request, budgets every prompt and answer from it, catches a silent cut, records the real
model name, and says when a small model did not write a conversation."""

from __future__ import annotations

import json

import pytest

from podcast.models import Document
from podcast.stages.ingest.text import markdown_document
from podcast.stages.write.llm import OpenAIWriter

from .llm_cooperative import script_json
from .llm_server import LLMServer, Reply
from .local_servers import llama_server, long_source, markers, ollama, vllm

ALL = {f"MARK{n:02d}" for n in range(1, 21)}


@pytest.fixture
def source() -> Document:
    return markdown_document(long_source(), "report.md")


def _write(write, server: LLMServer, source: Document, minutes: float = 5, **options):
    server.start()
    try:
        return write(OpenAIWriter, source, {"base_url": server.url, "model": server.model, "retries": 1,
                                            "backoff": 0.01, **options}, minutes=minutes)  # fmt: skip
    finally:
        server.stop()


def _script_markers(episode) -> set[str]:
    return markers(" ".join(t.text for t in episode.script.turns))


def test_ollama_at_its_running_context_gets_every_section_uncut(write, keyed, source):
    server, ledger = ollama(loaded_context=4096)
    episode = _write(write, server, source)
    assert ledger.kept_tokens == ledger.sent_tokens, "a prompt was cut"
    assert all(s + m <= 4096 for s, m in zip(ledger.sent_tokens, ledger.max_tokens, strict=True))
    assert len(_script_markers(episode) & ALL) >= 19
    details = episode.meta["write.details"]
    assert details["model"] == "qwen3:8b" and details["server"]["kind"] == "ollama"
    assert details["server"]["context_tokens"] == 4096 and details["server"]["trained_context_tokens"] == 40960
    assert details["mode"] == "map-reduce"
    assert sum(1 for r in server.requests if r.path == "/api/version") == 1  # one probe per run


def test_ollama_not_loaded_yet_is_planned_at_its_default_and_said(write, keyed, source):
    server, ledger = ollama(loaded_context=None)
    episode = _write(write, server, source)
    assert ledger.kept_tokens == ledger.sent_tokens
    assert any("OLLAMA_CONTEXT_LENGTH" in w for w in episode.warnings)
    assert len(_script_markers(episode) & ALL) >= 19


def test_a_silent_cut_is_caught_and_the_work_redone_smaller(write, keyed, source):
    server, ledger = ollama(loaded_context=4096)
    episode = _write(write, server, source, context_tokens=16384)  # the user overstated the context
    assert any(k < s for k, s in zip(ledger.kept_tokens, ledger.sent_tokens, strict=True))  # it did cut
    assert any("prompt tokens; redoing" in w for w in episode.warnings)
    assert episode.meta["write.details"]["prompt_cuts"] >= 1
    assert len(_script_markers(episode) & ALL) >= 19


def test_a_cut_that_cannot_be_avoided_names_the_setting(write, keyed):
    from podcast.errors import UpstreamError

    server, _ = ollama(loaded_context=300)
    small = markdown_document(long_source(sections=3, words_per_section=300), "r.md")
    with pytest.raises(UpstreamError, match="OLLAMA_CONTEXT_LENGTH"):
        _write(write, server, small, context_tokens=16384)


def test_llama_server_context_and_real_model_name(write, keyed, source):
    server, ledger = llama_server(n_ctx=8192)
    episode = _write(write, server, source, model="")
    assert ledger.refused == 0
    assert len(_script_markers(episode) & ALL) >= 19
    details = episode.meta["write.details"]
    assert details["model"] == "Qwen3-8B-Q4_K_M" and details["server"]["kind"] == "llama.cpp"


def test_vllm_max_model_len(write, keyed, source):
    server, ledger = vllm(max_model_len=8192)
    episode = _write(write, server, source)
    assert ledger.refused == 0 and all(s + m <= 8192 for s, m in zip(ledger.sent_tokens, ledger.max_tokens, strict=True))
    assert len(_script_markers(episode) & ALL) >= 19
    assert episode.meta["write.details"]["server"]["context_tokens"] == 8192


def test_an_unknown_local_server_gets_a_conservative_budget_said_in_one_line(write, keyed, source):
    server = LLMServer(context=None)
    from .llm_cooperative import cooperative

    server.responder = cooperative
    episode = _write(write, server, source)
    notes = [w for w in episode.warnings if "does not say its context size" in w]
    assert len(notes) == 1 and "\n" not in notes[0]
    assert max(r.prompt_chars for r in server.chats) <= 4096 * 3


def test_small_models_that_copy_the_examples_or_the_source_are_told(write, keyed):
    text = "Tidal power is steady. " * 5 + "Engineers like predictable currents because the grid needs planning. " * 8
    doc = markdown_document("# Tides\n\n" + text, "t.md")
    parrot = LLMServer(context=32768)
    turns = [{"speaker": "S1", "text": "what S1 says", "chapter": ""}, {"speaker": "S2", "text": "what S2 says", "chapter": ""}]
    parrot.responder = lambda seen: Reply(json.dumps({"title": "t", "turns": turns * 6}))
    episode = _write(write, parrot, doc, minutes=36 / 150)
    assert any("copied the prompt's example turns" in w and "larger" in w for w in episode.warnings)
    reader = LLMServer(context=32768)
    sentences = [s.strip() + "." for s in text.split(".") if s.strip()]
    reading = [{"speaker": "S1" if i % 2 == 0 else "S2", "text": s, "chapter": ""} for i, s in enumerate(sentences)]
    reader.responder = lambda seen: Reply(json.dumps({"title": "t", "turns": reading}))
    episode = _write(write, reader, doc, minutes=len(text.split()) / 150)
    assert any("read out word for word" in w for w in episode.warnings)
    fine = LLMServer(context=32768)
    fine.responder = lambda seen: Reply(script_json(40))
    assert not [w for w in _write(write, fine, doc, minutes=40 / 150).warnings if "larger" in w]


def test_probe_reads_lm_studio_and_is_one_quick_round():
    from podcast.stages.write.servers import probe_server

    server = LLMServer(model="qwen2.5-7b-instruct", context=None)
    server.routes[("GET", "/api/v0/models")] = lambda body: {"data": [
        {"id": "qwen2.5-7b-instruct", "state": "loaded", "loaded_context_length": 8192, "max_context_length": 32768},
        {"id": "other", "state": "not-loaded", "max_context_length": 4096},
    ]}  # fmt: skip
    server.start()
    try:
        facts = probe_server(server.url, "qwen2.5-7b-instruct")
    finally:
        server.stop()
    assert (facts.kind, facts.context, facts.trained, facts.model) == ("lmstudio", 8192, 32768, "qwen2.5-7b-instruct")
    assert facts.probe_ms > 0
