"""The ``spark-tts`` engine: voice requests, turn splitting, stable hosts, retries, licence,
missing files, the engine contract, and a whole episode through the CLI on the tiny folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from spark_helpers import model_dir, npz, require_fixtures, spark

from podcast import EngineContext, MissingModelError, SynthesisError, Turn, Voice, estimate_seconds
from podcast.testing import check_engine, run_engine
from podcast_gen_spark_tts import SparkTTSEngine
from podcast_gen_spark_tts.text import split_turn
from podcast_gen_spark_tts.voices import CreateSpec, SavedVoice, parse_spec, request_for, write_voice_file

# The tiny fixture LM is designed for greedy decoding (its sampled streams are not well formed).
GREEDY = {"temperature": 0.0}


# ── voices and text (no model) ──────────────────────────────────────────────────────


def test_voice_specs_parse_with_defaults_and_refuse_nonsense() -> None:
    assert parse_spec("spark:female,pitch=high,speed=moderate") == CreateSpec("female", "high", "moderate")
    assert parse_spec("spark:male") == CreateSpec("male", "moderate", "moderate")
    assert parse_spec("spark:gender=male,speed=very high") == CreateSpec("male", "moderate", "very_high")
    assert parse_spec("en-us+m3") is None
    for bad in ("spark:robot", "spark:female,pitch=loud", "spark:female,volume=high", "spark:female,male"):
        with pytest.raises(SynthesisError, match="spark-tts"):
            parse_spec(bad)


def test_voice_requests(tmp_path: Path) -> None:
    assert request_for("S1", Voice()).create == CreateSpec("male")
    assert request_for("S2", Voice()).create == CreateSpec("female")
    assert request_for("S2", Voice(preset="female,pitch=high")).create == CreateSpec("female", "high")
    saved = tmp_path / "host.json"
    write_voice_file(saved, SavedVoice((1, 2, 3), "spark:male,pitch=low,speed=moderate"))
    assert request_for("S1", Voice(preset=str(saved))).saved == saved
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(SynthesisError, match="bad.json"):
        request_for("S1", Voice(preset=str(tmp_path / "bad.json")))
    with pytest.raises(SynthesisError, match="not a Spark voice"):
        request_for("S2", Voice(preset="alloy"))
    with pytest.raises(SynthesisError, match="does not exist"):
        request_for("S2", Voice(ref_audio=tmp_path / "missing.wav"))


def test_long_turns_split_at_sentences_within_the_limit() -> None:
    sentences = [f"This is sentence number {i} of a rather long turn." for i in range(30)]
    text = " ".join(sentences)
    pieces = split_turn(text, "en", 10.0)
    assert len(pieces) > 1
    assert " ".join(pieces) == text
    assert all(estimate_seconds(p, "en") <= 10.0 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    zh = "今天我们来聊一聊语音合成技术的发展。" * 12
    pieces = split_turn(zh, "zh", 8.0)
    assert "".join(pieces) == zh and len(pieces) > 1
    assert all(estimate_seconds(p, "zh") <= 8.0 for p in pieces)
    run_on = "word " * 400
    assert all(estimate_seconds(p, "en") <= 5.0 for p in split_turn(run_on, "en", 5.0))
    assert split_turn("Short.", "en", 25.0) == ["Short."]


def test_capabilities_declare_the_non_commercial_weights() -> None:
    caps = SparkTTSEngine().capabilities()
    assert caps.sample_rate == 16000 and caps.languages == frozenset({"en", "zh"})
    assert caps.commercial_ok is False and caps.weights_licence == "CC-BY-NC-SA-4.0"
    defaults = SparkTTSEngine.Options()
    assert (defaults.temperature, defaults.top_k, defaults.top_p, defaults.max_new_tokens) == (0.8, 50, 0.95, 3000)


def test_missing_files_are_named_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "LLM").mkdir()
    (tmp_path / "config.yaml").write_text("sample_rate: 16000\n")
    reason = SparkTTSEngine.unavailable(SparkTTSEngine.Options(model_dir=str(tmp_path)))
    assert reason is not None and "\n" not in reason
    for name in ("BiCodec/model.safetensors", "LLM/model.safetensors", "wav2vec2-large-xlsr-53/config.json"):
        assert name in reason
    assert "synthesize.spark-tts.model_dir" in reason


# ── with the tiny model folder ──────────────────────────────────────────────────────


def _engine(tmp_path: Path, seed: int = 0, **options: object) -> SparkTTSEngine:
    opts = SparkTTSEngine.Options(model_dir=str(model_dir()), **{**GREEDY, **options})  # type: ignore[arg-type]
    return SparkTTSEngine(opts, EngineContext(seed=seed, cache_dir=tmp_path / "cache", run_dir=tmp_path / "episode"))


def test_engine_keeps_the_contract_cloning_from_references(tmp_path: Path) -> None:
    check_engine(_engine(tmp_path), tmp_path)
    saved = sorted((tmp_path / "episode" / "voices").glob("*.spark.json"))
    assert [p.name for p in saved] == ["S1.spark.json", "S2.spark.json"]
    voice = json.loads(saved[0].read_text())
    assert voice["prompt_text"] and voice["semantic_ids"] and len(voice["global_ids"]) == spark().token_num


def test_created_hosts_are_saved_once_and_every_turn_is_cloned_from_them(tmp_path: Path) -> None:
    voices = {"S1": Voice(preset="spark:male,pitch=low"), "S2": Voice(preset="spark:female,pitch=high,speed=high")}
    turns = [("S1", "Welcome back to the show."), ("S2", "Thanks! Glad to be here."), ("S1", "Let us begin.")]
    folder = tmp_path / "ep"
    rendering = run_engine(SparkTTSEngine, turns, folder, voices=voices, options={"model_dir": str(model_dir()), **GREEDY})
    files = {p.name: json.loads(p.read_text()) for p in (folder / "voices").glob("*.spark.json")}
    assert set(files) == {"S1.spark.json", "S2.spark.json"}
    assert files["S2.spark.json"]["source"] == "spark:female,pitch=high,speed=high"
    model = spark()
    for (speaker, text), clip in zip(turns, rendering.clips, strict=True):
        from podcast.audio import read_audio
        from podcast_gen_spark_tts.lm import Sampling
        from podcast_gen_spark_tts.prompts import clone_prompt

        ids = files[f"{speaker}.spark.json"]["global_ids"]
        assert len(ids) == model.token_num
        semantic = model.generate([clone_prompt(text, ids)], Sampling(temperature=0.0, max_new_tokens=400), 0)[0]
        expected = model.detokenize(ids, semantic.semantic_ids)
        samples, rate = read_audio(clip.path)
        assert rate == 16000 and samples.shape[-1] == expected.shape[0]
        assert np.abs(samples.reshape(-1) - expected).max() < 2e-3  # clip files round to their sample format
    stamps = {p: p.stat().st_mtime_ns for p in (folder / "voices").iterdir()}
    run_engine(SparkTTSEngine, [*turns, ("S2", "One more thing.")], folder, voices=voices,
               options={"model_dir": str(model_dir()), **GREEDY})  # fmt: skip
    assert {p: p.stat().st_mtime_ns for p in (folder / "voices").iterdir()} == stamps


def test_a_saved_voice_is_reused_in_another_episode(tmp_path: Path) -> None:
    ids = npz("codec_ref_b.npz")["global_ids"].ravel().tolist()
    saved = tmp_path / "host.spark.json"
    write_voice_file(saved, SavedVoice(tuple(ids), "spark:female,pitch=moderate,speed=moderate"))
    engine = _engine(tmp_path)
    audio = engine.synthesize_turn(Turn("S2", "Hello again."), Voice(preset=str(saved)), "en")
    engine.close()
    copied = json.loads((tmp_path / "episode" / "voices" / "S2.spark.json").read_text())
    assert copied["global_ids"] == ids
    assert audio.sample_rate == 16000 and audio.samples.dtype == np.float32 and audio.samples.size


def test_crash_cases_are_retried_then_reported(tmp_path: Path) -> None:
    # Too small a budget: the created voice never gets its global tokens.
    engine = _engine(tmp_path, max_new_tokens=6, retries=2)
    with pytest.raises(SynthesisError, match=r"could not create a voice for S1.*instead of") as info:
        engine.synthesize_turn(Turn("S1", "Hello."), Voice(preset="spark:male"), "en")
    assert "\n" not in str(info.value)
    engine.close()
    # A saved voice, but no room for a single semantic token.
    saved = tmp_path / "host.spark.json"
    write_voice_file(saved, SavedVoice(tuple(npz("codec_ref_b.npz")["global_ids"].ravel().tolist()), "x"))
    engine = _engine(tmp_path, max_new_tokens=1, retries=1)
    with pytest.raises(SynthesisError, match="produced no speech .* after 2 tries"):
        engine.synthesize_turn(Turn("S1", "Hello."), Voice(preset=str(saved)), "en")
    engine.close()


def test_a_voice_file_for_another_model_is_refused(tmp_path: Path) -> None:
    saved = tmp_path / "big.spark.json"
    write_voice_file(saved, SavedVoice(tuple(range(32 + 1)), "spark:male"))
    engine = _engine(tmp_path)
    with pytest.raises(SynthesisError, match="does not fit this model"):
        engine.synthesize_turn(Turn("S1", "Hello."), Voice(preset=str(saved)), "en")


# ── through the command line ────────────────────────────────────────────────────────


def _cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("podcast-gen")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "podcast"]
    environment = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "OPENAI_BASE_URL"}
    environment.update({"HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200", **env})
    return subprocess.run([*command, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)


def _episode_args(script: Path, *voices: str) -> list[str]:
    args = [str(script), "-l", "en", "--synth", "spark-tts", "--json"]
    args += ["--set", f"synthesize.spark-tts.model_dir={model_dir()}", "--set", "synthesize.spark-tts.temperature=0"]
    for voice in voices:
        args += ["--voice", voice]
    return args


@pytest.mark.slow
def test_cli_lists_the_plugin_and_renders_an_episode_with_two_created_hosts(tmp_path: Path) -> None:
    require_fixtures()
    listed = _cli("plugins", "--json", cwd=tmp_path)
    assert listed.returncode == 0 and "spark-tts" in listed.stdout
    script = tmp_path / "first.txt"
    script.write_text(
        "[S1]Welcome back to the show. Today we talk about speech synthesis.\n"
        "[S2]Thanks for having me! It is great to be here.\n[S1]Let us start with the basics.\n"
        "[S2]Sure. First, a model reads the text.\n",
        encoding="utf-8",
    )
    proc = _cli(*_episode_args(script, "S1=spark:male,pitch=low", "S2=spark:female,pitch=high,speed=moderate"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    episode = tmp_path / result["episode_dir"]
    assert (tmp_path / result["audio"]).is_file() and result["turns"] == 4
    voices = {p.name: json.loads(p.read_text()) for p in (episode / "voices").glob("*.spark.json")}
    assert sorted(voices) == ["S1.spark.json", "S2.spark.json"]
    assert voices["S2.spark.json"]["source"] == "spark:female,pitch=high,speed=moderate"
    # A second episode reuses S2's saved voice by path and keeps its ids.
    second = tmp_path / "second.txt"
    second.write_text("[S1]New episode, same hosts.\n[S2]Indeed, the same voice as last time.\n", encoding="utf-8")
    saved = episode / "voices" / "S2.spark.json"
    proc = _cli(*_episode_args(second, "S1=spark:male,pitch=low", f"S2={saved}"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    again = tmp_path / json.loads(proc.stdout)["episode_dir"] / "voices" / "S2.spark.json"
    assert json.loads(again.read_text())["global_ids"] == voices["S2.spark.json"]["global_ids"]


def test_cli_commercial_only_refuses_before_any_work(tmp_path: Path) -> None:
    script = tmp_path / "ep.txt"
    script.write_text("[S1]Hello.\n[S2]Hi.\n", encoding="utf-8")
    args = [str(script), "-l", "en", "--synth", "spark-tts", "--set", f"synthesize.spark-tts.model_dir={tmp_path}"]
    proc = _cli(*args, cwd=tmp_path, PODCAST_GEN_COMMERCIAL_ONLY="1")
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode != 0 and len(lines) == 1, proc.stderr
    assert "commercially" in lines[0] and "CC-BY-NC-SA-4.0" in lines[0]
    assert not (tmp_path / "podcasts").exists() or not any((tmp_path / "podcasts").rglob("clips"))
