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


def test_synth_leaves_nothing_but_its_output_behind(tmp_path, run_cli):
    from tests.conftest import clean_env

    work = tmp_path / "here"
    work.mkdir()
    (work / "talk.txt").write_text("[S1]Hello there.\n[S2]Hi, nice to meet you.\n", encoding="utf-8")
    env = clean_env(PODCAST_GEN_CACHE=str(tmp_path / "cache"))
    proc = run_cli("synth", "talk.txt", "-o", "talk.wav", "--synth", "espeak", "--json", cwd=work, env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in work.iterdir()) == ["talk.txt", "talk.wav"]
    assert Path(json.loads(proc.stdout)["episode_dir"]).parent == tmp_path / "cache" / "synth"
