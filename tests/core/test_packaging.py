"""The distribution: one top-level import name, stages and prompts inside, example plugin installable."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, ROOT, clean_env, console_script


def _build_wheel(source: Path, out: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(source)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return next(out.glob("*.whl"))


@pytest.mark.slow
def test_wheel_contains_stages_and_prompts_under_podcast(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv*", "tests", "build", "*.egg-info", "__pycache__", "podcasts"))
    wheel = _build_wheel(source, tmp_path / "dist")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top_level == {"podcast"}
    for required in ("podcast/py.typed", "podcast/stages/__init__.py", "podcast/stages/synthesize/espeak.py",
                     "podcast/prompts/offline/en.toml", "podcast/prompts/offline/zh.toml", "podcast/cli/__init__.py"):
        assert required in names, required
    for package_dir in (ROOT / "stages").rglob("__init__.py"):
        assert "podcast/stages/" + package_dir.relative_to(ROOT / "stages").as_posix() in names
    prompt_files = [p.relative_to(ROOT / "prompts").as_posix() for p in (ROOT / "prompts").rglob("*") if p.suffix in {".md", ".toml"}]
    assert prompt_files and all(f"podcast/prompts/{f}" in names for f in prompt_files)
    metadata = next(n for n in names if n.endswith("entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "podcast-gen = podcast.cli:main" in entry_points


@pytest.mark.slow
def test_example_plugin_installs_and_runs(tmp_path, run_cli):
    plugin_src = tmp_path / "plugin-src"
    shutil.copytree(EXAMPLES / "plugin", plugin_src)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "--target", str(target), str(plugin_src)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    env = clean_env(PYTHONPATH=str(target))
    listing = json.loads(run_cli("plugins", "--json", env=env).stdout)
    signoff = [p for p in listing["plugins"] if p["name"] == "signoff"]
    assert signoff == [{"name": "signoff", "version": "0.1.0", "builtin": False, "hooks": ["register_stages"], "stages": ["signoff.station-id"]}]
    restricted = json.loads(run_cli("plugins", "--json", env={**env, "PODCAST_GEN_PLUGINS": ""}).stdout)
    assert not [p for p in restricted["plugins"] if p["name"] == "signoff"]

    proc = run_cli(str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", str(tmp_path / "out"), "--config", str(EXAMPLES / "podcast-signoff.toml"), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    # The custom stage ran after write: the normalized script and the transcript end with its line.
    normalized = (Path(summary["episode_dir"]) / "script.normalized.txt").read_text(encoding="utf-8").strip().splitlines()
    assert normalized[-1].startswith("[S1]You have been listening to Example")
    assert "You have been listening to Example" in Path(summary["files"]["vtt"]).read_text(encoding="utf-8").strip().split("\n\n")[-1]
    assert [s["kind"] for s in summary["stages"]] == ["ingest", "write", "signoff", "normalize", "synthesize", "master"]
    assert Path(summary["audio"]).stat().st_size > 10_000
    # Without the plugin the same config is refused before anything runs.
    # (CI also installs the example plugin into the test environment: block it here.)
    without = clean_env(PODCAST_GEN_DISABLE_PLUGINS="signoff")
    refused = run_cli(str(EXAMPLES / "solar-sails.md"), "-o", str(tmp_path / "out2"), "--config", str(EXAMPLES / "podcast-signoff.toml"), env=without)
    assert refused.returncode == 2 and "signoff" in refused.stderr
    assert not (tmp_path / "out2").exists()


def test_console_script_is_installed():
    assert Path(console_script()[0]).name in {"podcast-gen", Path(sys.executable).name}
