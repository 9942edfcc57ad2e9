"""Captions follow caption guidelines (at most two lines of about 42 columns, about 7 s,
cut at sentence ends, then clauses) and ID3 chapter frames are stored in time order."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from podcast.stages.master import transcripts as tx
from podcast.stages.master.codecs import Encoding, encode
from podcast.stages.master.tags import Tags, write_tags

ENGLISH = (
    "Solar sails are thin, reflective membranes that push a spacecraft with sunlight alone, "
    "no propellant needed. The idea goes back a century; Tsiolkovsky and Tsander wrote about "
    "it in the 1920s, and JAXA's IKAROS flew one in 2010, proving that it works. Since then "
    "NASA has tested larger sails in orbit, and the next missions aim at the Sun's poles, "
    "where no rocket could afford to go. Yes."
)
CHINESE = (
    "太阳帆是一种很薄的反光膜，它只靠阳光推动航天器，不需要任何推进剂。"
    "这个想法已经有一百年的历史了，齐奥尔科夫斯基在二十年代就写过它，"
    "日本的伊卡洛斯号在二零一零年真正飞了起来，证明它可行。"
)
ENDS = re.compile(r"[.!?;:,。！？；：，、]$")


@pytest.mark.parametrize(("text", "seconds"), [(ENGLISH, 26.0), (CHINESE, 16.0)])
def test_long_turns_become_guideline_cues(text: str, seconds: float) -> None:
    cues = tx.cues([(10.0, 10.0 + seconds, "Alice", text)])
    assert len(cues) >= 3
    for cue in cues:
        rows = tx.lines(cue.text)
        assert 1 <= len(rows) <= tx.LINES
        assert all(tx.width(row) <= tx.LINE for row in rows), rows
        assert cue.end - cue.start <= tx.MAX_CUE + 1e-9
        assert ENDS.search(cue.text), cue.text  # cut at a sentence or clause end
    assert cues[0].start == 10.0 and cues[-1].end == 10.0 + seconds
    assert all(a.end == b.start for a, b in zip(cues, cues[1:], strict=False))
    joined = "".join(c.text for c in cues).replace(" ", "")
    assert joined == text.replace(" ", "")  # every word, in order


def test_sentences_stay_together_and_short_turns_stay_whole() -> None:
    cues = tx.cues([(0.0, 4.0, "Bob", "Yeah. Right."), (5.0, 30.0, "Alice", ENGLISH)])
    assert cues[0].text == "Yeah. Right." and cues[0].end == 4.0
    starts = [c.text for c in cues[1:]]
    # a cue starts either a sentence or the next part of the sentence the last cue cut
    assert starts[1].startswith("reflective")
    assert any("The idea goes back a century;" in t for t in starts)  # never cut apart
    assert cues[-1].text.endswith("Yes.")


def test_a_long_clause_is_cut_between_words() -> None:
    words = " ".join(f"word{i}" for i in range(60)) + "."
    cues = tx.cues([(0.0, 20.0, "Alice", words)])
    assert all(tx.width(row) <= tx.LINE for c in cues for row in tx.lines(c.text))
    assert " ".join(c.text for c in cues) == words


def test_vtt_and_srt_show_two_lines() -> None:
    cues = tx.cues([(0.0, 26.0, "Alice", ENGLISH)])
    vtt, srt = tx.vtt(cues), tx.srt(cues)
    blocks = vtt.split("\n\n")[1:]
    assert all(len(b.splitlines()) <= 4 for b in blocks)  # number, times, two lines
    assert any(len(b.splitlines()) == 4 for b in blocks)
    assert "Alice: " in srt and all(len(b.splitlines()) <= 4 for b in srt.split("\n\n"))
    body = tx.transcript_json(cues)["segments"][1]["body"]
    assert "\n" not in body


def test_chapter_frames_are_stored_in_time_order(tmp_path: Path) -> None:
    path = tmp_path / "c.mp3"
    encode(np.full((1, 24000 * 26), 0.01, np.float32), 24000, path, Encoding("mp3", 2, 44100, 96))
    # titles that shrink: mutagen used to sort frames by size, so these came out reversed
    marks = tuple(tx.ChapterMark(2.0 * i, 2.0 * i + 2.0, "t" * (30 - i)) for i in range(12))
    write_tags(path, "mp3", Tags(title="x", chapters=marks))
    from mutagen.id3 import ID3

    stored = [f.start_time for f in ID3(str(path)).values() if f.FrameID == "CHAP"]
    assert stored == [round(m.start * 1000) for m in marks]
    raw = path.read_bytes()
    positions = [raw.index(f"chp{i}\0".encode()) for i in range(12)]
    assert positions == sorted(positions)
    if shutil.which("ffprobe"):
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        starts = [float(c["start_time"]) for c in json.loads(out)["chapters"]]
        assert starts == [m.start for m in marks]
