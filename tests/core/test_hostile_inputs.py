"""The whole class of user-input errors, fed to the installed console script.

Every case is a real process: hostile files (FIFO, device, huge, binary, truncated PDF, BOM-less
UTF-16), bad options, bad voices, an output path that is a file, hostile HTTP servers and LLM
answers.  Each must end with the README's exit code and one line on stderr — never exit 1,
never a traceback, never a hang (every case has a time limit).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from podcast.errors import EXIT_INPUT, EXIT_OUTPUT, EXIT_UPSTREAM, EXIT_USAGE
from tests.conftest import EXAMPLES, clean_env, console_script
from tests.ingest.ingest_helpers import short_body_route, trickle_route
from tests.write.llm_server import LLMServer, Reply

ARTICLE = (EXAMPLES / "solar-sails.md").read_text(encoding="utf-8")
PAGE = f"<html><head><title>Sails</title></head><body><article><p>{ARTICLE[:3000]}</p></article></body></html>"
SCRIPT3 = "[S1]Hello and welcome.[S2]Thanks for having me.[S3]And I am the third voice here.[S1]Great, let us begin."
WAIT = 90  # seconds any one case may take; a hang fails the case instead of the session


@dataclass(frozen=True)
class Case:
    """One hostile run: ``args`` and ``env`` (``{dir}``, ``{url}``, ``{llm_…}`` filled in) and the exit code due."""

    name: str
    args: tuple[str, ...]
    code: int
    env: tuple[tuple[str, str], ...] = ()
    stdin: bytes | None = None


def _files(folder: Path) -> None:
    (folder / "article.md").write_text(ARTICLE, encoding="utf-8")
    os.mkfifo(folder / "pipe.md")
    (folder / "big.txt").write_bytes(b"many words " * 200)
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "empty.txt").write_bytes(b"")
    (folder / "folder").mkdir()
    (folder / "broken.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a PDF body")
    (folder / "utf16.txt").write_bytes(("Sails\n\n" + ARTICLE.split("\n\n", 2)[2][:2000]).encode("utf-16-le"))
    (folder / "three.script.txt").write_text(SCRIPT3, encoding="utf-8")
    (folder / "not-audio.wav").write_text("this is not audio", encoding="utf-8")
    (folder / "taken").write_text("a file where the output folder should go", encoding="utf-8")
    (folder / "bad.toml").write_text("[pipeline\nminutes = 3", encoding="utf-8")
    (folder / "unknown.toml").write_text("[stages.ingest.url]\nno_such_option = 1\n", encoding="utf-8")


SRC = ("{dir}/article.md", "-l", "en")
PRIVATE = ("--allow-private-urls", "-l", "en")
LLM = ("--writer", "openai", "--set", "write.openai.retries=0", "--set", "write.openai.timeout=5")
CASES = [
    # sources
    Case("fifo", ("{dir}/pipe.md", "-l", "en"), EXIT_INPUT),
    Case("char device", ("/dev/zero", "-l", "en"), EXIT_INPUT),
    Case("directory", ("{dir}/folder", "-l", "en"), EXIT_INPUT),
    Case("missing file", ("{dir}/nope.md", "-l", "en"), EXIT_INPUT),
    Case("binary", ("{dir}/binary.txt", "-l", "en"), EXIT_INPUT),
    Case("empty", ("{dir}/empty.txt", "-l", "en"), EXIT_INPUT),
    Case("empty stdin", ("-", "-l", "en"), EXIT_INPUT, stdin=b""),
    Case("broken pdf", ("{dir}/broken.pdf", "-l", "en"), EXIT_INPUT),
    Case("over the size limit", ("{dir}/big.txt", "-l", "en", "--set", "ingest.text.max_bytes=1000"), EXIT_INPUT),
    Case("stdin over the limit", ("-", "-l", "en", "--set", "ingest.text.max_bytes=10"), EXIT_INPUT, stdin=b"x" * 100),
    # options
    Case("minutes 0", (*SRC, "--minutes", "0"), EXIT_USAGE),
    Case("minutes 1e9", (*SRC, "--minutes", "1e9"), EXIT_USAGE),
    Case("minutes nan", (*SRC, "--minutes", "nan"), EXIT_USAGE),
    Case("minutes inf", (*SRC, "--minutes", "inf"), EXIT_USAGE),
    Case("minutes negative", (*SRC, "--minutes=-2"), EXIT_USAGE),
    Case("minutes text", (*SRC, "--minutes", "ten"), EXIT_USAGE),
    Case("lock timeout nan", (*SRC, "--lock-timeout", "nan"), EXIT_USAGE),
    Case("until unknown", (*SRC, "--until", "publish"), EXIT_USAGE),
    Case("language", ("{dir}/article.md", "-l", "xx"), EXIT_USAGE),
    Case("option nan", (*SRC, "--set", "ingest.text.max_bytes=nan"), EXIT_USAGE),
    Case("option inf", (*SRC, "--set", "ingest.url.timeout=inf"), EXIT_USAGE),
    Case("option unknown", (*SRC, "--set", "ingest.text.nope=1"), EXIT_USAGE),
    Case("option shape", (*SRC, "--set", "nonsense"), EXIT_USAGE),
    Case("stage unknown", (*SRC, "--synth", "no-such-engine"), EXIT_USAGE),
    Case("config missing", (*SRC, "--config", "{dir}/nope.toml"), EXIT_USAGE),
    Case("config not toml", (*SRC, "--config", "{dir}/bad.toml"), EXIT_USAGE),
    Case("config unknown option", (*SRC, "--config", "{dir}/unknown.toml"), EXIT_USAGE),
    # voices (checked before any stage)
    Case("voice for a missing speaker", (*SRC, "--voice", "S3=en-us"), EXIT_USAGE),
    Case("voice shape", (*SRC, "--voice", "S1"), EXIT_USAGE),
    Case("voice speaker name", (*SRC, "--voice", "Alex=en-us"), EXIT_USAGE),
    Case("voice file missing", (*SRC, "--voice", "S1={dir}/nope.wav:words"), EXIT_INPUT),
    Case("voice not audio", (*SRC, "--voice", "S1={dir}/not-audio.wav:words"), EXIT_INPUT),
    # output
    Case("output is a file", (*SRC, "-o", "{dir}/taken"), EXIT_OUTPUT),
    Case("output below a file", (*SRC, "-o", "{dir}/taken/sub"), EXIT_OUTPUT),
    # hostile servers
    Case("trickling server", ("{url}/trickle", *PRIVATE, "--set", "ingest.url.timeout=2"), EXIT_UPSTREAM),
    Case("truncated body", ("{url}/short", *PRIVATE), EXIT_UPSTREAM),
    Case("http 404", ("{url}/missing", *PRIVATE), EXIT_UPSTREAM),
    Case("private address", ("{url}/page", "-l", "en"), EXIT_INPUT),
    Case("file scheme", ("file:///etc/passwd", "-l", "en"), EXIT_INPUT),
    Case("llm html", (*SRC, *LLM), EXIT_UPSTREAM, (("OPENAI_BASE_URL", "{llm_html}"),)),
    Case("llm malformed json", (*SRC, *LLM), EXIT_UPSTREAM, (("OPENAI_BASE_URL", "{llm_json}"),)),
    Case("llm runaway", (*SRC, *LLM, "--minutes", "1"), EXIT_UPSTREAM, (("OPENAI_BASE_URL", "{llm_long}"),)),
    # accepted, and stopping where asked
    Case("utf-16 without a bom", ("{dir}/utf16.txt", "-l", "en", "--until", "write"), 0),
    Case("script speaker voice", ("{dir}/three.script.txt", "--voice", "S3=en-us", "--until", "normalize"), 0),
    Case("until ingest", (*SRC, "--until", "ingest", "-o", "{dir}/ingest-only"), 0),
]


@pytest.fixture(scope="module")
def servers(http_server) -> Iterator[dict[str, str]]:
    http_server.routes["/trickle"] = trickle_route(PAGE.encode(), 0.2)
    body = PAGE.encode()
    http_server.routes["/short"] = short_body_route(body[: len(body) // 3], len(body))
    http_server.add("/page", body=body, content_type="text/html; charset=utf-8")
    llms = {name: LLMServer().start() for name in ("html", "json", "long")}
    llms["html"].responder = lambda seen: Reply(raw=b"<html><body>Bad Gateway</body></html>")
    llms["json"].responder = lambda seen: Reply(raw=b'{"choices": [', raw_type="application/json")
    llms["long"].responder = lambda seen: Reply(_long_script(2000))
    yield {"url": http_server.url(""), **{f"llm_{name}": server.url for name, server in llms.items()}}
    for server in llms.values():
        server.stop()


def _long_script(words: int) -> str:
    import json

    line = "word " * 50
    turns = [{"speaker": f"S{1 + i % 2}", "text": line} for i in range(words // 50)]
    return json.dumps({"title": "Long", "turns": turns})


def _run(case: Case, folder: Path, values: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    fill: Callable[[str], str] = lambda text: text.format(dir=folder, **values)  # noqa: E731
    env = clean_env(**{k: fill(v) for k, v in case.env}, OPENAI_API_KEY="sk-test-0123456789")
    if not case.env:
        env.pop("OPENAI_API_KEY")
    try:
        return subprocess.run(
            [*console_script(), *map(fill, case.args)],
            cwd=folder,
            env=env,
            input=case.stdin if case.stdin is not None else b"",
            capture_output=True,
            timeout=WAIT,
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(case.args, -999, b"", f"hung for {WAIT} s".encode())


@pytest.mark.slow
@pytest.mark.timeout(1200)  # dozens of real processes; a loaded 2-core machine is slow
def test_every_user_input_error_has_its_exit_code_and_one_line(tmp_path, servers):
    _files(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: (c, _run(c, tmp_path, servers)), CASES))
    failures = []
    for case, proc in results:
        stderr = proc.stderr.decode("utf-8", "replace")
        lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("warning:")]
        ok = proc.returncode == case.code and "Traceback" not in stderr and "internal error" not in stderr
        if case.code and len([line for line in lines if line.startswith(("error:", "usage error:"))]) != 1:
            ok = False
        if not ok:
            failures.append(f"{case.name}: exit {proc.returncode} (want {case.code}): {stderr.strip()[-300:]}")
    assert not failures, f"{len(failures)} of {len(CASES)} cases failed:\n" + "\n".join(failures)
    assert not list((tmp_path / "ingest-only").rglob("*.mp3"))
    assert list((tmp_path / "ingest-only").rglob("document.md"))


@pytest.fixture
def full_disk(tmp_path) -> Iterator[Path]:
    """A 256 KiB tmpfs (needs root and mount; skipped elsewhere)."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root): " + mounted.stderr.decode().strip()[:100])
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def test_a_full_disk_is_exit_7_naming_the_file_and_the_cause(tmp_path, full_disk):
    _files(tmp_path)
    proc = subprocess.run(
        [*console_script(), str(tmp_path / "article.md"), "-l", "en", "-o", str(full_disk / "out")],
        cwd=tmp_path, env=clean_env(), capture_output=True, timeout=WAIT * 2,
    )
    stderr = proc.stderr.decode()
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert proc.returncode == EXIT_OUTPUT, stderr
    assert len(errors) == 1 and str(full_disk) in errors[0] and "disk is full" in errors[0], stderr
    assert "Traceback" not in stderr
