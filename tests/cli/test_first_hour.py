"""What a new user meets in the first hour: the episode length, languages and their folders."""

from __future__ import annotations

import json

import pytest

from podcast.errors import EXIT_USAGE
from tests.conftest import EXAMPLES, clean_env

SAILS = str(EXAMPLES / "solar-sails.md")


def _write(run_cli, *args: str, env=None):
    proc = run_cli(*args, "-o", "out", "--until", "write", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    write = next(s for s in summary["stages"] if s["kind"] == "write")
    return proc, summary, write["details"]


def test_length_follows_a_short_source_and_is_said_before_synthesis(run_cli):
    proc, summary, details = _write(run_cli, SAILS, "-l", "en")
    assert details["minutes_from"] == "source" and 2 <= details["target_minutes"] < 8
    assert 0.8 <= details["length_ratio"] <= 1.2, details
    assert not [w for w in summary["warnings"] if w.startswith("write: the script is")]
    line = next(line for line in proc.stderr.splitlines() if line.startswith("✓ write."))
    assert line.endswith(f": about {details['estimated_minutes']:.1f} min in {details['turns']} turns")


def test_an_explicit_length_the_source_cannot_fill_is_told(run_cli):
    proc, summary, details = _write(run_cli, SAILS, "-l", "en", "--minutes", "8")
    assert details["minutes_from"] == "--minutes" and details["target_minutes"] == 8
    miss = [w for w in summary["warnings"] if w.startswith("write: the script is")]
    assert len(miss) == 1 and "of the 8 min asked" in miss[0] and "the source has about" in miss[0]
    assert f"warning: {miss[0]}" in proc.stderr.splitlines()


def test_the_offline_writer_refuses_to_translate(run_cli):
    proc = run_cli(SAILS, "-l", "zh", "-o", "out", "--json")
    assert proc.returncode == EXIT_USAGE, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if not line.startswith(("✓ ", "warning: "))]
    assert len(errors) == 1 and "Traceback" not in proc.stderr
    for fragment in ("source is in English", "asked in Chinese", "offline writer cannot translate", "--writer openai"):
        assert fragment in errors[0]
    assert json.loads(proc.stdout)["exit_code"] == EXIT_USAGE


def test_each_language_gets_its_own_folder(run_cli, llm, tmp_path):
    env = clean_env(OPENAI_API_KEY="sk-test-0123456789", OPENAI_BASE_URL=llm.url)
    _, english, _ = _write(run_cli, SAILS, "-l", "en", env=env)
    before = (tmp_path / english["script"]).read_text(encoding="utf-8")
    _, chinese, details = _write(run_cli, SAILS, "-l", "zh", env=env)
    assert english["episode_dir"] != chinese["episode_dir"]
    assert english["episode_dir"].endswith("-en") and chinese["episode_dir"].endswith("-zh")
    assert (tmp_path / english["script"]).read_text(encoding="utf-8") == before
    assert chinese["language"] == "zh" and details["unit"] == "characters"
    assert "write: the source is in English; the openai writer translates it into Chinese" in chinese["warnings"]


def test_normalize_a_script_file_turn_by_turn_keeping_its_structure(run_cli, tmp_path):
    (tmp_path / "s.txt").write_text(
        "# Solar sails\n## The idea\n[S1]In 2010 the sail flew at 3.5 km per second.\n[S2]Really? At 10:30?\n"
        "## Next\n[S1]It cost $3.50.\n",
        encoding="utf-8",
    )
    proc = run_cli("normalize", "s.txt")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "# Solar sails",
        "## The idea",
        "[S1]In twenty ten the sail flew at three point five kilometers per second.",
        "[S2]Really? At ten thirty?",
        "## Next",
        "[S1]It cost three dollars fifty.",
    ]


def test_ingest_markdown_feeds_back_in(run_cli, tmp_path):
    first = run_cli("ingest", SAILS, "--json")
    markdown = run_cli("ingest", SAILS)
    assert markdown.returncode == 0, markdown.stderr
    assert "\n## The idea\n" in markdown.stdout and markdown.stdout.startswith("# Sailing on Sunlight")
    (tmp_path / "again.md").write_text(markdown.stdout, encoding="utf-8")
    again = run_cli("ingest", "again.md", "--json")
    before, after = json.loads(first.stdout), json.loads(again.stdout)
    assert after["title"] == before["title"] and after["sections"] == before["sections"]
