"""pytest plugin for stage authors (installed as the ``podcast`` pytest11 entry point).

Fixtures:

* ``podcast_plugins`` — a fresh :class:`~podcast.plugins.Plugins` with the built-ins and
  installed entry points loaded (register your own with ``podcast_plugins.register``);
* ``episode_factory`` — build an :class:`~podcast.models.Episode` with a run directory
  under ``tmp_path`` and optional document/script;
* ``run_stage`` — run one stage class with options on an episode, the way the pipeline does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from .config import Config, load_config
from .models import Document, Episode, Script, Section, Turn
from .options import build_options
from .stage import Stage, StageContext

__all__ = ["episode_factory", "podcast_plugins", "run_stage"]


@pytest.fixture
def podcast_plugins() -> Any:
    from .plugins import Plugins

    return Plugins().load()


@pytest.fixture
def episode_factory(tmp_path: Path) -> Callable[..., Episode]:
    def make(
        text: str = "A short document about testing.", turns: tuple[tuple[str, str], ...] = (), language: str = "en"
    ) -> Episode:
        run_dir = tmp_path / "episode"
        run_dir.mkdir(exist_ok=True)
        document = Document("test.txt", "text", "Test", (Section("", text),), language)
        script = None
        if turns:
            config = Config()
            script = Script(language, tuple(Turn(s, t) for s, t in turns), config.speaker_list(language), (), "Test")
        return Episode(("test.txt",), language, run_dir, document, script)

    return make


@pytest.fixture
def run_stage() -> Callable[..., Episode]:
    def run(
        stage_cls: type[Stage], episode: Episode, options: Mapping[str, Any] | None = None, config: Config | None = None
    ) -> Episode:
        opts = build_options(stage_cls.Options, options or {}, f"stages.{stage_cls.kind}.{stage_cls.name}")
        stage = stage_cls(opts)
        ctx = StageContext(config or load_config(None, env={}), episode.run_dir)
        stage.check(ctx)
        return stage.run(episode, ctx)

    return run
