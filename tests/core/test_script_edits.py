"""Voices are not writer input, and a hand edit of script.txt is never lost (real CLI runs)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "examples" / "solar-sails.md"
EDIT = "[S1]This line was written by hand."


def _run(run_cli, out: Path, *extra: str):
    proc = run_cli(str(DOC), "-l", "en", "-o", str(out), "--until", "synthesize", "--json", *extra)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    return summary, {s["kind"]: s for s in summary["stages"]}, proc.stderr


def test_another_voice_resynthesizes_without_rewriting_and_edits_survive(tmp_path, run_cli):
    out = tmp_path / "out"
    summary, _, _ = _run(run_cli, out)
    script = Path(summary["script"])
    script.write_text(script.read_text(encoding="utf-8") + EDIT + "\n", encoding="utf-8")

    _, stages, _ = _run(run_cli, out, "--voice", "S1=en-us")
    assert stages["write"]["cached"] is True
    assert stages["synthesize"]["cached"] is False and stages["synthesize"]["details"]["synthesized"] >= 1
    assert script.read_text(encoding="utf-8").endswith(EDIT + "\n")

    _, stages, _ = _run(run_cli, out, "--voice", "S1=en-us")
    assert stages["synthesize"]["cached"] is True  # same voice again: nothing to do


def test_a_writer_rerun_keeps_the_edit_unless_rewrite(tmp_path, run_cli):
    out = tmp_path / "out"
    summary, _, _ = _run(run_cli, out)
    script = Path(summary["script"])
    edited = script.read_text(encoding="utf-8") + EDIT + "\n"
    script.write_text(edited, encoding="utf-8")

    summary, stages, _ = _run(run_cli, out, "--minutes", "3")
    assert script.read_text(encoding="utf-8") == edited
    assert any("kept your edited" in w and "--rewrite" in w for w in summary["warnings"])
    normalized = (script.parent / "script.normalized.txt").read_text(encoding="utf-8")
    assert "written by hand" in normalized

    summary, stages, _ = _run(run_cli, out, "--minutes", "3", "--rewrite")
    assert stages["write"]["cached"] is False
    assert (script.parent / "script.1.txt").read_text(encoding="utf-8") == edited
    assert EDIT not in script.read_text(encoding="utf-8")
    assert any("script.1.txt" in w for w in summary["warnings"])

    summary, stages, _ = _run(run_cli, out, "--minutes", "3")
    assert stages["write"]["cached"] is True and not any("kept your edited" in w for w in summary["warnings"])
