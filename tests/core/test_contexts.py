"""The registry travels in the stage context: what a plugin registers is what a run sees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from podcast import hookimpl
from podcast.api import make_episode
from podcast.config import load_config
from podcast.stages.normalize.stage import NormalizeStage
from podcast.stages.write.offline import OfflineWriter
from tests.conftest import clean_env

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "examples" / "solar-sails.md"


class ShoutProfile:
    name = "shout"
    description = "upper-cases every turn"

    def normalize(self, text: str, language: str) -> str:
        return text.upper()


class ShoutPlugin:
    @hookimpl
    def register_normalizers(self, register):
        register(ShoutProfile())


def test_a_profile_registered_in_the_fixture_registry_is_used(podcast_plugins, episode_factory, run_stage):
    podcast_plugins.register(ShoutPlugin(), "shout-plugin")
    written = run_stage(OfflineWriter, episode_factory("Solar sails ride on sunlight. They need no fuel at all."))
    normalized = run_stage(NormalizeStage, written, {"profile": "shout"})
    assert [t.text for t in normalized.normalized.turns] == [t.text.upper() for t in written.script.turns]


def test_a_profile_in_the_pipelines_registry_is_selectable_by_set(podcast_plugins, tmp_path):
    podcast_plugins.register(ShoutPlugin(), "shout-plugin")
    config = load_config(None, env={}, sets=["normalize.standard.profile=shout"], overrides={"output": tmp_path})
    episode = make_episode([str(DOC)], config, podcast_plugins, until="normalize")
    assert episode.meta["normalize.details"]["profile"] == "shout"
    assert all(t.text == t.text.upper() for t in episode.normalized.turns)


PLUGIN_SOURCE = '''
import podcast

class Shout:
    name = "shout"
    description = "upper-cases every turn"

    def normalize(self, text, language):
        return text.upper()

@podcast.hookimpl
def register_normalizers(register):
    register(Shout())
'''

PLUGIN_PYPROJECT = '''
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "podcast-shout"
version = "0.2.0"
requires-python = ">=3.11"

[project.entry-points.podcast_gen]
shout = "podcast_shout"

[tool.setuptools]
py-modules = ["podcast_shout"]
'''


@pytest.mark.slow
def test_an_installed_plugins_profile_is_selectable_in_a_real_run(tmp_path, run_cli):
    source = tmp_path / "shout-src"
    source.mkdir()
    (source / "pyproject.toml").write_text(PLUGIN_PYPROJECT)
    (source / "podcast_shout.py").write_text(PLUGIN_SOURCE)
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "--target", str(site), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    shutil.rmtree(source)
    env = clean_env(PYTHONPATH=str(site))
    proc = run_cli(str(DOC), "-l", "en", "-o", str(tmp_path / "out"), "--set", "normalize.standard.profile=shout",
                   "--until", "normalize", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    episode_dir = next((tmp_path / "out").iterdir())
    normalized = (episode_dir / "script.normalized.txt").read_text(encoding="utf-8").splitlines()
    assert normalized and all(line == line.upper() for line in normalized if line.startswith("["))
    refused = run_cli(str(DOC), "-l", "en", "-o", str(tmp_path / "out2"), "--set", "normalize.standard.profile=shout")
    assert refused.returncode == 2 and "unknown normalization profile 'shout'" in refused.stderr


class Recorder:
    def __init__(self):
        self.events = []

    @hookimpl
    def stage_started(self, stage, episode):
        self.events.append(("started", stage.kind, stage.name))

    @hookimpl
    def stage_finished(self, stage, episode, elapsed, cached):
        self.events.append(("finished", stage.kind, stage.name))


def test_ingest_is_an_ordinary_stage_with_lifecycle_hooks(podcast_plugins, tmp_path):
    recorder = Recorder()
    podcast_plugins.register(recorder, "recorder")
    config = load_config(None, env={}, overrides={"output": tmp_path})
    episode = make_episode([str(DOC)], config, podcast_plugins, until="write")
    assert recorder.events[:2] == [("started", "ingest", "text"), ("finished", "ingest", "text")]
    record = episode.records[0]
    assert (record.kind, record.name, record.cached) == ("ingest", "text", False)
    assert record.details["document"] == episode.document.hash
