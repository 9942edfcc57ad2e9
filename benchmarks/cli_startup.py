"""Wall time of ``podcast-gen --help`` against a bare interpreter start, in the same run.

Usage: python benchmarks/cli_startup.py [--runs 15]
Target: ``podcast-gen --help`` ≤ 0.3 s with torch installed, and no heavy import.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    script = str(Path(sys.executable).with_name("podcast-gen"))
    baseline = wall([sys.executable, "-c", "pass"], runs)
    typer_only = wall([sys.executable, "-c", "import typer"], runs)
    help_time = wall([script, "--help"], runs)
    probe = (
        "import sys; from podcast.cli import main; main(['--help']); "
        "print('HEAVY:' + ','.join(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'torch','transformers','numpy','openai','trafilatura','pypdf'})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout
    heavy = [line[6:] for line in out.splitlines() if line.startswith("HEAVY:")]
    try:
        import torch  # noqa: F401

        torch_state = "installed"
    except ImportError:
        torch_state = "not installed"
    print(f"torch: {torch_state}; runs: {runs} (median wall time)")
    print(f"python -c pass      {baseline * 1000:7.1f} ms  (baseline)")
    print(f"python -c 'import typer' {typer_only * 1000:7.1f} ms  ({typer_only / baseline:.2f}x baseline)")
    print(f"podcast-gen --help  {help_time * 1000:7.1f} ms  ({help_time / baseline:.2f}x baseline, {help_time / typer_only:.2f}x typer import)")
    print(f"heavy modules imported by --help: {heavy[0] if heavy and heavy[0] else 'none'}")


if __name__ == "__main__":
    main()
