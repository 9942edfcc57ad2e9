"""Fixtures for the remote-engine tests: fake servers, reference voices, a small episode."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from podcast.config import Config
from podcast.models import Document, Episode, Script, Section, Turn, Voice

from .remote_fakes import LINES, REFS, Behaviour, FakeServer, speak


@pytest.fixture
def servers() -> Iterator[Callable[..., FakeServer]]:
    """``start(**behaviour)`` → a running :class:`FakeServer`; all are stopped afterwards."""
    started: list[FakeServer] = []

    def start(**kwargs: Any) -> FakeServer:
        server = FakeServer(Behaviour(**kwargs))
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


@pytest.fixture
def reference_voices(tmp_path: Path) -> dict[str, Voice]:
    """S1 and S2 with espeak-made reference recordings and their exact transcripts."""
    result = {}
    for speaker in Config().speaker_list("en"):
        path = tmp_path / f"ref_{speaker.id}.wav"
        samples, rate = speak(f"[{speaker.id}]{REFS[speaker.id]}")
        sf.write(path, samples, rate)
        result[speaker.id] = Voice(ref_audio=path, ref_text=REFS[speaker.id])
    return result


@pytest.fixture
def make_episode(tmp_path: Path, reference_voices: dict[str, Voice]) -> Callable[..., Episode]:
    """``make_episode(name, lines=LINES, voices=True)`` → an episode with its own run folder
    (the voices to render it with ride in ``meta["test.voices"]``, read by ``render``)."""

    def make(name: str = "run", lines: tuple[str, ...] = LINES, voices: bool = True) -> Episode:
        run_dir = tmp_path / name
        run_dir.mkdir(exist_ok=True)
        turns = tuple(Turn("S1" if i % 2 == 0 else "S2", text) for i, text in enumerate(lines))
        script = Script("en", turns, Config().speaker_list("en"), (), "Remote")
        document = Document("test.txt", "text", "Remote", (Section("", " ".join(lines)),), "en")
        episode = Episode(("test.txt",), "en", run_dir, document, script)
        return episode.with_meta(**{"test.voices": reference_voices if voices else {}})

    return make
