"""The public SDK: one import, a validated registry, the engine kit and the conformance check."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import podcast
from podcast import (
    Audio,
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    DialogueOptions,
    MissingModelError,
    PluginError,
    Turn,
    TurnEngine,
    Voice,
    find_weights,
    hookimpl,
    option,
)
from podcast.plugins import Plugins
from podcast.stages.synthesize.espeak import EspeakEngine
from podcast.testing import check_engine, reference_voice, run_engine
from tests.conftest import clean_env, install_plugin

ROOT = Path(__file__).resolve().parents[2]
RATE = 16000


def test_one_import_gives_the_whole_sdk_without_heavy_modules():
    names = "hookimpl, option, Stage, StageContext, TurnEngine, DialogueEngine, Capabilities, Audio, Block, BlockAudio, Prompt"
    code = (
        f"from podcast import {names}, Ingester, Writer, Engine, DialogueOptions, EngineContext, Script, "
        "PodcastError, PluginError, find_weights, estimate_turn_spans, MemoryModel\n"
        "import sys; print(sorted(m for m in ('numpy', 'torch', 'typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=clean_env())
    assert out.stdout.strip() == "[]"
    assert set(podcast.__all__) <= set(dir(podcast))


def test_engine_contract_and_renderer_do_not_import_each_other():
    def imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    assert not {m for m in imports(ROOT / "podcast" / "synthesis.py") if "rendering" in m}
    assert "synthesis" in imports(ROOT / "podcast" / "rendering.py")


# ── registration is validated, naming the plugin ────────────────────────────────


class _Nameless(TurnEngine):
    def capabilities(self) -> Capabilities:
        return Capabilities(frozenset({"en"}), RATE)

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        return Audio(np.zeros(RATE, np.float32), RATE)


class _Unfinished(TurnEngine):
    name: ClassVar[str] = "unfinished"

    def capabilities(self) -> Capabilities:
        return Capabilities(frozenset({"en"}), RATE)


class _NotAnEngine:
    name = "not-an-engine"


class _Registers:
    def __init__(self, *classes: Any) -> None:
        self.classes = classes

    @hookimpl
    def register_synthesizers(self, register: Any) -> None:
        for cls in self.classes:
            register(cls)


@pytest.mark.parametrize(
    ("cls", "message"),
    [
        (_Nameless, "plugin 'bad-plugin' registered engine _Nameless without a name"),
        (_NotAnEngine, "plugin 'bad-plugin' registered _NotAnEngine, which is not a subclass of podcast.TurnEngine"),
        (_Unfinished, "plugin 'bad-plugin' registered _Unfinished, which does not implement synthesize_turn"),
    ],
)
def test_bad_engine_registration_names_the_plugin(cls: type, message: str) -> None:
    plugins = Plugins().load(env={"PODCAST_GEN_PLUGINS": ""})
    plugins.register(_Registers(cls), "bad-plugin")
    with pytest.raises(PluginError) as info:
        plugins.stages()
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_an_installed_nameless_engine_fails_at_load_with_one_line(tmp_path: Path) -> None:
    source = (
        "from podcast import hookimpl, TurnEngine, Capabilities\n"
        "class Quiet(TurnEngine):\n"
        "    def capabilities(self): return Capabilities(frozenset({'en'}), 16000)\n"
        "    def synthesize_turn(self, turn, voice, language): raise NotImplementedError\n"
        "@hookimpl\n"
        "def register_synthesizers(register): register(Quiet)\n"
    )
    site = install_plugin(tmp_path / "site", "quietplug", source)
    script = [sys.executable, "-m", "podcast", "plugins"]
    proc = subprocess.run(script, capture_output=True, text=True, env=clean_env(PYTHONPATH=str(site)), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "plugin 'quietplug' registered engine Quiet without a name" in lines[0]


# ── the engine kit ──────────────────────────────────────────────────────────────


def test_find_weights_names_missing_files_and_every_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    models = tmp_path / "models"
    (models / "Tiny-TTS").mkdir(parents=True)
    (models / "Tiny-TTS" / "config.json").write_text("{}")
    required = ["config.json", ("model.safetensors", "model.pt")]
    with pytest.raises(MissingModelError) as info:
        find_weights("", ["org/Tiny-TTS"], required, what="Tiny model", option="synthesize.tiny.model_dir", search=[models])
    message = str(info.value)
    assert "\n" not in message and message.startswith("Tiny model files not found: looked in ")
    assert f"{models / 'Tiny-TTS'} (missing model.safetensors or model.pt)" in message
    assert f"{tmp_path / 'hub' / 'models--org--Tiny-TTS'} (no such folder)" in message
    assert message.endswith("--set synthesize.tiny.model_dir=FOLDER")
    (models / "Tiny-TTS" / "model.pt").write_bytes(b"x")
    assert find_weights("", ["org/Tiny-TTS"], required, what="Tiny", option="o", search=[models]) == models / "Tiny-TTS"
    snapshot = tmp_path / "hub" / "models--org--Tiny-TTS" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (snapshot / name).write_text("{}")
    assert find_weights("", ["org/Tiny-TTS"], required, what="Tiny", option="o") == snapshot


def test_turn_spans_snap_to_the_pause() -> None:
    rate = 8000
    speech = np.sin(np.arange(rate) * 0.3).astype(np.float32)
    samples = np.concatenate([speech, np.zeros(rate // 4, np.float32), speech[: rate // 2]])
    spans = podcast.estimate_turn_spans(samples, rate, (Turn("S1", "a" * 10), Turn("S2", "b" * 10)))
    assert len(spans) == 2 and spans[0][0] == 0.0 and abs(spans[1][1] - len(samples) / rate) < 1e-9
    assert 1.0 <= spans[0][1] <= 1.25  # the boundary lies in the pause, not at the text midpoint (0.875 s)


# ── conformance check, run_engine and the engine context ────────────────────────


@dataclass(frozen=True, slots=True)
class ToneOptions(DialogueOptions):
    """Options of the tone engine."""

    include_prompt: bool = option(False, "wrongly return the prompt in front of the block")
    wide: bool = option(False, "wrongly return float64 samples")


class ToneDialogue(DialogueEngine[ToneOptions]):
    """A deterministic dialogue engine: a tone per turn, pitch by speaker, length by text."""

    name: ClassVar[str] = "tone-dialogue"
    Options: ClassVar[type] = ToneOptions

    def capabilities(self) -> Capabilities:
        return Capabilities(frozenset({"en", "zh"}), RATE, dialogue_native=True, cloning=True)

    def synthesize_block(self, block: Block) -> BlockAudio:
        pieces, spans, start = [], [], 0.0
        for number, turn in enumerate(block.turns):
            seconds = 0.2 + 0.02 * len(turn.text)
            t = np.arange(int(seconds * RATE)) / RATE
            pieces.append(0.3 * np.sin(2 * np.pi * (150 if turn.speaker == "S1" else 260) * t))
            pieces.append(np.zeros(RATE // 10))
            spans.append((start, start + seconds))
            start += seconds + 0.1
            self.context.progress(number + 1, len(block.turns), "tones")
        samples = np.concatenate(pieces)
        if self.options.include_prompt and block.prompt is not None:
            samples = np.concatenate([block.prompt.audio.samples, samples])
            spans = [(a + block.prompt.audio.duration, b + block.prompt.audio.duration) for a, b in spans]
        dtype = np.float64 if self.options.wide else np.float32
        return BlockAudio(Audio(samples.astype(dtype), RATE), tuple(spans))


def test_built_in_and_toy_engines_pass_the_conformance_check(tmp_path: Path) -> None:
    check_engine(EspeakEngine(), tmp_path / "espeak")
    check_engine(ToneDialogue(), tmp_path / "tone")


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        (ToneOptions(include_prompt=True), "returned the carried prompt in front of the block"),
        (ToneOptions(wide=True), "not float32"),
    ],
)
def test_conformance_check_catches_broken_engines(tmp_path: Path, options: ToneOptions, complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint):
        check_engine(ToneDialogue(options), tmp_path)


def test_run_engine_renders_through_the_stage_and_reuses_clips(tmp_path: Path) -> None:
    turns = [("S1", "Hello there."), ("S2", "Hi, welcome."), ("S1", "Shall we start?")]
    voices = {s: reference_voice(tmp_path / "voices", s) for s in ("S1", "S2")}
    rendering = run_engine(ToneDialogue, turns, tmp_path / "episode", voices=voices, options={"carry_seconds": 1.0})
    assert rendering.engine == "tone-dialogue" and rendering.sample_rate == RATE
    assert [len(c.spans) for c in rendering.clips] == [len(c.turns) for c in rendering.clips]
    assert sum(len(c.turns) for c in rendering.clips) == 3
    again = run_engine(ToneDialogue, turns, tmp_path / "episode", voices=voices, options={"carry_seconds": 1.0})
    assert [c.key for c in again.clips] == [c.key for c in rendering.clips]


def test_reference_voice_is_a_real_clip(tmp_path: Path) -> None:
    import soundfile as sf

    voice = reference_voice(tmp_path, "S2", seconds=2.0, sample_rate=22050)
    info = sf.info(str(voice.ref_audio))
    assert (info.samplerate, round(info.duration, 2)) == (22050, 2.0) and voice.ref_text


def test_engines_report_progress_inside_a_block(tmp_path: Path, episode_factory: Any) -> None:
    from podcast.config import Config
    from podcast.rendering import stage_for_engine
    from podcast.stage import StageContext

    seen: list[tuple[float, float | None, str]] = []
    stage = stage_for_engine(ToneDialogue)(ToneOptions(block_seconds=600.0))
    episode = episode_factory(turns=(("S1", "One."), ("S2", "Two."), ("S1", "Three."), ("S2", "Four.")))
    ctx = StageContext(Config(), episode.run_dir, 7, report=lambda *event: seen.append(event))
    stage.run(episode, ctx)
    inside = [event for event in seen if "tones" in event[2]]
    assert [round(done, 2) for done, _, _ in inside] == [0.25, 0.5, 0.75, 1.0]
    assert all(total == 1 for _, total, _ in inside) and inside[0][2] == "blocks (tones)"  # the display shows done/total itself
    assert stage.engine.context.seed == 7
