"""The cron and systemd examples, run the way cron and systemd run them."""

from __future__ import annotations

import configparser
import json
import subprocess

import pytest

from tests.conftest import EXAMPLES, console_script

CRON = EXAMPLES / "cron" / "podcast-gen.cron"
SERVICE = EXAMPLES / "cron" / "podcast-gen.service"


def _cron_command() -> str:
    """The crontab line's command (after the five time fields)."""
    line = next(line for line in CRON.read_text().splitlines() if line.strip() and not line.startswith("#"))
    return line.split(None, 5)[5]


@pytest.mark.slow
def test_the_cron_line_reaches_the_llm_writer(tmp_path, llm):
    """cron: a bare environment, /bin/sh, keys only in the env file."""
    home = tmp_path / "home"
    (home / ".config" / "podcast-gen").mkdir(parents=True)
    (home / "podcast-gen" / ".venv" / "bin").mkdir(parents=True)
    (home / "podcasts").mkdir()
    (home / ".config" / "podcast-gen" / "env").write_text(
        f"# keys for podcast-gen\nOPENAI_API_KEY=sk-test-cron-0123456789\nOPENAI_BASE_URL={llm.url}\n"
        "PODCAST_GEN_SYNTH=espeak\n"  # exported like the keys; a fast engine on any machine
    )
    (home / "podcast-gen" / ".venv" / "bin" / "podcast-gen").symlink_to(console_script()[0])
    (home / "podcast-gen" / "next-url").write_text(str(EXAMPLES / "solar-sails.md"))
    bare = {"PATH": "/usr/bin:/bin", "HOME": str(home)}
    proc = subprocess.run(["sh", "-c", _cron_command()], env=bare, capture_output=True, text=True, timeout=600)
    log = (home / "podcasts" / "runs.log").read_text()
    assert proc.returncode == 0, log
    runs = (home / "podcasts" / "runs.jsonl").read_text().splitlines()
    assert len(runs) == 1
    summary = json.loads(runs[0])
    assert summary["ok"] is True and summary["audio"].startswith(str(home / "podcasts"))
    write = next(s for s in summary["stages"] if s["kind"] == "write")
    assert write["name"] == "openai" and llm.chats, log
    assert not any("offline writer" in w for w in summary["warnings"])
    assert "\x1b" not in log and "✓ write.openai" in log
    assert "sk-test-cron" not in log + runs[0]


def test_the_cron_line_exports_the_env_file():
    command = _cron_command()
    assert "set -a" in command.split(". ")[0], "a plain `. env` does not export KEY=value lines"
    assert "--json" in command and "-o " in command


def test_the_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(SERVICE.read_text())
    assert "network-online.target" not in unit["Unit"].get("After", "")  # does nothing in a user unit
    service = unit["Service"]
    assert set(service["SuccessExitStatus"].split()) == {"3", "4"}  # what the comment promises
    start = service["ExecStart"].split()
    output = start[start.index("-o") + 1]
    assert output.startswith("%h/") and output == "%h/podcasts"  # never %h/podcasts/podcasts
    assert "--json" in start
