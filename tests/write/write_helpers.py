"""Shared constants and builders for the writer tests."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from podcast.config import load_config
from podcast.models import Document, Episode, Section
from podcast.options import build_options
from podcast.stage import StageContext

KEY = "sk-test-SECRET-0123456789abcdef"
FAST = {"timeout": 5, "retries": 2, "backoff": 0.01, "max_wait": 5}


def document(text: str, title: str = "Testing software", language: str = "en") -> Document:
    sections = tuple(Section(h, t) for h, t in _sections(text))
    return Document("doc.md", "markdown", title, sections, language)


def _sections(text: str) -> list[tuple[str, str]]:
    parts, heading, body = [], "", []
    for line in text.splitlines():
        if line.startswith("## "):
            if body:
                parts.append((heading, "\n".join(body).strip()))
            heading, body = line[3:].strip(), []
        else:
            body.append(line)
    parts.append((heading, "\n".join(body).strip()))
    return [p for p in parts if p[1]]


def writer_runner(tmp_path: Path) -> Callable[..., Episode]:
    """A function that runs a writer class on a document the way the pipeline does (in
    ``tmp_path/episode``) and returns the new episode (the ``write`` fixture)."""

    def run(
        writer_cls: type,
        doc: Document,
        options: Mapping[str, Any] | None = None,
        minutes: float | None = 8.0,
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
