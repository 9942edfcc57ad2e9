"""Where the MOSS-TTSD weights are, checked without importing torch.

A folder option may point at a plain checkpoint folder (``config.json``, ``model.safetensors``
or a sharded index, ``tokenizer.json``…), at a Hugging Face cache repo folder
(``models--org--name``, whose ``refs/main`` names the snapshot) or be empty, in which case the
HF cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or ``~/.cache/huggingface/hub``) is searched for the
published repositories of the chosen version.  Nothing here downloads anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podcast import MissingModelError, find_weights, missing_files, missing_safetensors

__all__ = ["ModelFiles", "find_model_files"]

#: Published LM and codec repositories per version (first found wins).
LM_REPOS = {
    "v0.7": ("OpenMOSS-Team/MOSS-TTSD-v0.7", "fnlp/MOSS-TTSD-v0.7"),
    "v0.5": ("fnlp/MOSS-TTSD-v0.5", "OpenMOSS-Team/MOSS-TTSD-v0.5"),
    "v1.0": ("OpenMOSS-Team/MOSS-TTSD-v1.0",),
}
CODEC_REPOS = {
    "v0.7": ("OpenMOSS-Team/MOSS_TTSD_tokenizer",),
    "v0.5": ("fnlp/XY_Tokenizer_TTSD_V0_32k", "fnlp/XY_Tokenizer_TTSD_V0"),
    "v1.0": ("OpenMOSS-Team/MOSS-Audio-Tokenizer",),
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Resolved folders: ``model_dir`` holds config.json, weights and tokenizer; ``codec_dir``
    holds the XY-Tokenizer config and weights."""

    model_dir: Path
    codec_dir: Path


def missing_lm_files(folder: Path) -> list[str]:
    """Names of the LM files absent from ``folder`` (empty when complete)."""
    return [
        *missing_files(folder, ["config.json"]),
        *missing_safetensors(folder),
        *missing_files(folder, [TOKENIZER_FILES]),
    ]


def missing_v1_codec_files(folder: Path) -> list[str]:
    """What a MOSS-Audio-Tokenizer folder (v1.0 codec) lacks (empty when complete)."""
    return missing_files(folder, ["config.json", "model.safetensors"])


def missing_codec_files(folder: Path) -> list[str]:
    """What the codec loader would not find in ``folder`` (empty when complete)."""
    from .xy_tokenizer.loading import find_codec_files

    try:
        find_codec_files(folder)
    except MissingModelError as exc:
        return [str(exc).split(":")[0].removeprefix("XY-Tokenizer ").strip()]
    return []


def find_model_files(model_dir: str, codec_dir: str, version: str, search: Sequence[Path] = ()) -> ModelFiles:
    """Resolve both folders (``search``: extra folders to look in first, e.g. the user's
    model folder); :class:`MissingModelError` lists what is missing where."""
    option = "synthesize.moss-ttsd."
    lm = find_weights(
        model_dir, LM_REPOS[version], missing_lm_files, what="MOSS-TTSD model", option=option + "model_dir", search=search
    )
    missing_codec = missing_v1_codec_files if version == "v1.0" else missing_codec_files
    codec = find_weights(
        codec_dir, CODEC_REPOS[version], missing_codec, what="MOSS-TTSD codec", option=option + "codec_dir",
        search=search,
    )
    return ModelFiles(lm, codec)


def codec_sample_rate(codec_dir: Path) -> int | None:
    """Output rate of the codec in ``codec_dir`` read from its config file, or ``None``."""
    from .xy_tokenizer.config import load_config_file
    from .xy_tokenizer.loading import find_codec_files

    try:
        config_path, _ = find_codec_files(codec_dir)
        return load_config_file(config_path).output_sample_rate
    except Exception:  # any unreadable config: the caller falls back to the version default
        return None
