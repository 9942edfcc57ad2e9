"""Helpers for the moss-ttsd engine tests: a tiny but real MOSS-TTSD model folder.

The real Qwen/MOSS-TTSD tokenizer is not available offline, so the folder gets a small real
Hugging Face tokenizer (``tokenizers`` WordLevel over single characters, saved with
``save_pretrained``) whose ids equal the fixture stub's: the MOSS-TTSD special tokens at the
ids of ``inputs_meta.json → stub_tokenizer``, the pad ``<|endoftext|>`` at 151643, and every
character of a test alphabet at ``ord(c)``.  The engine loads it through ``AutoTokenizer``
exactly as it would load the checkpoint's own tokenizer.
"""

from __future__ import annotations

import json
import shutil
import string
from pathlib import Path

import numpy as np
import pytest

from podcast import Voice
from tests.conftest import moss_fixtures

PAD_TOKEN = "<|endoftext|>"
#: Characters the tiny tokenizer knows (ASCII, Latin-1, common CJK punctuation and text).
ALPHABET = (
    string.printable
    + "".join(chr(c) for c in range(0xA0, 0x100))
    + "，。？！：；、“”‘’（）《》…—"
    + "这是第一二段参考你好今天我们聊语音合成的很期待欢迎收听本期节目大家"
)


def build_tokenizer(
    folder: Path, special: dict[str, int], pad_id: int, alphabet: str = ALPHABET
) -> None:
    """Save a character-level HF tokenizer with ``special`` tokens at fixed ids into ``folder``."""
    from tokenizers import AddedToken, Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: ord(c) for c in dict.fromkeys(alphabet) if ord(c) < pad_id}
    vocab.update({PAD_TOKEN: pad_id, **special})
    tok = Tokenizer(models.WordLevel(vocab, unk_token=PAD_TOKEN))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in [PAD_TOKEN, *special]]
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=PAD_TOKEN, eos_token=PAD_TOKEN)
    fast.save_pretrained(str(folder))


def build_model_folder(folder: Path, lm_fixture: Path, stub_spec: dict) -> Path:
    """A MOSS-TTSD checkpoint folder: the fixture's tiny LM + the tiny tokenizer."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "model.safetensors"):
        (folder / name).symlink_to(lm_fixture / name)
    build_tokenizer(
        folder,
        {k: int(v) for k, v in stub_spec["special_tokens"].items()},
        int(stub_spec["pad_token_id"]),
    )
    return folder


def build_codec_folder(folder: Path, codec_fixture: Path) -> Path:
    """An XY-Tokenizer folder holding the fixture's tiny config and weights."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(codec_fixture / "tiny_config.json", folder / "tiny_config.json")
    (folder / "model.safetensors").symlink_to(codec_fixture / "model.safetensors")
    return folder


def write_references(folder: Path, wav16k: np.ndarray) -> dict[str, tuple[Path, str]]:
    """Two 1 s reference clips cut from the codec test signal, with transcripts."""
    import soundfile as sf

    half = len(wav16k) // 2
    refs = {"S1": (folder / "s1.wav", "Hello there."), "S2": (folder / "s2.wav", "Hi, welcome.")}
    sf.write(str(refs["S1"][0]), wav16k[:half], 16000, subtype="FLOAT")
    sf.write(str(refs["S2"][0]), wav16k[half:], 16000, subtype="FLOAT")
    return refs


# ── fixtures (import them by name into a test module) ───────────────────────────


def _fixture_root() -> Path:
    return moss_fixtures()


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"MOSS-TTSD fixture missing: {path} (set MOSS_FIXTURES)")
    return path


@pytest.fixture(scope="session")
def tiny_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``model``, ``codec`` folders and ``s1``/``s2`` reference clips (+ transcripts in ``texts``)."""
    import soundfile as sf

    root = _fixture_root()
    lm, codec = _require(root / "lm"), _require(root / "codec")
    for path in (
        lm / "config.json",
        lm / "model.safetensors",
        lm / "inputs_meta.json",
        codec / "tiny_config.json",
        codec / "model.safetensors",
        codec / "test_16k.wav",
    ):
        _require(path)
    base = tmp_path_factory.mktemp("moss")
    spec = json.loads((lm / "inputs_meta.json").read_text(encoding="utf-8"))["stub_tokenizer"]
    wav, _ = sf.read(str(codec / "test_16k.wav"), dtype="float32")
    refs = write_references(base, wav)
    return {
        "model": build_model_folder(base / "model", lm, spec),
        "codec": build_codec_folder(base / "codec", codec),
        "s1": refs["S1"][0],
        "s2": refs["S2"][0],
        "texts": {k: v[1] for k, v in refs.items()},  # type: ignore[dict-item]
    }


def reference_voices(folders: dict) -> dict[str, Voice]:
    """S1 and S2's reference voices from the tiny folders (clip + exact transcript)."""
    return {s: Voice(ref_audio=folders[s.lower()], ref_text=folders["texts"][s]) for s in ("S1", "S2")}


def engine_options(folders: dict, **extra: object) -> dict[str, object]:
    """Option values that run the tiny folder fast on CPU."""
    return {
        "model_dir": str(folders["model"]),
        "codec_dir": str(folders["codec"]),
        "device": "cpu",
        "dtype": "fp32",
        "attention": "eager",
        "max_new_tokens": 80,
        **extra,
    }


ATOL_WAV = 1e-4  # waveform bound suggested by the fixture README


@pytest.fixture(scope="session")
def engine_codec() -> object:
    """The tiny reference codec, float32 on CPU."""
    import torch

    from podcast.stages.synthesize.moss_ttsd.xy_tokenizer import load_codec

    torch.set_num_threads(1)
    return load_codec(_require(_fixture_root() / "codec"), device="cpu")


@pytest.fixture(scope="session")
def test_wav() -> np.ndarray:
    """The fixture's 2 s 16 kHz test signal."""
    import soundfile as sf

    wav, _ = sf.read(str(_require(_fixture_root() / "codec" / "test_16k.wav")), dtype="float32")
    return wav


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(_require(path)) as data:
        return {k: data[k] for k in data.files}


def prompt_length(meta: dict, item: int, default: int) -> int:
    """Prompt samples of LM item ``item`` ("…, first N samples" in inputs_meta.json)."""
    import re

    match = re.search(r"first (\d+) samples", str(meta["items"][item].get("prompt_audio", "")))
    return int(match.group(1)) if match else default


def max_abs(actual: np.ndarray, expected: np.ndarray) -> float:
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    return (
        float(np.abs(actual.astype(np.float64) - expected.astype(np.float64)).max())
        if actual.size
        else 0.0
    )


@pytest.fixture(autouse=True)
def one_thread() -> object:
    """Tiny models run fastest on one thread (two cores are shared by several suites)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
