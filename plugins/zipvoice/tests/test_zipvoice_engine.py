"""The ZipVoice-Dialog engines in podcast-gen: the engine contract (podcast.testing), the CLI
rendering a tiny-model folder offline, and the input building that keeps the reference's quirks
(tag-parity speakers, dropped symbols) away from users."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from zipvoice_helpers import fixtures_root

from podcast import MissingModelError, SynthesisError
from podcast.testing import check_engine
from podcast_gen_zipvoice.engine import (
    ZipVoiceDialogEngine,
    ZipVoiceDialogStereoEngine,
    clean_text,
    dialogue_text,
    merged_turns,
    prompt_transcript,
)
from podcast_gen_zipvoice.pipeline import batch_chunks, chunk_at_turns


def test_consecutive_turns_of_one_host_share_one_tag() -> None:
    turns = [("S1", "Hi."), ("S1", "Welcome…"), ("S2", "Thanks [LAUGHS] a lot."), ("S1", "Go.")]
    assert merged_turns(turns) == [("S1", "Hi. Welcome,"), ("S2", "Thanks a lot."), ("S1", "Go.")]


@pytest.mark.parametrize(
    ("prompt", "first", "expected_prefix"),
    [
        (["S1", "S2"], "S1", "[S1]a"),  # even prompt, same first host: no shift
        (["S1", "S2"], "S2", "[S1][S2]a"),  # other host first: one empty segment shifts parity
        (["S2", "S1"], "S2", "[S1]a"),
        (["S2", "S1", "S2"], "S1", "[S1]a"),  # odd prompt: S1 has the even parity
        (["S1", "S2", "S1"], "S1", "[S1][S2]a"),
    ],
)
def test_text_tags_follow_the_prompt_parity(prompt: list[str], first: str, expected_prefix: str) -> None:
    other = "S2" if first == "S1" else "S1"
    text = dialogue_text(prompt, [(first, "a"), (other, "b")])
    assert text.startswith(expected_prefix)
    # Every segment's running tag count (prompt included) has the parity of its host in the prompt.
    parity = {spk: (j + 1) % 2 for j, spk in enumerate(prompt)}
    segments = text.split("[")[1:]
    speakers = [first, other]
    offset = len(segments) - 2
    for i, seg in enumerate(segments[offset:]):
        count = len(prompt) + offset + i + 1
        assert count % 2 == parity[speakers[i]], (text, seg)


def test_prompt_transcript_alternates_from_s1() -> None:
    text, speakers = prompt_transcript([("S2", "one"), ("S2", "two"), ("S1", "three")])
    assert text == "[S1]one two[S2]three" and speakers == ["S2", "S1"]
    assert clean_text("wait... [SIGHS] what⋯") == "wait, what,"


def test_chunking_and_batching_follow_the_reference_rules() -> None:
    tokens = ["[S1]", "a", "[S2]", "b", "b", "[S1]", "c", "[S2]", "d", "[S1]", "e"]
    assert chunk_at_turns(tokens, 6) == [tokens[:5], tokens[5:]]
    assert chunk_at_turns(tokens, 2) == [tokens[:5], tokens[5:9], tokens[9:]]  # long pieces stay whole
    batches, order = batch_chunks([[1] * 5, [1] * 2, [1] * 3], 10.0, 3.0, 1.0)
    assert order == [1, 2, 0] and [len(b) for b in batches] == [2, 1]


def test_missing_weights_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "model.json").write_text("{}")
    reason = ZipVoiceDialogEngine.unavailable(ZipVoiceDialogEngine.Options(model_dir=str(tmp_path / "m")))
    assert reason is not None and "\n" not in reason
    assert "tokens.txt" in reason and str(tmp_path / "m") in reason
    from podcast_gen_zipvoice.pipeline import load_synthesizer

    with pytest.raises(MissingModelError, match="lacks"):
        load_synthesizer(tmp_path / "m", tmp_path)


def _options(engine: type, **extra: object) -> object:
    root = fixtures_root()
    return engine.Options(
        model_dir=str(root / "model" / engine.variant), vocos_dir=str(root / "model" / "vocos"), num_step=2, **extra
    )


# check_engine detects a returned prompt by comparing per-40 ms loudness and zero-crossings;
# the tiny random model's output is nearly stationary, so that heuristic cannot tell its blocks
# apart. The exclusion is checked directly instead (_assert_prompt_excluded).
_HEURISTIC = "returned the carried prompt in front of the block"


def _check(engine: ZipVoiceDialogEngine, folder: Path) -> None:
    try:
        check_engine(engine, folder)
    except AssertionError as exc:
        problems = [line for line in str(exc).splitlines()[1:] if line.strip()]
        assert problems and all(_HEURISTIC in p for p in problems), str(exc)
    _assert_prompt_excluded(engine, folder)


def _assert_prompt_excluded(engine: ZipVoiceDialogEngine, folder: Path) -> None:
    """A carried prompt twice as long must not make the block longer."""
    from podcast import Audio, Block, Prompt, Turn
    from podcast.testing import reference_voice

    voices = {s: reference_voice(folder / "voices2", s) for s in ("S1", "S2")}
    first = Block(0, (Turn("S1", "Good morning everyone."), Turn("S2", "Hello there.")), (0, 1), "en", voices)
    engine.load()
    try:
        head = engine.synthesize_block(first).audio
        twice = Audio(np.concatenate([head.samples, head.samples], axis=-1), head.sample_rate)
        turns = (Turn("S1", "Let us begin today."), Turn("S2", "Sure, go ahead."))
        short = engine.synthesize_block(Block(1, turns, (2, 3), "en", voices, Prompt(head, first.turns)))
        long = engine.synthesize_block(Block(1, turns, (2, 3), "en", voices, Prompt(twice, first.turns * 2)))
    finally:
        engine.close()
    assert abs(long.audio.duration - short.audio.duration) < 0.25 * short.audio.duration
    assert long.audio.duration < head.duration + 0.5 * short.audio.duration


def test_mono_engine_keeps_the_contract(tmp_path: Path) -> None:
    _check(ZipVoiceDialogEngine(_options(ZipVoiceDialogEngine)), tmp_path)


@pytest.mark.slow
def test_stereo_engine_keeps_the_contract(tmp_path: Path) -> None:
    engine = ZipVoiceDialogStereoEngine(_options(ZipVoiceDialogStereoEngine))
    assert engine.capabilities().channels == 2
    _check(engine, tmp_path)
    mono = ZipVoiceDialogStereoEngine(_options(ZipVoiceDialogStereoEngine, width=0.0))
    assert mono.capabilities().channels == 1


def test_wrong_variant_folder_is_refused() -> None:
    root = fixtures_root()
    engine = ZipVoiceDialogEngine(
        ZipVoiceDialogEngine.Options(model_dir=str(root / "model" / "zipvoice_dialog_stereo"), vocos_dir=str(root / "model" / "vocos"))
    )
    with pytest.raises(MissingModelError, match="zipvoice-dialog-stereo"):
        engine.load()


def test_cli_renders_a_tiny_model_folder_offline(tmp_path: Path) -> None:
    root = fixtures_root()
    models = tmp_path / "models"
    shutil.copytree(root / "model" / "zipvoice_dialog", models / "ZipVoice" / "zipvoice_dialog")
    shutil.copytree(root / "model" / "vocos", models / "vocos-mel-24khz")
    script = tmp_path / "script.txt"
    script.write_text("[S1]Hello and welcome to the show.\n[S2]Thanks, glad to be here!\n[S1]Let us begin.\n")
    s1, s2 = root / "inputs" / "en_split_prompt_s1.wav", root / "inputs" / "en_split_prompt_s2.wav"
    env = dict(os.environ, HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1", HF_HUB_CACHE=str(tmp_path / "hub"))
    # The model folder is found inside the user's model folder (the layout of the HF repo).
    env["PODCAST_GEN_MODELS"] = str(models)
    args = [
        sys.executable, "-m", "podcast", "synth", str(script), "--synth", "zipvoice-dialog", "-o", "out.wav",
        "--output-dir", "work", "--json",
        "--set", f"synthesize.zipvoice-dialog.model_dir={models / 'ZipVoice'}",
        "--set", f"synthesize.zipvoice-dialog.vocos_dir={models / 'vocos-mel-24khz'}",
        "--set", "synthesize.zipvoice-dialog.num_step=2",
        "--voice", f"S1={s1}:Hello there, welcome back.",
        "--voice", f"S2={s2}:Hi! Nice to meet you.",
    ]  # fmt: skip
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["engine"] == "zipvoice-dialog" and report["duration"] > 0.5
    import soundfile as sf

    audio, rate = sf.read(tmp_path / "out.wav")
    assert rate == 24000 and np.isfinite(audio).all() and np.abs(audio).max() > 0.01


def test_cli_refuses_missing_voices(tmp_path: Path) -> None:
    root = fixtures_root()
    script = tmp_path / "script.txt"
    script.write_text("[S1]Hello.\n[S2]Hi.\n")
    args = [
        sys.executable, "-m", "podcast", "synth", str(script), "--synth", "zipvoice-dialog", "-o", "out.wav",
        "--output-dir", "work",
        "--set", f"synthesize.zipvoice-dialog.model_dir={root / 'model' / 'zipvoice_dialog'}",
        "--set", f"synthesize.zipvoice-dialog.vocos_dir={root / 'model' / 'vocos'}",
    ]  # fmt: skip
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "--voice" in proc.stderr


def test_engine_refuses_three_hosts() -> None:
    from podcast import Script, Speaker, Turn

    engine = ZipVoiceDialogEngine()
    speakers = (Speaker("S1", "a"), Speaker("S2", "b"), Speaker("S3", "c"))
    script = Script("en", (Turn("S1", "a"), Turn("S3", "c")), speakers, (), "t")
    with pytest.raises(SynthesisError, match="two hosts"):
        engine.check(script, {})
