"""Every example config loads and runs up to the writer (and any custom stage right after it)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, clean_env

CONFIGS = sorted(EXAMPLES.glob("*.toml"))
BUILTIN_KINDS = {"ingest", "write", "normalize", "synthesize", "master"}


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory) -> Path:
    """``examples/plugin`` installed into a folder of its own (put on PYTHONPATH)."""
    root = tmp_path_factory.mktemp("example-plugin")
    shutil.copytree(EXAMPLES / "plugin", root / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-q", "--target", str(root / "site"), str(root / "src")],
        check=True, capture_output=True, text=True, timeout=300,
    )
    return root / "site"


def test_there_are_example_configs():
    assert {p.name for p in CONFIGS} >= {"podcast.toml", "podcast-signoff.toml"}


@pytest.mark.parametrize("config", CONFIGS, ids=[p.name for p in CONFIGS])
def test_example_config_runs_up_to_the_writer(config, run_cli, tmp_path, request):
    order = tomllib.loads(config.read_text(encoding="utf-8")).get("pipeline", {}).get("stages", [])
    custom = [kind for kind in order if kind.partition(":")[0] not in BUILTIN_KINDS]
    env = clean_env(PYTHONPATH=str(request.getfixturevalue("example_plugin"))) if custom else clean_env()
    # up to the writer and whatever custom stages follow it before normalize
    until = order[order.index("normalize") - 1] if "normalize" in order else "write"
    proc = run_cli(str(EXAMPLES / "solar-sails.md"), "--config", str(config), "-o", "out", "--until", until, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    kinds = [s["kind"] for s in summary["stages"]]
    assert kinds[:2] == ["ingest", "write"] and kinds[-1] == until.partition(":")[0]
    assert summary["turns"] > 4 and (tmp_path / summary["script"]).is_file()
