"""``podcast-gen master`` on bad input and bad output paths: one line on stderr, the right
exit code (README: 2 usage, 3 input, 7 output), no traceback, no Python warning, and no
file left under the final name.  The full disk is a real one: a 300 kB tmpfs in a private
mount namespace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

RATE = 24000


def run(*args: str | Path, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    command = [*prefix, sys.executable, "-W", "default", "-m", "podcast", "master"]
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [*command, *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == code, done.stderr
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr
    return lines[0]


@pytest.fixture
def speech(tmp_path: Path) -> Path:
    from .master_signals import speech_like

    path = tmp_path / "in.wav"
    sf.write(path, speech_like(3.0, RATE), RATE)
    return path


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_samples(tmp_path: Path, speech: Path, bad: float) -> None:
    audio, _ = sf.read(speech, dtype="float32")
    audio[RATE] = bad
    path = tmp_path / "bad.wav"
    sf.write(path, audio, RATE, subtype="FLOAT")
    line = one_line_error(run(path, "-o", tmp_path / "out.mp3"), 3)
    assert str(path) in line and "NaN or infinite" in line
    assert not (tmp_path / "out.mp3").exists()


def test_eight_channels_are_mixed_down(tmp_path: Path, speech: Path) -> None:
    audio, _ = sf.read(speech, dtype="float32")
    path = tmp_path / "eight.wav"
    sf.write(path, np.stack([audio * (0.5 + 0.05 * c) for c in range(8)], axis=1), RATE)
    done = run(path, "-o", tmp_path / "out.mp3")
    assert done.returncode == 0, done.stderr
    info = sf.info(str(tmp_path / "out.mp3"))
    assert info.channels == 2 and "Warning" not in done.stderr


@pytest.mark.parametrize("name", ["out.xyz", "out"])
def test_unknown_output_format_is_refused(tmp_path: Path, speech: Path, name: str) -> None:
    line = one_line_error(run(speech, "-o", tmp_path / name), 2)
    assert "unknown output format" in line and ".mp3" in line
    assert not (tmp_path / name).exists()


def test_output_that_is_a_directory(tmp_path: Path, speech: Path) -> None:
    folder = tmp_path / "folder.mp3"
    folder.mkdir()
    line = one_line_error(run(speech, "-o", folder), 7)
    assert str(folder) in line and "directory" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_folder_without_write_permission(tmp_path: Path, speech: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    line = one_line_error(run(speech, "-o", folder / "out.mp3"), 7)
    assert "permission denied" in line


def test_output_under_a_file(tmp_path: Path, speech: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_error(run(speech, "-o", blocker / "out.mp3"), 7)
    assert str(blocker / "out.mp3") in line


def _private_tmpfs() -> tuple[str, ...] | None:
    """A command prefix that runs the rest in a private mount namespace (root, or an
    unprivileged user namespace), or ``None`` when this system allows neither."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None
    for flags in (["-m"], ["-r", "-m"]):
        probe = subprocess.run(
            [unshare, *flags, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return (unshare, *flags)
    return None


def test_disk_full(tmp_path: Path, speech: Path) -> None:
    prefix = _private_tmpfs()
    if prefix is None:
        pytest.skip("cannot mount a small tmpfs here (needs root or user namespaces)")
    full = tmp_path / "full"
    full.mkdir()
    # 20 s of stereo MP3 at 128 kbps is 320 kB: more than the 300 kB file system holds
    long = tmp_path / "long.wav"
    audio, _ = sf.read(speech, dtype="float32")
    sf.write(long, np.tile(audio, 7), RATE)
    script = (
        f"mount -t tmpfs -o size=300k tmpfs {full} && "
        f"exec {sys.executable} -W default -m podcast master {long} -o {full}/out.mp3"
    )
    done = subprocess.run(
        [*prefix, "sh", "-c", script], capture_output=True, text=True, timeout=120
    )
    line = one_line_error(done, 7)
    assert f"{full}/out.mp3" in line and "disk is full" in line
