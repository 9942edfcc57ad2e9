"""Writer selection, prompt overrides and the write-stage cache."""

from __future__ import annotations

import pytest

from podcast.api import make_episode
from podcast.config import Config, load_config
from podcast.errors import ConfigError
from podcast.plugins import Plugins
from podcast.selection import choose
from podcast.stages.write.prompting import PURPOSES, PromptBook

from .llm_cooperative import script_json
from .write_helpers import KEY


def test_auto_picks_by_configured_key():
    config = Config()
    plugins = Plugins().load(env={"PODCAST_GEN_PLUGINS": ""})

    def resolve(config, env):  # ``--writer auto`` is the selection policy, not a stage
        return choose("write", plugins, config, env)

    assert resolve(config, {"OPENAI_API_KEY": "k"}) == ("openai", None)
    assert resolve(config, {"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}) == (
        "openai",
        None,
    )
    assert resolve(config, {"GEMINI_API_KEY": "k"}) == ("gemini", None)
    name, note = resolve(config, {})
    assert name == "offline" and "no LLM key" in note
    configured = load_config(None, sets=["write.gemini.api_key_file=/tmp/k"], env={})
    assert resolve(configured, {})[0] == "gemini"


def test_every_prompt_fills_in_both_languages():
    for language in ("en", "zh"):
        book = PromptBook(language)
        for purpose in PURPOSES:
            assert book.template(purpose).strip()
        assert "$" not in book.fill("format", {"ids": "S1, S2"})


def test_user_prompt_dir_overrides_and_bad_placeholders_fail(tmp_path):
    (tmp_path / "write").mkdir()
    (tmp_path / "write" / "system.en.md").write_text("Custom system for $host.")
    book = PromptBook("en", (tmp_path,))
    assert book.fill("system", {"host": "Alex"}) == "Custom system for Alex."
    assert "notes" in book.template("notes")  # others fall back to the built-ins
    (tmp_path / "write" / "script.en.md").write_text("Use $undefined here.")
    with pytest.raises(ConfigError, match="unknown placeholder"):
        book.fill("script", {})


def test_rerun_reuses_the_script_and_a_changed_prompt_rewrites_it(llm, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", llm.url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "doc.md").write_text(
        "# Testing\n\nTesting finds bugs early. Teams that test ship faster.\n"
    )
    llm.queue(script_json(40), script_json(40))

    def run(**overrides):
        config = load_config(
            None, overrides={"minutes": 0.267, "output": tmp_path / "out", **overrides}, env={}
        )
        config = type(config)(
            **{**{f: getattr(config, f) for f in config.__slots__}, "order": ("ingest", "write")}
        )
        return make_episode(["doc.md"], config)

    run()
    second = run()
    assert len(llm.chats) == 1 and next(r for r in second.records if r.kind == "write").cached
    prompts = tmp_path / "prompts" / "write"
    prompts.mkdir(parents=True)
    (prompts / "system.en.md").write_text("You write podcast scripts for $host and $guest.")
    run(prompts_dir=tmp_path / "prompts")
    assert len(llm.chats) == 2 and llm.chats[1].body["messages"][0]["content"].startswith(
        "You write podcast scripts for Alex"
    )
