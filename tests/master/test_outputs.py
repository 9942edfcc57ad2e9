"""Deliverables of the master stage: the stage contract, transcripts and chapters lined up
with the audio, tags and chapters read back with mutagen, other formats, and the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from podcast.errors import EXIT_INPUT, EXIT_OUTPUT
from podcast.models import Chapter, Episode
from podcast.stages.master import MasterStage
from podcast.stages.master.codecs import read_any
from tests.conftest import assert_one_line_error, clean_env

from .master_signals import clip_episode, speech_like

RATE = 24000
LINES = [
    ("S1", "Welcome to the show about sound.", 2.0),
    ("S2", "Yeah.", 0.5),
    (
        "S2",
        "Let us talk about loudness. It matters a lot. Listeners notice jumps. Really they do.",
        9.0,
    ),
    ("S1", "Chapter two is about peaks.", 2.5),
    ("S2", "Right.", 0.4),
]


def episode_for(
    folder: Path, chapters: tuple[Chapter, ...] = (Chapter(0, "Intro"), Chapter(3, "Peaks"))
) -> Episode:
    turns = [
        (who, text, speech_like(seconds, RATE, seed=i))
        for i, (who, text, seconds) in enumerate(LINES)
    ]
    return clip_episode(folder, turns, RATE, chapters, title="Sound check")


@pytest.fixture(scope="module")
def mastered(tmp_path_factory: pytest.TempPathFactory) -> Episode:
    from podcast.config import load_config
    from podcast.stage import StageContext

    folder = tmp_path_factory.mktemp("episode")
    stage = MasterStage(MasterStage.Options())
    ctx = StageContext(load_config(None, env={}), folder, seed=3)
    stage.check(ctx)
    return stage.run(episode_for(folder), ctx)


def test_stage_contract(mastered: Episode) -> None:
    outputs = mastered.outputs
    assert outputs is not None and outputs.audio.suffix == ".mp3" and outputs.audio.is_file()
    assert set(outputs.files) >= {"audio", "vtt", "srt", "transcript_json", "chapters_json"}
    assert all(Path(p).parent == mastered.run_dir for p in outputs.files.values())
    assert [s.turn for s in mastered.segments] == list(range(len(LINES)))
    assert [s.speaker for s in mastered.segments] == [w for w, _, _ in LINES]
    report = outputs.report
    assert (
        report["passed"]
        and report["integrated"] == pytest.approx(-16.0, abs=1.0)
        and report["true_peak"] <= -1.0
    )
    assert set(report["speakers"]) == {"S1", "S2"} and report["gaps"]["count"] == len(LINES) - 1
    json.dumps(dict(report))  # JSON-safe (no infinities, no numpy scalars)
    assert not list(mastered.run_dir.glob(".*part*"))  # atomic writes left nothing behind
    assert outputs.duration == pytest.approx(mastered.segments[-1].end + 1.0, abs=0.05)


def test_segments_match_the_audio(mastered: Episode) -> None:
    """Each turn's energy starts and ends where its segment says (within 50 ms)."""
    audio, rate = read_any(mastered.outputs.audio)
    frame = rate // 100
    level = 20 * np.log10(
        np.sqrt(
            np.mean(audio[0, : audio.shape[1] // frame * frame].reshape(-1, frame) ** 2, axis=1)
        )
        + 1e-9
    )
    loud = level > level.max() - 45
    for segment in mastered.segments:
        inside = (
            np.flatnonzero(loud[int(segment.start * 100) - 10 : int(segment.end * 100) + 10])
            + int(segment.start * 100)
            - 10
        )
        assert abs(inside[0] / 100 - segment.start) <= 0.05
        assert abs((inside[-1] + 1) / 100 - segment.end) <= 0.05


def vtt_cues(text: str) -> list[tuple[float, float, str, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    pattern = r"(\d\d:\d\d:\d\d\.\d{3}) --> (\d\d:\d\d:\d\d\.\d{3})\n<v ([^>]+)>(.*)"
    return [(seconds(a), seconds(b), who, body) for a, b, who, body in re.findall(pattern, text)]


def test_transcripts_line_up_with_segments(mastered: Episode) -> None:
    files = mastered.outputs.files
    cues = vtt_cues(Path(files["vtt"]).read_text())
    assert Path(files["vtt"]).read_text().startswith("WEBVTT")
    names = {"S1": "Alice", "S2": "Bob"}
    for segment in mastered.segments:
        mine = [c for c in cues if segment.start - 0.05 <= c[0] and c[1] <= segment.end + 0.05]
        assert mine and all(c[2] == names[segment.speaker] for c in mine)
        assert abs(mine[0][0] - segment.start) <= 0.05 and abs(mine[-1][1] - segment.end) <= 0.05
    assert len(cues) > len(LINES)  # the 9 s turn is split into sentence cues
    transcript = json.loads(Path(files["transcript_json"]).read_text())
    assert [s["speaker"] for s in transcript["segments"]] == [c[2] for c in cues]
    assert [s["startTime"] for s in transcript["segments"]] == pytest.approx(
        [c[0] for c in cues], abs=0.001
    )
    assert [s["endTime"] for s in transcript["segments"]] == pytest.approx(
        [c[1] for c in cues], abs=0.001
    )
    srt = Path(files["srt"]).read_text()
    assert "00:00:00,300 --> " in srt and "Bob: Yeah." in srt


def test_chapters_json_and_id3_chapters_round_trip(mastered: Episode) -> None:
    from mutagen.id3 import ID3

    chapters = json.loads(Path(mastered.outputs.files["chapters_json"]).read_text())
    assert chapters["version"] == "1.2.0"
    titles = [c["title"] for c in chapters["chapters"]]
    assert titles == ["Intro", "Peaks"]
    peaks = chapters["chapters"][1]["startTime"]
    assert abs(peaks - mastered.segments[3].start) <= 0.05
    tags = ID3(mastered.outputs.audio)
    assert tags["TIT2"].text == ["Sound check"] and tags["TALB"].text == ["podcast-gen"]
    assert (
        tags["TPE1"].text == ["Alice & Bob"]
        and "https://example.org/article" in tags.getall("COMM")[0].text[0]
    )
    assert tags.getall("WXXX")[0].url == "https://example.org/article"
    toc = tags.getall("CTOC")[0]
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    assert list(toc.child_element_ids) == sorted(chaps)
    ordered = [chaps[i] for i in toc.child_element_ids]
    assert [c.sub_frames["TIT2"].text[0] for c in ordered] == titles
    assert [c.start_time for c in ordered] == [
        round(c["startTime"] * 1000) for c in chapters["chapters"]
    ]
    assert ordered[-1].end_time == pytest.approx(mastered.outputs.duration * 1000, abs=60)


@pytest.mark.parametrize("fmt", ["wav", "flac", "opus"])
def test_other_formats_with_tags(tmp_path: Path, fmt: str) -> None:
    import mutagen

    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    from podcast.stages.master.produce import master_episode

    options = MasterStage.Options(format=fmt, mono=True, cover=cover if fmt != "opus" else None)
    done = master_episode(episode_for(tmp_path), options, tmp_path)
    assert done.outputs.audio.suffix == f".{fmt}"
    assert done.outputs.report["integrated"] == pytest.approx(-19.0, abs=0.5)
    assert done.outputs.report["true_peak"] <= -1.0
    tagged = mutagen.File(done.outputs.audio)
    text = str(tagged.tags)
    assert "Sound check" in text


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary")
def test_m4a_with_chapters(tmp_path: Path) -> None:
    from mutagen.mp4 import MP4

    from podcast.stages.master.produce import master_episode

    done = master_episode(episode_for(tmp_path), MasterStage.Options(format="m4a"), tmp_path)
    assert done.outputs.report["passed"]
    assert MP4(done.outputs.audio)["\xa9nam"] == ["Sound check"]
    assert (
        done.outputs.audio.read_bytes().find(b"chpl") > 0
        or b"chap" in done.outputs.audio.read_bytes()
    )


def test_cli_master_json(run_cli, tmp_path: Path) -> None:
    import soundfile as sf

    sf.write(tmp_path / "talk.wav", speech_like(4, RATE, level=0.02), RATE)
    proc = run_cli("master", "talk.wav", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert payload["report"]["integrated"] == pytest.approx(-16.0, abs=1.0)
    assert Path(payload["audio"]).name == "talk.mastered.mp3"
    proc = run_cli(
        "master",
        "talk.mastered.mp3",
        "-o",
        "again.flac",
        "--mono",
        "--lufs",
        "-20",
        "--true-peak",
        "-2",
        "--json",
    )
    report = json.loads(proc.stdout)["report"]
    assert report["format"] == "flac" and report["channels"] == 1
    assert report["integrated"] == pytest.approx(-20.0, abs=0.5) and report["true_peak"] <= -2.0


def test_cli_bad_input_is_one_line(run_cli, tmp_path: Path) -> None:
    (tmp_path / "noise.wav").write_text("not audio")
    assert_one_line_error(run_cli("master", "noise.wav"), EXIT_INPUT, "cannot decode")
    assert_one_line_error(
        run_cli("master", "missing.wav", "--json"), EXIT_INPUT, "no such audio file"
    )


def test_m4a_without_ffmpeg_is_one_line(run_cli, tmp_path: Path) -> None:
    import soundfile as sf

    sf.write(tmp_path / "talk.wav", speech_like(2, RATE), RATE)
    bare = tmp_path / "bin"
    bare.mkdir()
    env = clean_env(PATH=str(bare))
    proc = run_cli("master", "talk.wav", "-o", "talk.m4a", env=env)
    assert_one_line_error(proc, EXIT_OUTPUT, "ffmpeg")
    assert not any(p.suffix == ".m4a" or "part" in p.name for p in tmp_path.iterdir())
    assert os.environ.get("PATH")  # the real environment is untouched


def test_cover_art_goes_into_id3(tmp_path: Path) -> None:
    from mutagen.id3 import ID3

    from podcast.stages.master.produce import master_episode

    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    done = master_episode(episode_for(tmp_path / "ep"), MasterStage.Options(cover=cover), tmp_path)
    picture = ID3(done.outputs.audio).getall("APIC")[0]
    assert picture.data == cover.read_bytes() and picture.mime == "image/jpeg" and picture.type == 3


def test_silent_rendering_is_delivered_with_a_warning(tmp_path: Path) -> None:
    from podcast.stages.master.produce import master_episode

    silent = [
        ("S1", "Hello there.", np.zeros(RATE, np.float32)),
        ("S2", "Yes.", np.zeros(RATE, np.float32)),
    ]
    done = master_episode(clip_episode(tmp_path, silent, RATE), MasterStage.Options(), tmp_path)
    assert done.outputs.audio.is_file() and not done.outputs.report["passed"]
    assert done.outputs.report["integrated"] is None
    assert any(w.startswith("master: the decoded mp3 reads None LUFS") for w in done.warnings)
