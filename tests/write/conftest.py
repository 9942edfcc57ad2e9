"""Fixtures for the writer tests: a scripted LLM server and an in-process writer runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from podcast.models import Episode

from .llm_server import LLMServer
from .write_helpers import KEY, writer_runner


@pytest.fixture
def llm() -> Iterator[LLMServer]:
    server = LLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fake OpenAI key in the environment (and no other LLM variables)."""
    for name in ("OPENAI_BASE_URL", "GEMINI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return KEY


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Episode]:
    """Run a writer class on a document, the way the pipeline does; returns the new episode."""
    return writer_runner(tmp_path)
