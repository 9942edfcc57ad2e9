"""``podcast-gen normalize`` through the real console entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = Path(sys.executable).with_name("podcast-gen")
pytestmark = pytest.mark.skipif(
    not ENTRY.exists(), reason="console script podcast-gen is not installed"
)


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ENTRY), "normalize", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_jsonl_round_trip_keeps_order_and_unicode() -> None:
    rows = [
        {"text": "[S1]我有2个苹果", "id": 1},
        {"text": "[S1]Meet at 10:30[S2]OK [3]", "id": 2},
        {"text": "", "id": 3},
    ]
    stdin = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n"
    result = cli("--jsonl", "-l", "zh", "-", stdin=stdin)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "我有" in lines[0]  # ensure_ascii=False
    out = [json.loads(line) for line in lines]
    assert [o["id"] for o in out] == [1, 2, 3]
    assert [o["text"] for o in out] == [r["text"] for r in rows]
    assert out[0]["normalized"] == "[S1]我有两个苹果。"
    assert out[1]["normalized"] == "[S1]Meet at ten thirty.[S2]OK three."
    assert out[2]["normalized"] == ""


def test_reference_profile_on_a_file(tmp_path: Path) -> None:
    script = tmp_path / "script.txt"
    script.write_text("[S1]Hello. [S1]World.[S2]Year [2021]", encoding="utf-8")
    result = cli("--profile", "moss-v0.7", str(script))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[S1]Hello.World.[S2]Year[S2021]\n"


def test_lexicon_flag(tmp_path: Path) -> None:
    lexicon = tmp_path / "lex.toml"
    lexicon.write_text('[en]\n"SQL" = "sequel"\n', encoding="utf-8")
    result = cli("--lexicon", str(lexicon), "-", stdin="[S1]I like SQL")
    assert result.stdout == "[S1]I like sequel.\n"


def test_unknown_profile_is_a_usage_error() -> None:
    result = cli("--profile", "nope", "-", stdin="[S1]x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "moss-v0.7" in lines[0] and "podcast" in lines[0]


def test_bad_jsonl_line_is_an_input_error() -> None:
    result = cli("--jsonl", "-", stdin='{"text": "ok"}\nnot json\n')
    assert result.returncode == 3
    assert "line 2" in result.stderr
    assert json.loads(result.stdout.splitlines()[0])["normalized"] == "ok."


SLIPS_SCRIPT = """# Slips

## Money
[S1] 价格是¥1,250元，打折后￥30元。
[S2] It costs $5 dollars, or ¥1,250元 in Beijing.
## Web and names
[S1] Visit https://example.org/a/b/1?x=2#top or mail john.doe@example.org.
[S2] 我们聊一下GPT-4o和iPhone 15，IKAROS和NASA，还有NHK。
"""
SLIPS_NORMALIZED = """# Slips
## Money
[S1]价格是一千二百五十元，打折后三十元。
[S2]It costs five dollars, or one thousand two hundred fifty yuan in Beijing.
## Web and names
[S1]Visit example dot org or mail john dot doe at example dot org.
[S2]我们聊一下G P T four o和iPhone fifteen，IKAROS和NASA，还有N H K。
"""


def test_script_file_on_a_terminal(tmp_path: Path) -> None:
    """Issue 10 item 13's slips, through the command on a pseudo-terminal, per turn."""
    import os
    import pty

    script = tmp_path / "script.txt"
    script.write_text(SLIPS_SCRIPT, encoding="utf-8")
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(ENTRY), "normalize", "-l", "zh", str(script)],
            stdin=follower, stdout=follower, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the command exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert proc.wait(timeout=60) == 0
    finally:
        os.close(leader)
    screen = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    assert screen == SLIPS_NORMALIZED
