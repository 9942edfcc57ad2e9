"""Shared fixtures: run the real console script in a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared"  # the project's shared/ folder sits beside the clone


def moss_fixtures() -> Path:
    """The MOSS-TTSD parity fixture folder: ``$MOSS_FIXTURES`` or ``../shared/fixtures/moss_ttsd``."""
    return Path(os.environ.get("MOSS_FIXTURES", SHARED / "fixtures" / "moss_ttsd"))
SECRET_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "PODCAST_GEN_WRITER", "PODCAST_GEN_SYNTH")


def clean_env(**extra: str) -> dict[str, str]:
    """The test process environment without keys or podcast-gen selections."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_VARS}
    env.update({"HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"})
    env.update(extra)
    return env


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
