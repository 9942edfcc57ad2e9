"""Turn a rendering into the finished deliverables (the work behind ``master.standard``
and ``podcast-gen master``): timeline → leveling → loudness chain → encode and verify →
tags, transcripts, chapters and the mastering report."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from podcast.models import Episode, Outputs, Script, Segment
from podcast.runfiles import atomic_path, atomic_write_json, atomic_write_text

from . import transcripts as tx
from .assemble import ClipIn, GapPolicy, Placed, Timeline, assemble, level_speakers
from .chain import Targets, attempt_report, deliver, layout_offset, loudness
from .codecs import Encoding
from .dsp import compress
from .meter import region_loudness
from .options import MasterOptions
from .spill import Spill
from .tags import Tags, ffmetadata, write_tags

__all__ = ["Mastered", "master_episode", "master_file", "master_timeline"]


@dataclass(frozen=True, slots=True)
class Mastered:
    """The written deliverable, its duration in seconds (the PCM master's length, which is
    what a gapless player plays) and the mastering report."""

    path: Path
    duration: float
    report: dict[str, Any]


def _targets(options: MasterOptions) -> Targets:
    return Targets(
        options.target_lufs, options.true_peak, options.limiter_margin, options.tolerance
    )


def _encoding(options: MasterOptions, tags: Tags) -> Encoding:
    meta = ffmetadata(tags) if options.format == "m4a" else ""
    return Encoding(
        options.format,
        options.channels,
        options.delivery_rate,
        options.kbps,
        meta,
        options.mp3_quality,
    )


def _prepare(
    timeline: Timeline, options: MasterOptions, level: float | None = None
) -> tuple[np.ndarray, dict[str, Any], float | None]:
    """Speaker leveling and optional compression, in place on the timeline's audio.  Also
    returns the leveled mix's expected loudness when leveling makes it known (``level``,
    the caller's measure of the timeline, when there is nothing to level)."""
    audio, rate = timeline.audio, timeline.sample_rate
    speakers = (
        level_speakers(audio, rate, timeline.placed, options.max_speaker_gain_db)
        if options.level_speakers
        else {}
    )
    levels = [
        v["loudness"] + v["gain_db"] for v in speakers.values() if math.isfinite(v["loudness"])
    ]
    estimate = (
        10.0 * math.log10(sum(10.0 ** (v / 10.0) for v in levels) / len(levels))
        if levels
        else level
    )
    if options.compress_ratio > 1.0:
        speech = loudness(audio, rate)
        audio = compress(
            audio, rate, speech + options.compress_threshold_lu, options.compress_ratio
        )
        estimate = None
    return audio, speakers, estimate


Step = Callable[[str], None] | None
EPISODE_STEPS = 4  # joining clips, leveling speakers, encoding and verifying, writing transcripts


def _tell(step: Step, label: str) -> None:
    if step is not None:
        step(label)


def master_timeline(
    timeline: Timeline,
    options: MasterOptions,
    out: Path,
    tags: Tags,
    step: Step = None,
    level: float | None = None,
    reuse: Path | None = None,
) -> Mastered:
    """Level, master, encode and verify ``timeline`` into ``out``; returns the result.
    ``step(label)`` is told when each step starts (leveling, then encoding); ``level`` is
    the timeline's integrated loudness when the caller knows it; ``reuse`` is a folder
    where the previous master's MP3 frames are kept, reused where the PCM is the same (see
    :mod:`.reuse`; the file decodes to the very samples a master from scratch gives)."""
    _tell(step, "leveling speakers")
    audio, speakers, estimate = _prepare(timeline, options, level)
    _tell(step, f"encoding and verifying {options.format}")
    enc, targets = _encoding(options, tags), _targets(options)
    with writing(out):
        with atomic_path(out) as tmp:
            done = deliver(
                audio,
                timeline.sample_rate,
                enc,
                targets,
                tmp,
                lambda p: write_tags(p, enc.format, tags),
                estimate,
                reuse,
            )
    del audio
    offset = layout_offset(done.channels, enc.channels)
    after = _speakers_after(done.hops, timeline)
    decoded = done.attempts[-1].decoded
    report = {
        "target": {
            "integrated": targets.lufs,
            "true_peak": targets.true_peak,
            "tolerance": targets.tolerance,
        },
        **decoded.as_dict(),
        "passed": done.attempts[-1].passes(targets),
        "format": enc.format,
        "channels": enc.channels,
        "sample_rate": enc.sample_rate,
        "bitrate_kbps": enc.bitrate if enc.format in ("mp3", "m4a") else None,
        "bytes": out.stat().st_size,
        "speakers": _speaker_report(speakers, after, offset),
        "turns": _turn_spread(done.hops, timeline, _hop_loudness(done.hops)),
        "gaps": _gap_report(timeline.placed),
        "attempts": attempt_report(list(done.attempts)),
        "reused_seconds": round(done.attempts[-1].reused, 2),
    }
    # the PCM length is what a gapless player plays (decoders without LAME-tag support
    # add the encoder's ~25 ms priming and padding)
    return Mastered(out, done.samples / timeline.sample_rate, report)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn a failure to write ``path`` (or files beside it) into one :class:`OutputError`
    that names the path and the cause; a full disk is said as such."""
    from podcast.errors import OutputError

    try:
        yield
    except OSError as exc:
        raise OutputError(_write_failure(path, exc)) from None
    except OutputError as exc:
        if _disk_full(path):
            raise OutputError(_write_failure(path, None)) from None
        raise exc from None


def _disk_full(path: Path) -> bool:
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


def _write_failure(path: Path, exc: OSError | None) -> str:
    import errno

    code = exc.errno if exc is not None else errno.ENOSPC
    if code in (errno.ENOSPC, errno.EDQUOT) or (exc is not None and _disk_full(path)):
        return f"cannot write {path}: the disk is full; free some space or write elsewhere (-o)"
    if code == errno.EISDIR or path.is_dir():
        return f"cannot write {path}: it is a directory; give a file name such as {path}/x.mp3"
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        cause = "the file system is read-only" if code == errno.EROFS else "permission denied"
        return f"cannot write {path}: {cause}; choose a folder you can write to"
    assert exc is not None
    return f"cannot write {path}: {exc.strerror or exc}"


def _speakers_after(hops: np.ndarray, timeline: Timeline) -> dict[str, float]:
    """Each speaker's loudness in the master, from the final hop energies (blocks inside
    their turns)."""
    hop_seconds = round(timeline.sample_rate / 10) / timeline.sample_rate
    regions: dict[str, list[tuple[float, float]]] = {}
    for turn in timeline.placed:
        regions.setdefault(turn.speaker, []).append((turn.start, turn.end))
    return {who: region_loudness(hops, hop_seconds, spans) for who, spans in regions.items()}


def _hop_loudness(hops: np.ndarray) -> float:
    """Integrated loudness of the master from its hop energies (same scale as the turns)."""
    from .meter import gated_loudness

    return (
        gated_loudness(np.convolve(hops, np.full(4, 0.25), mode="valid"))
        if hops.size >= 4
        else -math.inf
    )


def _turn_spread(hops: np.ndarray, timeline: Timeline, integrated: float) -> dict[str, Any]:
    """How many turns of 3 s or more sit more than 3 LU from the master's integrated
    loudness (mastering.md §6.3), measured on the master's own scale."""
    hop_seconds = round(timeline.sample_rate / 10) / timeline.sample_rate
    long_turns = [t for t in timeline.placed if t.end - t.start >= 3.0]
    levels = [region_loudness(hops, hop_seconds, [(t.start, t.end)]) for t in long_turns]
    outside = [t.turn for t, v in zip(long_turns, levels, strict=True) if abs(v - integrated) > 3.0]
    return {"checked": len(long_turns), "outside_3lu": outside}


def _rounded(value: float) -> float | None:
    return round(value, 2) if math.isfinite(value) else None


def _speaker_report(
    before: dict[str, dict[str, float]], after: dict[str, float], offset: float
) -> dict[str, Any]:
    return {
        who: {
            "loudness_in": _rounded(before.get(who, {}).get("loudness", math.nan)),
            "gain_db": _rounded(before.get(who, {}).get("gain_db", 0.0)),
            "loudness": _rounded(level + offset),
        }
        for who, level in after.items()
    }


def _gap_report(placed: Sequence[Placed]) -> dict[str, Any]:
    ordered = sorted(placed, key=lambda p: p.start)
    gaps = [b.start - a.end for a, b in pairwise(ordered) if b.start - a.end > 1e-6]
    if not gaps:
        return {"count": 0}
    return {
        "count": len(gaps),
        "mean": round(float(np.mean(gaps)), 3),
        "min": round(min(gaps), 3),
        "max": round(max(gaps), 3),
    }


# ── episodes ───────────────────────────────────────────────────────────────────


def _texts(episode: Episode) -> Script | None:
    """The script whose text goes into transcripts: the written one when it lines up with
    the normalized one turn for turn (readable numbers), else the normalized one."""
    spoken = episode.normalized or episode.script
    written = episode.script
    if written is not None and spoken is not None and len(written.turns) == len(spoken.turns):
        return written
    return spoken


def _clips(episode: Episode, script: Script | None) -> list[ClipIn]:
    from podcast.errors import StageError

    if episode.rendering is None or not episode.rendering.clips:
        raise StageError("the master stage needs synthesized audio; run the synthesize stage first")

    def turn(i: int) -> tuple[int, str, str]:
        if script is not None and i < len(script.turns):
            return i, script.turns[i].speaker, script.turns[i].text
        return i, "S1", ""

    return [
        ClipIn(c.path, tuple(turn(i) for i in c.turns), c.spans) for c in episode.rendering.clips
    ]


def _names(script: Script | None) -> dict[str, str]:
    return {s.id: s.name or s.id for s in script.speakers} if script is not None else {}


def episode_tags(
    episode: Episode,
    options: MasterOptions,
    chapters: tuple[tx.ChapterMark, ...],
    run_dir: Path | None = None,
) -> Tags:
    """Tags from the episode: script/document title, host names, source URL and date (see
    :func:`episode_date`)."""
    script = _texts(episode)
    meta = dict(episode.document.metadata) if episode.document else {}
    url = str(
        meta.get("url")
        or (
            episode.document.source if episode.document and "://" in episode.document.source else ""
        )
    )
    title = (
        (script.title if script else "")
        or (episode.document.title if episode.document else "")
        or "Episode"
    )
    hosts = " & ".join(_names(script).values())
    comment = (
        f"Source: {url}"
        if url
        else (f"Source: {episode.document.title}" if episode.document else "")
    )
    if meta.get("author"):
        comment += f" by {meta['author']}"
    return Tags(
        title=title,
        show=options.show,
        artist=hosts,
        date=str(meta.get("date") or episode_date(run_dir)),
        comment=comment,
        url=url,
        language=episode.language or (script.language if script else ""),
        cover=options.cover,
        chapters=chapters,
    )


DATE_FILE = "master-date.txt"
REUSE = ".master-reuse"  # the previous master's frames and PCM digests (see .reuse)


def episode_date(run_dir: Path | None) -> str:
    """The episode's date when its source gives none: ``SOURCE_DATE_EPOCH`` when set (the
    reproducible-builds convention), else the date recorded in the run directory by the
    first master run (so reruns and resumed runs write the same bytes), else today's,
    which is then recorded."""
    import datetime
    import os

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.UTC).date().isoformat()
    recorded = run_dir / DATE_FILE if run_dir is not None else None
    if recorded is not None and recorded.is_file():
        text = recorded.read_text(encoding="utf-8").strip()
        if len(text) == 10 and text[4] == text[7] == "-":
            return text
    today = datetime.date.today().isoformat()
    if recorded is not None:
        atomic_write_text(recorded, today + "\n")
    return today


def chapter_marks(
    script: Script | None, segments: Sequence[Segment], duration: float
) -> tuple[tx.ChapterMark, ...]:
    """Chapter marks timed from the segments: each starts at its first turn (the first at 0)."""
    if script is None or not script.chapters:
        return ()
    starts = {s.turn: s.start for s in segments}
    timed = []
    for chapter in sorted(script.chapters, key=lambda c: c.turn):
        later = [starts[t] for t in sorted(starts) if t >= chapter.turn]
        if later:
            timed.append((0.0 if not timed else later[0], chapter.title))
    ends = [t for t, _ in timed[1:]] + [duration]
    return tuple(
        tx.ChapterMark(start, end, title) for (start, title), end in zip(timed, ends, strict=True)
    )


def master_episode(
    episode: Episode, options: MasterOptions, run_dir: Path, seed: int = 0, step: Step = None
) -> Episode:
    """Master ``episode.rendering`` into ``run_dir``; returns the episode with ``segments``
    and ``outputs`` set.  ``step(label)`` is told as each of :data:`EPISODE_STEPS` starts."""
    from dataclasses import replace

    _tell(step, "joining clips")
    script = _texts(episode)
    policy = GapPolicy(
        options.gap,
        options.gap_jitter,
        options.backchannel_gap,
        options.lead_in,
        options.tail,
        seed,
    )
    timeline = assemble(
        _clips(episode, script),
        episode.rendering.sample_rate,
        policy,
        options.highpass_hz,
        options.fade_ms / 1000.0,
        options.trim_db,
    )
    segments = tuple(
        Segment(p.turn, p.speaker, round(p.start, 4), round(p.end, 4)) for p in timeline.placed
    )
    length = timeline.audio.shape[1] / timeline.sample_rate
    chapters = chapter_marks(script, segments, length)
    out = run_dir / f"{options.filename}.{options.format}"
    tags = episode_tags(episode, options, chapters, run_dir)
    mastered = master_timeline(timeline, options, out, tags, step, reuse=run_dir / REUSE)
    _tell(step, "writing transcripts")
    with writing(run_dir):
        files = _write_texts(run_dir, options.filename, script, segments, chapters)
    outputs = Outputs(
        audio=mastered.path,
        duration=mastered.duration,
        files={"audio": out, **files},
        report=mastered.report,
    )
    done = replace(episode, segments=segments, outputs=outputs)
    return done if mastered.report["passed"] else done.with_warning(_miss(mastered.report))


def _miss(report: dict[str, Any]) -> str:
    """One-line warning for a deliverable that still misses its targets after re-encoding."""
    target = report["target"]
    return (
        f"master: the decoded {report['format']} reads {report['integrated']} LUFS and "
        f"{report['true_peak']} dBTP (target {target['integrated']} LUFS ± {target['tolerance']}, "
        f"≤ {target['true_peak']} dBTP); check the input audio for silence or clipping"
    )


def _write_texts(
    run_dir: Path,
    base: str,
    script: Script | None,
    segments: Sequence[Segment],
    chapters: Sequence[tx.ChapterMark],
) -> dict[str, Path]:
    """VTT, SRT, JSON transcript and JSON chapters beside the audio."""
    names = _names(script)
    turns = [
        (
            s.start,
            s.end,
            names.get(s.speaker, s.speaker),
            script.turns[s.turn].text if script and s.turn < len(script.turns) else "",
        )
        for s in segments
    ]
    cues = tx.cues(turns)
    title = script.title if script else ""
    return {
        "vtt": atomic_write_text(run_dir / f"{base}.vtt", tx.vtt(cues)),
        "srt": atomic_write_text(run_dir / f"{base}.srt", tx.srt(cues)),
        "transcript_json": atomic_write_json(
            run_dir / f"{base}.transcript.json", tx.transcript_json(cues)
        ),
        "chapters_json": atomic_write_json(
            run_dir / f"{base}.chapters.json", tx.chapters_json(chapters, title)
        ),
    }


# ── standalone files ────────────────────────────────────────────────────────────


def master_file(source: Path, out: Path | None, options: MasterOptions) -> Mastered:
    """Master any WAV/FLAC/MP3/… file as one clip (high-pass, loudness, true peak, encode).

    The format follows ``out``'s suffix; the default output is ``<source stem>.mastered.
    <format>`` beside the source.  A file of more than two channels is mixed down to one.
    The audio streams through files beside the output, so memory stays flat whatever the
    length (see :mod:`.spill`).

    :raises InputError: the source is missing, undecodable, not finite or shorter than 0.4 s.
    :raises ConfigError: ``out`` names no known format.
    :raises OutputError: ``out`` is a directory or cannot be written.
    """
    from dataclasses import replace

    from podcast.errors import InputError, OutputError

    from .codecs import decode_blocks

    if out is not None:
        options = replace(options, format=_format_of(out))
    out = out or source.with_name(f"{source.stem}.mastered.{options.format}")
    if out.is_dir():
        raise OutputError(_write_failure(out, IsADirectoryError(21, "Is a directory")))
    rate, channels, blocks = decode_blocks(source)
    rows = 1 if channels > 2 or (options.mono and channels > 1) else channels
    tags = Tags(title=source.stem.replace("_", " "), show=options.show, cover=options.cover)
    with writing(out):
        out.parent.mkdir(parents=True, exist_ok=True)
        with _read_into_spill(source, out.parent, blocks, rate, rows, options) as (pre, level):
            if pre.shape[1] < round(0.4 * rate):
                raise InputError(f"{source} is shorter than 0.4 s; nothing to measure")
            return master_timeline(Timeline(pre, rate, ()), options, out, tags, level=level)


@contextmanager
def _read_into_spill(
    source: Path,
    folder: Path,
    blocks: Iterator[np.ndarray],
    rate: int,
    rows: int,
    options: MasterOptions,
) -> Iterator[tuple[Spill, float]]:
    """Decode, mix down, high-pass and check ``source`` into a :class:`Spill` in
    ``folder``; yields it and its integrated loudness (measured on the way)."""
    from podcast.errors import InputError

    from .dsp import Highpass
    from .meter import LoudnessMeter
    from .spill import Spill

    highpass = Highpass(rate, options.highpass_hz, rows)
    meter = LoudnessMeter(rate, rows, true_peak=False)
    with Spill(folder, rows) as pre:
        try:
            for block in blocks:
                if not np.isfinite(block).all():
                    raise InputError(
                        f"{source} holds NaN or infinite samples, which are not sound; "
                        "export it again as WAV or FLAC"
                    )
                if block.shape[0] != rows:
                    block = block.mean(axis=0, keepdims=True)
                block = highpass(block)
                meter.feed(block)
                pre.append(block)
        except (RuntimeError, ValueError) as exc:  # the decoder gave up halfway
            raise InputError(f"cannot decode audio file {source}: {exc}") from None
        level = meter.result().integrated if pre.shape[1] >= round(0.4 * rate) else -math.inf
        yield pre, level


def _format_of(out: Path) -> str:
    """The delivery format ``out``'s suffix names.

    :raises ConfigError: no suffix, or one no encoder here writes."""
    from podcast.errors import ConfigError

    from .codecs import FORMATS

    suffix = out.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        named = f"'.{suffix}'" if suffix else "no suffix"
        raise ConfigError(
            f"unknown output format ({named}) for {out}; "
            f"name the file {', '.join('.' + f for f in FORMATS)}"
        )
    return suffix
