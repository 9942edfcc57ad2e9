"""``auto`` is a policy over every installed implementation; normalization happens once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from podcast import Audio, Block, BlockAudio, Capabilities, DialogueEngine, DialogueOptions, hookimpl
from podcast.api import make_episode
from podcast.config import load_config
from tests.conftest import clean_env, install_plugin

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "examples" / "solar-sails.md"

TONE_PLUGIN = '''
import os
import numpy as np
from podcast import Audio, Capabilities, TurnEngine, hookimpl

class Tone(TurnEngine):
    """A tone per turn (a stand-in for a better engine a plugin brings)."""
    name = "tone"

    def capabilities(self):
        return Capabilities(frozenset({"en", "zh"}), 16000, rank=50)

    @classmethod
    def unavailable(cls, options):
        return os.environ.get("TONE_MISSING") or None

    def synthesize_turn(self, turn, voice, language):
        t = np.arange(int(0.2 * 16000)) / 16000
        return Audio((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16000)

@hookimpl
def register_synthesizers(register):
    register(Tone)
'''


def _synthesize_record(run_cli, out: Path, env: dict[str, str], *extra: str) -> tuple[dict, dict]:
    proc = run_cli(str(DOC), "-l", "en", "-o", str(out), "--until", "synthesize", "--json", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    return next(s for s in summary["stages"] if s["kind"] == "synthesize"), summary


def test_auto_chooses_an_installed_plugin_engine_by_rank(tmp_path, run_cli):
    site = install_plugin(tmp_path / "site", "toneplug", TONE_PLUGIN)
    record, summary = _synthesize_record(run_cli, tmp_path / "out", clean_env(PYTHONPATH=str(site), PODCAST_GEN_SYNTH="auto"))
    assert record["name"] == "tone"
    assert "auto chose tone: rank 50" in record["details"]["selected"]
    assert not any("synthesizer" in w for w in summary["warnings"])

    env = clean_env(PYTHONPATH=str(site), TONE_MISSING="no tone generator attached", PODCAST_GEN_SYNTH="auto")
    # kokoro (rank 20) made unable to run too, so espeak is the last resort left
    record, summary = _synthesize_record(run_cli, tmp_path / "out2", env, "--set", "synthesize.kokoro.model=/nonexistent.onnx")
    assert record["name"] == "espeak"
    note = next(w for w in summary["warnings"] if w.startswith("synthesizer: "))
    assert "tone: no tone generator attached" in note and note.endswith("; using the espeak synthesizer")


class Marker:
    """A profile that marks each turn it normalizes, so double normalization shows."""

    name = "marker"
    description = "prefixes every turn with ~"

    def normalize(self, text: str, language: str) -> str:
        import re

        return re.sub(r"(\[S\d+\])", r"\1~", text)


@dataclass(frozen=True, slots=True)
class EchoOptions(DialogueOptions):
    """Options of the echo engine."""


class Echo(DialogueEngine[EchoOptions]):
    """Records the text and voices it receives; declares the marker profile."""

    name: ClassVar[str] = "echo"
    Options: ClassVar[type] = EchoOptions
    seen: ClassVar[list[Block]] = []

    def capabilities(self) -> Capabilities:
        return Capabilities(frozenset({"en"}), 16000, dialogue_native=True, cloning=True, normalizer="marker")

    def synthesize_block(self, block: Block) -> BlockAudio:
        Echo.seen.append(block)
        return BlockAudio(Audio(np.full(1600 * len(block.turns), 0.1, np.float32), 16000))


class EchoPlugin:
    @hookimpl
    def register_synthesizers(self, register):
        register(Echo)

    @hookimpl
    def register_normalizers(self, register):
        register(Marker())


def test_text_and_reference_transcripts_are_normalized_once(podcast_plugins, tmp_path):
    from podcast.testing import reference_voice

    podcast_plugins.register(EchoPlugin(), "echo-plugin")
    voice = reference_voice(tmp_path / "voices", "S1")
    config = load_config(
        None, env={}, voices=[f'S1={voice.ref_audio}:"{voice.ref_text}"'], stages=["synthesize=echo"],
        overrides={"output": tmp_path / "out"},
    )
    Echo.seen.clear()
    make_episode([str(DOC)], config, podcast_plugins, until="synthesize")
    turns = [t for block in Echo.seen for t in block.turns]
    assert turns and all(t.text.startswith("~") and not t.text.startswith("~~") for t in turns)
    assert Echo.seen[0].voices["S1"].ref_text == "~" + voice.ref_text
