"""Fixtures for the writer tests: a scripted LLM server and an in-process writer runner."""

from __future__ import annotations

import dataclasses

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from podcast.config import load_config
from podcast.models import Document, Episode
from podcast.options import build_options
from podcast.stage import StageContext

from .llm_server import LLMServer
from .write_helpers import FAST, KEY


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

    def run(
        writer_cls: type,
        doc: Document,
        options: Mapping[str, Any] | None = None,
        minutes: float = 8.0,
        **config: Any,
    ) -> Episode:
        run_dir = tmp_path / "episode"
        run_dir.mkdir(exist_ok=True)
        cfg = load_config(None, overrides={"minutes": minutes or None, **config}, env={})
        if not minutes:  # no length target (the CLI refuses --minutes 0; a library caller may ask)
            cfg = dataclasses.replace(cfg, minutes=0.0)
        defaults = FAST if hasattr(writer_cls.Options, "timeout") else {}
        opts = build_options(
            writer_cls.Options, {**defaults, **(options or {})}, f"stages.write.{writer_cls.name}"
        )
        writer = writer_cls(opts)
        ctx = StageContext(cfg, run_dir)
        writer.check(ctx)
        return writer.run(Episode((doc.source,), doc.language, run_dir, doc), ctx)

    return run
