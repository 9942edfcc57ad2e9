"""The real console script against the local OpenAI-compatible server (acceptance paths)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import assert_one_line_error, clean_env

from .llm_cooperative import cooperative
from .llm_server import Reply
from .write_helpers import KEY

MOSS = (
    "[S1]Welcome back, today we read about testing.[S2]Thanks, it is a topic I love."
    "[S1]So why do teams test?[S2]Because bugs found early are cheap to fix.[S1]Right.[S2]And the team ships faster."
)
FAST = [
    "--set",
    "write.openai.backoff=0.01",
    "--set",
    "write.openai.retries=2",
    "--set",
    "write.openai.timeout=5",
]
DOC = "# Testing software\n\nTesting finds bugs early. Teams that test ship faster. Small tests come first.\n"


def _env(llm, **extra: str) -> dict[str, str]:
    return clean_env(OPENAI_BASE_URL=llm.url, OPENAI_API_KEY=KEY, **extra)


def _source(tmp_path: Path, full: bool = False) -> Path:
    """The document; unless ``full``, a podcast.toml that stops the pipeline after writing
    (building the synthesizer stages costs seconds these tests do not need)."""
    if not full:
        (tmp_path / "podcast.toml").write_text('[pipeline]\nstages = ["ingest", "write"]\n')
    path = tmp_path / "doc.md"
    path.write_text(DOC)
    return path


def _episode(tmp_path: Path) -> tuple[Path, dict]:
    folder = next((tmp_path / "podcasts").iterdir())
    return folder, json.loads((folder / "episode.json").read_text())["episode"]


def _assert_no_key(tmp_path: Path, *streams: str) -> None:
    for path in (tmp_path / "podcasts").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    assert all(KEY not in s for s in streams)


def test_main_command_with_moss_form_answer(run_cli, llm, tmp_path):
    llm.queue(MOSS)
    proc = run_cli(
        str(_source(tmp_path, full=True)), "--minutes", "0.22", "--json", *FAST, env=_env(llm)
    )
    assert proc.returncode == 0, proc.stderr
    folder, episode = _episode(tmp_path)
    lines = (folder / "script.txt").read_text().splitlines()
    assert [line[:4] for line in lines if line.startswith("[")] == ["[S1]", "[S2]"] * 3
    assert "[S2]Because bugs found early are cheap to fix." in lines
    write = next(r for r in episode["records"] if r["kind"] == "write")
    assert write["name"] == "openai" and write["details"]["calls"] == 1
    assert json.loads(proc.stdout)["audio"].endswith(".mp3")
    _assert_no_key(tmp_path, proc.stdout, proc.stderr)


def test_two_429s_then_success_exits_0(run_cli, llm, tmp_path):
    limited = Reply(status=429, headers={"Retry-After": "0.2"})
    llm.queue(limited, limited, MOSS)
    proc = run_cli(str(_source(tmp_path)), "--minutes", "0.22", *FAST, env=_env(llm))
    assert proc.returncode == 0, proc.stderr
    assert len(llm.chats) == 3
    _, episode = _episode(tmp_path)
    assert next(r for r in episode["records"] if r["kind"] == "write")["details"]["retries"] == 2


def test_server_down_is_an_upstream_error(run_cli, llm, tmp_path):
    url = llm.url
    llm.stop()
    env = clean_env(OPENAI_BASE_URL=url, OPENAI_API_KEY=KEY)
    proc = run_cli(str(_source(tmp_path)), *FAST, env=env)
    assert_one_line_error(proc, 4, "cannot connect")
    _assert_no_key(tmp_path, proc.stdout, proc.stderr)


def test_key_echoed_by_the_server_is_redacted(run_cli, llm, tmp_path):
    llm.queue(Reply(status=401, error=f"Incorrect API key provided: {KEY}"))
    proc = run_cli(str(_source(tmp_path)), *FAST, env=_env(llm))
    assert_one_line_error(proc, 4, "HTTP 401", "OPENAI_API_KEY")
    _assert_no_key(tmp_path, proc.stdout, proc.stderr)


def test_minutes_are_honoured_on_a_cooperative_server(run_cli, llm, tmp_path):
    llm.responder = cooperative
    proc = run_cli(str(_source(tmp_path)), "--minutes", "3", *FAST, env=_env(llm))
    assert proc.returncode == 0, proc.stderr
    folder, episode = _episode(tmp_path)
    words = sum(
        len(line[4:].split())
        for line in (folder / "script.txt").read_text().splitlines()
        if line.startswith("[S")
    )
    assert abs(words - 450) <= 90
    details = next(r for r in episode["records"] if r["kind"] == "write")["details"]
    assert details["units"] == words and details["target_units"] == 450


def test_script_command_then_edited_script_as_source(run_cli, llm, tmp_path):
    llm.queue(MOSS)
    out = tmp_path / "episode.script.txt"
    proc = run_cli(
        "script", str(_source(tmp_path)), "-o", str(out), "--minutes", "0.22", *FAST, env=_env(llm)
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().count("[S") == 6
    out.write_text(out.read_text().replace("Right.", "Right, that makes sense."))
    proc = run_cli(str(out), env=_env(llm))
    assert proc.returncode == 0, proc.stderr
    assert len(llm.chats) == 1  # the script file skipped the writer
    script = next(
        p for p in (tmp_path / "podcasts").rglob("script.txt") if "Right, that" in p.read_text()
    )
    assert "[S1]Right, that makes sense." in script.read_text()


def test_auto_without_key_falls_back_to_offline_with_recorded_warning(run_cli, tmp_path):
    proc = run_cli(str(_source(tmp_path)), "--json", env=clean_env())
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert any("using the offline writer" in w for w in summary["warnings"])
    _, episode = _episode(tmp_path)
    assert any("offline writer" in w for w in episode["warnings"])
    assert next(r for r in episode["records"] if r["kind"] == "write")["name"] == "offline"


def test_explicit_writer_without_key_is_refused_before_ingest(run_cli, tmp_path):
    proc = run_cli(str(_source(tmp_path)), "--writer", "openai", env=clean_env())
    assert_one_line_error(proc, 2, "writer openai needs OPENAI_API_KEY")
    assert not (tmp_path / "podcasts").exists()
    gemini = run_cli(str(_source(tmp_path)), "--writer", "gemini", env=clean_env())
    assert_one_line_error(gemini, 2, "GEMINI_API_KEY")
