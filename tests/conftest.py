"""Shared fixtures: run the real console script in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import tempfile
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.ingest.ingest_helpers import LocalServer, send

ROOT = Path(__file__).resolve().parents[1]

# Every test session gets its own podcast-gen cache (synth work folders, assembled voice models):
# a run must not reuse what an earlier session left in ~/.cache. A cache set by the caller wins.
os.environ.setdefault("PODCAST_GEN_CACHE", tempfile.mkdtemp(prefix="podcast-gen-test-cache-"))
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"  # the project's shared/ folder sits beside the clone


def moss_fixtures() -> Path:
    """The MOSS-TTSD parity fixture folder: ``$MOSS_FIXTURES`` or ``../shared/fixtures/moss_ttsd``."""
    return Path(os.environ.get("MOSS_FIXTURES", SHARED / "fixtures" / "moss_ttsd"))
SECRET_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "PODCAST_GEN_WRITER", "PODCAST_GEN_SYNTH")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process environment without keys or podcast-gen selections.

    The synthesizer is espeak (instant) unless a test asks for another: ``auto`` would pick
    the natural CPU voices, which take a minute per episode; tests/voices exercise those.
    """
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update({"HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200", "PODCAST_GEN_SYNTH": "espeak"})
    env.update(extra)
    return env


def install_plugin(site: Path, name: str, source: str) -> Path:
    """Install a one-module plugin distribution into ``site`` the way pip lays it out (a
    dist-info folder with a ``podcast_gen`` entry point): put ``site`` on PYTHONPATH to use it."""
    dist = site / f"{name}-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[podcast_gen]\n{name} = {name}_mod\n")
    (site / f"{name}_mod.py").write_text(source)
    return site


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("podcast-gen")
    return [str(script)] if script.exists() else [sys.executable, "-m", "podcast"]


@pytest.fixture
def run_cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``podcast-gen ARGS`` in ``tmp_path`` (or ``cwd``); returns the completed process."""

    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, input: str | bytes | None = None, timeout: float = 240
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*console_script(), *args], cwd=cwd or tmp_path, env=env or clean_env(), input=input,
            capture_output=True, text=not isinstance(input, bytes), timeout=timeout,
        )

    return run


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, *fragments: str) -> None:
    """A user error: the exit code, one line on stderr (after the ``✓ stage`` lines of the
    stages that finished before it), no traceback."""
    stderr = proc.stderr if isinstance(proc.stderr, str) else proc.stderr.decode()
    assert proc.returncode == code, (proc.returncode, stderr)
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("✓ ")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), lines[0]


def pytest_collection_modifyitems(items: Sequence[pytest.Item]) -> None:
    """Keep the default run on 2 cores predictable."""
    os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def http_server() -> Iterator[LocalServer]:
    """A threaded HTTP server on 127.0.0.1 (port chosen by the OS) for the whole session."""
    state = LocalServer(0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hosts.append(self.headers.get("Host", ""))
            route = state.routes.get(self.path.split("?", 1)[0])
            if route is None:
                send(self, 404, b"not here", "text/plain")
            else:
                route(self)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
