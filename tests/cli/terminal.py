"""Run ``podcast-gen`` on a real pseudo-terminal and read back what its screen shows.

The child gets a pty as stdin, stdout and stderr (so rich sees a terminal, as in a shell or
tmux); everything it writes is fed to a VT100 emulator (pyte) whose final screen is what a
user would be looking at.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from dataclasses import dataclass
from pathlib import Path

import pyte

from tests.conftest import clean_env, console_script

COLUMNS, ROWS = 110, 300  # tall enough that nothing scrolls off


@dataclass(frozen=True)
class Terminal:
    """A finished run: exit code, the raw bytes it wrote, the final screen's rows."""

    returncode: int
    raw: str
    rows: list[str]
    cursor_hidden: bool

    @property
    def screen(self) -> str:
        return "\n".join(self.rows)


def run_in_terminal(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 240) -> Terminal:
    """Run ``podcast-gen ARGS`` in ``cwd`` on a fresh pty of COLUMNS × ROWS."""
    env = dict(env or clean_env())
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env["TERM"] = "xterm-256color"
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    proc = subprocess.Popen(
        [*console_script(), *args], cwd=cwd, env=env, stdin=child, stdout=child, stderr=child, start_new_session=True
    )
    os.close(child)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 0.5)
            if not ready:
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: every copy of the child side is closed
                break
            if not data:
                break
            chunks.append(data)
        else:
            proc.kill()
        proc.wait(timeout=30)
    finally:
        os.close(main)
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    raw = b"".join(chunks)
    stream.feed(raw)  # the pty turned each \n into \r\n, as a terminal shows it
    rows = [row.rstrip() for row in screen.display]
    while rows and not rows[-1]:
        rows.pop()
    return Terminal(proc.returncode, raw.decode("utf-8", "replace"), rows, screen.cursor.hidden)
