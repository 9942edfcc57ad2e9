"""The ``cosyvoice`` engine on a tiny random CosyVoice 2 folder in the real layout (no fixtures)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from cosyvoice_helpers import make_tiny_folder

from podcast import EngineContext, MissingModelError, Script, Speaker, SynthesisError, Turn, Voice
from podcast.testing import check_engine, reference_voice
from podcast_gen_cosyvoice.engine import CosyVoiceEngine, CosyVoiceOptions, split_style


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return make_tiny_folder(tmp_path_factory.mktemp("cosyvoice") / "CosyVoice2-0.5B")


@pytest.fixture(scope="module")
def engine(tiny: Path):
    eng = CosyVoiceEngine(CosyVoiceOptions(model_dir=str(tiny), device="cpu"), EngineContext(seed=3))
    eng.load()
    yield eng
    eng.close()


@pytest.mark.slow
def test_engine_keeps_the_contract(tiny: Path, tmp_path: Path) -> None:
    check_engine(CosyVoiceEngine(CosyVoiceOptions(model_dir=str(tiny), device="cpu")), tmp_path)


def test_missing_files_are_named_in_one_line(tiny: Path, tmp_path: Path) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny, broken)
    (broken / "flow.pt").unlink()
    (broken / "campplus.onnx").unlink()
    message = CosyVoiceEngine.unavailable(CosyVoiceOptions(model_dir=str(broken)))
    assert message is not None and "\n" not in message
    assert "flow.pt" in message and "campplus.onnx" in message
    assert CosyVoiceEngine.unavailable(CosyVoiceOptions(model_dir=str(tiny))) is None
    with pytest.raises(MissingModelError):
        CosyVoiceEngine(CosyVoiceOptions(model_dir=str(broken)))._folder(CosyVoiceOptions(model_dir=str(broken)))


def test_check_refuses_hosts_without_a_reference(tiny: Path, tmp_path: Path) -> None:
    script = Script(title="t", language="en", speakers=(Speaker("S1", "A"), Speaker("S2", "B")),
                    turns=(Turn("S1", "Hi."), Turn("S2", "Hello.")))  # fmt: skip
    eng = CosyVoiceEngine(CosyVoiceOptions(model_dir=str(tiny)))
    voices = {"S1": reference_voice(tmp_path, "S1"), "S2": Voice()}
    with pytest.raises(SynthesisError, match="S2"):
        eng.check(script, voices)
    low = tmp_path / "low.wav"
    sf.write(low, np.zeros(8000, np.float32), 8000)
    with pytest.raises(SynthesisError, match="16 kHz"):
        eng.check(script, {"S1": voices["S1"], "S2": Voice(ref_audio=low, ref_text="x")})


def test_speaker_style_comes_from_the_config() -> None:
    from podcast import Config

    cfg = Config(speakers={"S1": {"ref_audio": "a.wav", "ref_text": "x", "style": "Speak calmly."}})
    voices = cfg.voices()
    assert voices["S1"].style == "Speak calmly." and voices["S2"].style is None
    assert Voice(preset="p", style="calm").key != Voice(preset="p").key


def test_instruct_mode_replaces_the_prompt_text(engine: CosyVoiceEngine, tmp_path: Path) -> None:
    model = engine._model
    voice = model.voice(*engine._read(reference_voice(tmp_path, "S1").ref_audio), "Exact words.")
    ids = model.tokenizer.encode("Hello.")
    plain, styled = model.lm_input(ids, voice), model.lm_input(ids, voice, "Speak calmly.")
    style_ids = model.tokenizer.encode("Speak calmly.<|endofprompt|>")
    assert plain.shape[1] == 2 + len(voice.text_ids) + len(ids) + len(voice.features.tokens)
    assert styled.shape[1] == 2 + len(style_ids) + len(ids)  # no prompt speech in instruct mode
    cross = model.lm_input(ids, model.voice(*engine._read(reference_voice(tmp_path, "S1").ref_audio)))
    assert cross.shape[1] == 2 + len(ids)  # cross-lingual: the text alone


def test_split_style() -> None:
    assert split_style("{calm and slow} Hello there.", "cheerful") == ("calm and slow", "Hello there.")
    assert split_style("Whisper softly.<|endofprompt|>Hi.", "") == ("Whisper softly.", "Hi.")
    assert split_style("Whisper softly.|endofprompt|Hi.", "") == ("Whisper softly.", "Hi.")
    assert split_style("Plain [laughter] text.", "cheerful") == ("cheerful", "Plain [laughter] text.")


def test_one_prompt_per_host_and_batched_turns(engine: CosyVoiceEngine, tmp_path: Path) -> None:
    s1, s2 = reference_voice(tmp_path, "S1"), reference_voice(tmp_path, "S2")
    turns = [(Turn("S1", "Hello there, welcome back."), s1), (Turn("S2", "Thanks [laughter] for having me."), s2),
             (Turn("S1", "{speak slowly} Let us begin. This is a second sentence."), s1)]  # fmt: skip
    calls: list[int] = []
    original = engine._model.voice
    engine._voices.clear()
    engine._model.voice = lambda *a, **k: calls.append(1) or original(*a, **k)
    try:
        out = dict(engine.synthesize_turns(turns, "en"))
    finally:
        engine._model.voice = original
    assert sorted(out) == [0, 1, 2] and len(calls) == 2  # the host's prompt is computed once
    for audio in out.values():
        assert audio.sample_rate == 24000 and audio.samples.dtype == np.float32 and audio.samples.size > 0
        assert np.isfinite(audio.samples).all()
    again = engine.synthesize_turn(*turns[0], "en")  # alone, not in a batch: the same audio
    assert again.samples.shape == out[0].samples.shape
    edge = int(0.5 * 24000)  # the padded vocoder batch reaches back only its receptive field (< 0.5 s)
    np.testing.assert_allclose(again.samples[:-edge], out[0].samples[:-edge], atol=1e-4)


def test_batched_flow_equals_one_by_one(engine: CosyVoiceEngine, tmp_path: Path) -> None:
    from podcast_gen_cosyvoice.model import Segment

    model = engine._model
    voice = model.voice(*engine._read(reference_voice(tmp_path, "S2").ref_audio), "")
    short, long = Segment([5, 9, 300, 42, 7, 7, 1000], voice), Segment(list(range(100, 140)), voice)
    together = model.token2mel([short, long])
    for seg, mel in zip((short, long), together, strict=True):
        alone = model.token2mel([seg])[0]
        assert mel.shape == alone.shape
        torch.testing.assert_close(mel, alone, atol=1e-4, rtol=0)


def test_sentence_joins_have_no_clicks() -> None:
    from podcast_gen_cosyvoice.model import join

    rate = 24000
    t = np.arange(rate // 2) / rate
    a, b = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), (0.3 * np.cos(2 * np.pi * 150 * t)).astype(np.float32)
    joined = join([a, b], rate)
    assert joined.shape == (a.size + b.size,)
    step = np.abs(np.diff(joined))
    natural = np.abs(np.diff(a)).max()
    assert step.max() <= natural * 1.01  # the jump at the join is no larger than the signal's own
    assert np.array_equal(joined[100 : a.size - 200], a[100:-200])


def test_legacy_weight_norm_names_load_the_same(tiny: Path, tmp_path: Path) -> None:
    from podcast.neural.checkpoint import read_state_dict, weight_norm_keys
    from podcast_gen_cosyvoice.config import read_yaml
    from podcast_gen_cosyvoice.model import load_hift

    cfg = read_yaml(tiny / "cosyvoice2.yaml")["hift"]
    legacy = weight_norm_keys(read_state_dict(tiny / "hift.pt"), "legacy")
    assert any(k.endswith("weight_g") for k in legacy)
    torch.save({f"generator.{k}": v for k, v in legacy.items()}, tmp_path / "hift.pt")
    mel = torch.randn(1, 80, 20) - 5
    a = load_hift(tiny / "hift.pt", cfg, 2, torch.device("cpu"))(mel, torch.Generator().manual_seed(1))
    b = load_hift(tmp_path / "hift.pt", cfg, 2, torch.device("cpu"))(mel, torch.Generator().manual_seed(1))
    torch.testing.assert_close(a, b)


@pytest.mark.slow
def test_synth_command_renders_offline(tiny: Path, tmp_path: Path) -> None:
    voices = [reference_voice(tmp_path / "voices", s) for s in ("S1", "S2")]
    script = tmp_path / "script.txt"
    script.write_text("# CosyVoice test\n[S1]Welcome to the show.\n[S2]Thanks [laughter] for having me.\n"
                      "[S1]Let us begin.\n", encoding="utf-8")  # fmt: skip
    exe = Path(sys.executable).with_name("podcast-gen")
    cmd = [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "podcast"])]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1", "NO_COLOR": "1"}
    env.pop("PODCAST_GEN_SYNTH", None)
    args = ["synth", str(script), "--synth", "cosyvoice", "-o", "out.wav", "--output-dir", "work", "--json",
            "--set", f"synthesize.cosyvoice.model_dir={tiny}", "--set", "synthesize.cosyvoice.device=cpu",
            "--voice", f"S1={voices[0].ref_audio}:{voices[0].ref_text}",
            "--voice", f"S2={voices[1].ref_audio}:{voices[1].ref_text}"]  # fmt: skip
    listed = subprocess.run([*cmd, "plugins", "--json"], env=env, capture_output=True, text=True, timeout=300)
    plugins = {p["name"]: p for p in json.loads(listed.stdout)["plugins"]}
    assert "synthesize.cosyvoice" in plugins["cosyvoice"]["stages"]
    proc = subprocess.run([*cmd, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["engine"] == "cosyvoice" and summary["clips"] == 3
    info = sf.info(str(tmp_path / "out.wav"))
    assert info.duration > 0.5

