"""Plugin discovery and selection, on fresh plugin managers."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import ClassVar

import pytest

from podcast import hookspecs
from podcast.config import load_config
from podcast.errors import ConfigError, PluginError, UnknownStageError
from podcast.hookspecs import hookimpl
from podcast.options import option
from podcast.pipeline import build_pipeline
from podcast.plugins import DEFAULT_PLUGINS, Plugins
from podcast.stage import Stage
from podcast.writing import Writer


@dataclass(frozen=True, slots=True)
class _Opts:
    """Options."""

    loud: bool = option(False, "shout")


class Shout(Stage):
    """Upper-cases the script (a custom stage kind)."""

    kind: ClassVar[str] = "shout"
    name: ClassVar[str] = "upper"
    Options: ClassVar[type] = _Opts


class OtherOffline(Writer):
    name: ClassVar[str] = "offline"


class _Plugin:
    def __init__(self, *classes):
        self.classes = classes

    @hookimpl
    def register_stages(self, register):
        for cls in self.classes:
            register(cls)


@pytest.fixture
def plugins():
    return Plugins().load(env={"PODCAST_GEN_PLUGINS": ""})


def test_builtins_register_through_the_same_hooks(plugins):
    names = {p.name for p in plugins.info()}
    assert set(DEFAULT_PLUGINS) <= names
    stages = plugins.stages()
    assert ("write", "offline") in stages and ("synthesize", "espeak") in stages
    assert ("synthesize", "auto") not in stages  # auto is the selection policy, not a stage
    assert plugins.get("synthesize", "espeak").plugin == "podcast.stages.synthesize"
    assert plugins.ingesters() and all(e.kind == "ingest" for e in plugins.ingesters())


def test_unknown_name_lists_installed(plugins):
    with pytest.raises(UnknownStageError) as err:
        plugins.get("synthesize", "nope")
    assert "unknown synthesize implementation 'nope'; installed:" in str(err.value)
    assert "espeak" in str(err.value)


def test_duplicate_names_raise_naming_both_plugins(plugins):
    plugins.register(_Plugin(OtherOffline), "dupe")
    with pytest.raises(PluginError, match="write.offline is registered twice: by 'podcast.stages.write' and by 'dupe'"):
        plugins.stages()


def test_custom_stage_inserted_by_config_and_options_validated(plugins, tmp_path):
    plugins.register(_Plugin(Shout), "shout-plugin", version="1.2")
    config = load_config(None, env={}, stages=[], sets=["shout.upper.loud=yes"])
    config = config.__class__(**{**{f: getattr(config, f) for f in config.__slots__}, "order": ("ingest", "write", "shout", "synthesize")})
    pipeline = build_pipeline(config, plugins)
    assert [s.id for s in pipeline.stages][:2] == ["write.offline", "shout.upper"]
    assert pipeline.stages[2].kind == "synthesize"  # whichever engine auto picks here
    assert pipeline.stages[1].options.loud is True
    info = next(p for p in plugins.info() if p.name == "shout-plugin")
    assert (info.version, info.hooks, info.stages) == ("1.2", ("register_stages",), ("shout.upper",))
    bad = load_config(None, env={}, sets=["shout.upper.volume=11"])
    with pytest.raises(ConfigError, match="unknown option stages.shout.upper.volume"):
        build_pipeline(bad, plugins)


def test_options_for_uninstalled_stages_are_refused(plugins):
    with pytest.raises(UnknownStageError, match="no installed plugin provides a 'nosuch' stage"):
        build_pipeline(load_config(None, env={}, sets=["nosuch.x.y=1"]), plugins)


def test_auto_stages_resolve_with_a_recorded_note(plugins):
    pipeline = build_pipeline(load_config(None, env={}), plugins)
    assert [s.id for s in pipeline.stages][:1] == ["write.offline"]
    assert any(kind == "write" and "offline writer" in note for kind, note in pipeline.notes)


def test_blocked_plugins_do_not_load():
    plugins = Plugins().load(env={"PODCAST_GEN_PLUGINS": "", "PODCAST_GEN_DISABLE_PLUGINS": "podcast.stages.write"})
    assert "write" not in plugins.kinds()


def test_every_hookspec_is_documented_with_params():
    specs = [f for name, f in vars(hookspecs).items() if hasattr(f, "podcast_spec")]
    assert len(specs) == 9
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert "Called" in doc and "firstresult" in doc, spec.__name__
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in doc, (spec.__name__, param)
