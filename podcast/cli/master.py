"""``podcast-gen master IN [-o OUT] [--lufs X] [--true-peak Y] [--mono] [--json]``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["master"]

Source = Annotated[
    Path,
    typer.Argument(
        help="Audio file to master (WAV, FLAC, MP3, Ogg…); more than two channels are mixed "
        "down to one.",
        show_default=False,
    ),
]
Output = Annotated[
    Path | None,
    typer.Option(
        "-o",
        "--output",
        help="Output file; its suffix picks the format [default: IN.mastered.mp3].",
    ),
]
Lufs = Annotated[
    float | None,
    typer.Option(
        "--lufs", help="Integrated loudness target, LUFS [default: -16 stereo, -19 mono]."
    ),
]
TruePeak = Annotated[float, typer.Option("--true-peak", help="True-peak maximum, dBTP.")]
Mono = Annotated[
    bool, typer.Option("--mono", help="Deliver one channel (default target -19 LUFS).")
]
Json = Annotated[
    bool, typer.Option("--json", help="Print the mastering report as one JSON object.")
]


def master(
    source: Source, output: Output = None, lufs: Lufs = None, true_peak: TruePeak = -1.0,
    mono: Mono = False, as_json: Json = False,
) -> None:  # fmt: skip
    """Master an audio file to podcast loudness and print the report."""
    import json

    from ..stages.master.options import MasterOptions
    from ..stages.master.produce import master_file

    result = master_file(source, output, MasterOptions(lufs=lufs, true_peak=true_peak, mono=mono))
    report = result.report
    payload = {"ok": True, "audio": str(result.path), "duration": round(result.duration, 3), "report": report}
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
        return
    summary = f"{report['integrated']} LUFS, {report['true_peak']} dBTP, LRA {report['lra']} LU"
    typer.echo(f"{result.path}: {summary}, {result.duration:.1f} s")
