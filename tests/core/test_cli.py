"""The command-line contract: default command, --json, one-line errors, exit codes, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys

from podcast.errors import EXIT_INPUT, EXIT_USAGE
from tests.conftest import EXAMPLES, assert_one_line_error, clean_env

HEAVY = ("torch", "transformers", "numpy", "trafilatura", "openai", "pypdf", "soundfile", "pedalboard", "lxml")


def test_help_lists_commands_and_imports_nothing_heavy():
    code = (
        "import sys\nfrom podcast.cli import main\n"
        "rc = main(['--help'])\n"
        f"print('HEAVY=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))\n"
        "sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY=\n" in proc.stdout or proc.stdout.rstrip().endswith("HEAVY=")
    for command in ("make", "ingest", "plugins", "stages"):
        assert command in proc.stdout


def test_version(run_cli):
    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("podcast-gen ")


def test_plugins_json_lists_builtin_stages(run_cli):
    proc = run_cli("plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    stages = {s for p in payload["plugins"] if p["builtin"] for s in p["stages"]}
    assert {"write.offline", "synthesize.espeak"} <= stages
    assert not {"write.auto", "synthesize.auto"} & stages  # auto is the selection policy, not a stage
    assert all(p["version"] and p["hooks"] for p in payload["plugins"])


def test_stages_json_documents_options(run_cli):
    payload = json.loads(run_cli("stages", "--json").stdout)
    espeak = next(s for s in payload["stages"] if (s["kind"], s["name"]) == ("synthesize", "espeak"))
    assert {o["name"]: o["default"] for o in espeak["options"]}["rate"] == 165
    assert all(o["help"] for s in payload["stages"] for o in s["options"])


def test_usage_errors_are_one_line_with_exit_2(run_cli, tmp_path):
    doc = str(EXAMPLES / "solar-sails.md")
    assert_one_line_error(run_cli(doc, "--synth", "nope", "-o", str(tmp_path / "o")), EXIT_USAGE, "unknown synthesize implementation 'nope'", "espeak")
    assert_one_line_error(run_cli(doc, "--set", "synthesize.espeak.rate=fast"), EXIT_USAGE, "bad value for stages.synthesize.espeak.rate")
    assert_one_line_error(run_cli(doc, "--bogus-flag"), EXIT_USAGE, "no such option")
    assert_one_line_error(run_cli(doc, "-l", "fr"), EXIT_USAGE, "unsupported language")
    assert not (tmp_path / "o").exists()


def test_bad_input_is_one_line_with_exit_3(run_cli, tmp_path):
    assert_one_line_error(run_cli(str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o")), EXIT_INPUT, "missing.txt")
    assert not (tmp_path / "o").exists()


def test_debug_shows_the_traceback(run_cli, tmp_path):
    proc = run_cli(str(tmp_path / "missing.txt"), "--debug")
    assert proc.returncode == EXIT_INPUT and "Traceback" in proc.stderr


def test_json_on_failure_prints_one_object(run_cli, tmp_path):
    doc = str(EXAMPLES / "solar-sails.md")
    for args, code, fragment in [
        ((str(tmp_path / "missing.txt"),), EXIT_INPUT, "missing.txt"),
        ((doc, "--synth", "nope"), EXIT_USAGE, "unknown synthesize implementation"),
        ((doc, "--bogus-flag"), EXIT_USAGE, "no such option"),
        (("synth", str(tmp_path / "missing.txt"), "-o", "x.wav"), EXIT_INPUT, "no such script file"),
    ]:
        proc = run_cli(*args, "--json", "-o", str(tmp_path / "o"))
        assert proc.returncode == code, proc.stderr
        lines = proc.stdout.splitlines()
        assert len(lines) == 1, proc.stdout
        payload = json.loads(lines[0])
        assert payload["ok"] is False and payload["exit_code"] == code, payload
        assert fragment.lower() in payload["error"].lower() and payload["error"] in proc.stderr
        assert len(proc.stderr.splitlines()) == 1


def test_warnings_are_told_once_on_stderr_and_kept_in_json(run_cli, tmp_path):
    proc = run_cli(str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", "out", "--until", "write", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True
    told = [line.removeprefix("warning: ") for line in proc.stderr.splitlines() if line.startswith("warning: ")]
    assert told and told == summary["warnings"]
    assert any(w.startswith("writer: no LLM key") and "offline writer" in w for w in told)
