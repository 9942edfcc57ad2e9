"""``moss-ttsd`` with a tiny v1.0 folder: recognised by its config, three chained blocks through
``podcast-gen synth`` (offline), the cache on a rerun, five speakers, and clear refusals."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import clean_env

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

SCRIPT = (
    "# Three blocks\n"
    "[S1]Welcome back to the show, today we talk about codecs.\n"
    "[S2]Thanks, it is good to be here again.\n"
    "[S1]Codecs turn sound into numbers and back.\n"
    "[S2]And the numbers are what the model writes.\n"
    "[S1]Let us hear how that works in practice.\n"
    "[S2]Sounds good, let us begin.\n"
)


@pytest.fixture(scope="module")
def v1_folders(v1_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Copies of the fixture's tiny LM and codec folders (real layouts) and two references."""
    base = tmp_path_factory.mktemp("v1")
    model = shutil.copytree(v1_dir / "lm", base / "MOSS-TTSD-v1.0", ignore=shutil.ignore_patterns("*.npz", "*.wav"))
    codec = shutil.copytree(v1_dir / "codec", base / "MOSS-Audio-Tokenizer", ignore=shutil.ignore_patterns("*.npz", "*.wav"))
    voices = {}
    for k in (1, 2):
        wav = base / f"s{k}.wav"
        shutil.copy(v1_dir / "codec" / f"prompt_s{k}_24k.wav", wav)
        voices[f"S{k}"] = f"{wav}:This is voice number {k}."
    return {"model": model, "codec": codec, "voices": voices}


def _sets(folders: dict, **extra: object) -> list[str]:
    values = {"model_dir": folders["model"], "codec_dir": folders["codec"], "device": "cpu", "dtype": "fp32",
              "attention": "eager", "block_seconds": 4, "carry_seconds": 2, "max_new_tokens": 40, **extra}  # fmt: skip
    return [a for k, v in values.items() for a in ("--set", f"synthesize.moss-ttsd.{k}={v}")]


def _records(work: Path) -> list[dict]:
    (folder,) = work.iterdir()
    return json.loads((folder / "episode.json").read_text(encoding="utf-8"))["episode"]["records"]


def test_three_chained_blocks_render_offline_and_are_cached(run_cli: Any, tmp_path: Path, v1_folders: dict) -> None:
    script = tmp_path / "show.script.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    voices = [a for s, v in v1_folders["voices"].items() for a in ("--voice", f"{s}={v}")]
    env = clean_env(OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    args = ["synth", str(script), "--synth", "moss-ttsd", "-o", "v1.wav", "--output-dir", "work", "--json",
            *_sets(v1_folders), *voices]  # fmt: skip
    first = run_cli(*args, env=env, timeout=600)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    info = sf.info(str(tmp_path / "v1.wav"))
    assert summary["engine"] == "moss-ttsd" and info.samplerate == 24000 and info.duration > 0.2
    (synth,) = [r for r in _records(tmp_path / "work") if r["kind"] == "synthesize"]
    details = synth["details"]
    assert details["clips"] >= 3 and details["synthesized"] == details["clips"]  # three or more blocks
    again = run_cli(*args[:5], "v1-again.wav", *args[6:], env=env, timeout=600)
    assert again.returncode == 0, again.stderr
    synth_again = [r for r in _records(tmp_path / "work") if r["kind"] == "synthesize"][-1]
    assert synth_again["cached"] or synth_again["details"]["synthesized"] == 0
    a, _ = sf.read(str(tmp_path / "v1.wav"))
    b, _ = sf.read(str(tmp_path / "v1-again.wav"))
    assert np.array_equal(a, b)


def test_v1_folder_is_recognised_and_declares_five_speakers(v1_folders: dict) -> None:
    from podcast.stages.synthesize.moss_ttsd.engine import MossTTSDEngine, MossTTSDOptions, effective_version

    options = MossTTSDOptions(model_dir=str(v1_folders["model"]), codec_dir=str(v1_folders["codec"]), device="cpu")
    assert effective_version(options) == "v1.0"
    caps = MossTTSDEngine(options).capabilities()
    assert caps.max_speakers == 5 and caps.sample_rate == 24000 and caps.normalizer == "moss-v1.0"
    assert not caps.needs_reference and caps.rank > MossTTSDEngine(MossTTSDOptions(device="cpu")).capabilities().rank
    assert MossTTSDEngine.unavailable(options) is None


def test_a_block_of_five_speakers_renders(v1_folders: dict) -> None:
    from podcast import Block, Turn, Voice
    from podcast.stages.synthesize.moss_ttsd.engine import MossTTSDEngine, MossTTSDOptions

    options = MossTTSDOptions(model_dir=str(v1_folders["model"]), codec_dir=str(v1_folders["codec"]), device="cpu",
                              dtype="fp32", attention="eager", max_new_tokens=30, sample=False)  # fmt: skip
    engine = MossTTSDEngine(options)
    turns = tuple(Turn(f"S{k}", f"Speaker {k} says hello.") for k in range(1, 6))
    voices = {f"S{k}": Voice() for k in range(1, 6)}
    ref = Path(v1_folders["voices"]["S1"].split(":")[0])
    voices["S3"] = Voice(ref_audio=ref, ref_text="The third voice.")
    result = engine.synthesize_block(Block(0, turns, tuple(range(5)), "en", voices))
    assert result.audio.sample_rate == 24000 and result.audio.samples.dtype == np.float32
    assert result.spans is not None and len(result.spans) == 5
    assert np.isfinite(result.audio.samples).all()


def test_shared_tagged_reference_is_refused_for_v1(run_cli: Any, tmp_path: Path, v1_folders: dict) -> None:
    script = tmp_path / "s.script.txt"
    script.write_text("[S1]Hello.\n[S2]Hi.\n", encoding="utf-8")
    wav = v1_folders["voices"]["S1"].split(":")[0]
    proc = run_cli("synth", str(script), "--synth", "moss-ttsd", "-o", "x.wav", "--output-dir", "work",
                   *_sets(v1_folders), "--voice", f"S1={wav}:[S1]Hello.[S2]Hi.", env=clean_env(OMP_NUM_THREADS="1"))  # fmt: skip
    assert proc.returncode == 5 and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "one reference per speaker" in errors[0]
