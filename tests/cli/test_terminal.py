"""Every command on a real terminal (a pty read back through a VT100 emulator), and the
plain lines the same runs write to a log file."""

from __future__ import annotations

import re

import pytest

from tests.cli.terminal import run_in_terminal
from tests.conftest import EXAMPLES

STAGES = ("ingest.text", "write.offline", "normalize.standard", "synthesize.espeak", "master.standard")
TWO_TURNS = "[S1]Solar sails ride on light.\n[S2]No fuel at all?\n[S1]Nothing but sunlight and time.\n"
# the display does not depend on the engine; espeak keeps these runs short on any machine
ESPEAK = ("--synth", "espeak")
DONE = r"✓ \S+ \(\d+\.\d s\)(: about \d+\.\d min in \d+ turns)?"
LEFTOVERS = ("None", "internal error", "Traceback", "━")  # "━": a progress bar left on the screen


def _clean(screen: str) -> None:
    for leftover in LEFTOVERS:
        assert leftover not in screen, screen


@pytest.mark.slow
def test_the_main_job_on_a_terminal(tmp_path):
    """The README's main job: progress while it runs, a clean screen of results after."""
    run = run_in_terminal(str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", "out", *ESPEAK, cwd=tmp_path)
    assert run.returncode == 0, run.screen
    _clean(run.screen)
    assert not run.cursor_hidden
    done = [row for row in run.rows if row.startswith("✓ ")]
    assert [row.split()[1] for row in done] == list(STAGES), run.screen
    assert all(re.fullmatch(DONE, row) for row in done), done
    assert re.search(r"^✓ write\.offline \(.*\): about \d+\.\d min in \d+ turns$", run.screen, re.M)
    assert any(row.startswith("warning: writer: no LLM key") for row in run.rows), run.screen
    assert run.rows[-1].endswith("episode.mp3") and (tmp_path / run.rows[-1]).is_file()
    # while it ran: a spinner, synthesis turns done/total with an ETA, the mastering steps
    frames = run.raw.replace("\r", "\n")
    assert re.search(r"[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", frames)
    assert re.search(r"synthesize\.espeak turns\b.*\b\d+/\d+\b", frames)
    assert "ETA " in frames
    for step in ("joining clips", "leveling speakers", "encoding and verifying mp3", "writing transcripts"):
        assert f"master.standard {step}" in frames
    assert "0/None" not in frames and "/None" not in frames

    again = run_in_terminal(str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", "out", *ESPEAK, cwd=tmp_path)
    assert again.returncode == 0 and again.rows[-1] == run.rows[-1]
    assert [r.split(":")[0] for r in again.rows if r.startswith("✓ ")][1:] == [f"✓ {s} (reused)" for s in STAGES[1:]]


@pytest.mark.slow
def test_script_synth_and_master_on_a_terminal(tmp_path):
    (tmp_path / "talk.txt").write_text(TWO_TURNS, encoding="utf-8")
    written = run_in_terminal("script", str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", "s.txt", cwd=tmp_path)
    assert written.returncode == 0, written.screen
    _clean(written.screen)
    assert [r.split()[1] for r in written.rows if r.startswith("✓ ")] == ["ingest.text", "write.offline"]
    assert written.rows[-1] == "s.txt" and "\n[S1]" in (tmp_path / "s.txt").read_text()

    synth = run_in_terminal("synth", "talk.txt", "--synth", "espeak", "-o", "talk.wav", cwd=tmp_path)
    assert synth.returncode == 0, synth.screen
    _clean(synth.screen)
    assert "✓ synthesize.espeak" in synth.screen and synth.rows[-1] == "talk.wav"
    assert re.search(r"synthesize\.espeak turns\b.*\b\d/3\b", synth.raw)

    mastered = run_in_terminal("master", "talk.wav", "-o", "talk.mp3", cwd=tmp_path)
    assert mastered.returncode == 0, mastered.screen
    _clean(mastered.screen)
    assert re.fullmatch(r"talk\.mp3: -?\d+(\.\d+)? LUFS, .* dBTP, LRA .* LU, \d+\.\d s", mastered.rows[-1]), mastered.screen


def test_listing_commands_on_a_terminal(tmp_path):
    (tmp_path / "talk.txt").write_text(TWO_TURNS, encoding="utf-8")
    for args, expect in [
        (("plugins",), "podcast.stages.write 0.1.0 (built-in)"),
        (("stages",), "synthesize.espeak"),
        (("stages", "--options"), "rate (whole number, default 165)"),
        (("ingest", str(EXAMPLES / "solar-sails.md")), "# Sailing on sunlight"),
        (("normalize", "talk.txt"), "[S1]Solar sails ride on light."),
        (("--help",), "Usage: podcast-gen"),
        (("make", "--help"), "--debug"),
    ]:
        run = run_in_terminal(*args, cwd=tmp_path, timeout=120)
        assert run.returncode == 0, (args, run.screen)
        _clean(run.screen)
        assert expect.lower() in run.screen.lower(), (args, run.screen)


@pytest.mark.slow
def test_log_files_get_one_plain_line_per_stage(run_cli, tmp_path):
    """Not a terminal (cron, a pipe): no escape codes, no padding, one line per stage."""
    proc = run_cli(str(EXAMPLES / "solar-sails.md"), "-l", "en", "-o", "out", *ESPEAK)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert "\x1b" not in proc.stderr and all(line == line.rstrip() for line in lines)
    assert [line.split()[1] for line in lines if line.startswith("✓ ")] == list(STAGES)
    assert all(re.fullmatch(DONE, line) or line.startswith(("warning: ", "  voices: ")) for line in lines), lines
