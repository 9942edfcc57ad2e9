"""``podcast-gen master IN [-o OUT] [--lufs X] [--true-peak Y] [--mono] [--json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["master"]


def master(
    source: Annotated[
        Path,
        typer.Argument(help="Audio file to master (WAV, FLAC, MP3, Ogg…).", show_default=False),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Output file; its suffix picks the format [default: IN.mastered.mp3].",
        ),
    ] = None,
    lufs: Annotated[
        float | None,
        typer.Option(
            "--lufs", help="Integrated loudness target, LUFS [default: -16 stereo, -19 mono]."
        ),
    ] = None,
    true_peak: Annotated[
        float, typer.Option("--true-peak", help="True-peak maximum, dBTP.")
    ] = -1.0,
    mono: Annotated[
        bool, typer.Option("--mono", help="Deliver one channel (default target -19 LUFS).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the mastering report as one JSON object.")
    ] = False,
) -> None:
    """Master an audio file to podcast loudness and print the report."""
    import json

    from .options import MasterOptions
    from .produce import master_file

    options = MasterOptions(lufs=lufs, true_peak=true_peak, mono=mono)
    result = master_file(source, output, options)
    payload = {
        "audio": str(result.path),
        "duration": round(result.duration, 3),
        "report": result.report,
    }
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        r = result.report
        summary = f"{r['integrated']} LUFS, {r['true_peak']} dBTP, LRA {r['lra']} LU"
        typer.echo(f"{result.path}: {summary}, {result.duration:.1f} s")
