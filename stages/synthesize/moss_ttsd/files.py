"""Where the MOSS-TTSD weights are, checked without importing torch.

A folder option may point at a plain checkpoint folder (``config.json``, ``model.safetensors``
or a sharded index, ``tokenizer.json``…), at a Hugging Face cache repo folder
(``models--org--name``, whose ``refs/main`` names the snapshot) or be empty, in which case the
HF cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or ``~/.cache/huggingface/hub``) is searched for the
published repositories of the chosen version.  Nothing here downloads anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from podcast.errors import MissingModelError

__all__ = ["ModelFiles", "find_model_files", "hub_cache", "snapshot_of"]

#: Published LM and codec repositories per version (first found wins).
LM_REPOS = {
    "v0.7": ("OpenMOSS-Team/MOSS-TTSD-v0.7", "fnlp/MOSS-TTSD-v0.7"),
    "v0.5": ("fnlp/MOSS-TTSD-v0.5", "OpenMOSS-Team/MOSS-TTSD-v0.5"),
}
CODEC_REPOS = {
    "v0.7": ("OpenMOSS-Team/MOSS_TTSD_tokenizer",),
    "v0.5": ("fnlp/XY_Tokenizer_TTSD_V0_32k", "fnlp/XY_Tokenizer_TTSD_V0"),
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """Resolved folders: ``model_dir`` holds config.json, weights and tokenizer; ``codec_dir``
    holds the XY-Tokenizer config and weights."""

    model_dir: Path
    codec_dir: Path


def hub_cache() -> Path:
    """The Hugging Face hub cache folder (not necessarily existing)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser()
    return home / "hub"


def snapshot_of(folder: Path) -> Path:
    """``folder`` itself, or the snapshot of an HF cache repo folder (``refs/main``, else the
    newest snapshot)."""
    snapshots = folder / "snapshots"
    if not snapshots.is_dir():
        return folder
    ref = folder / "refs" / "main"
    if ref.is_file() and (snapshots / ref.read_text().strip()).is_dir():
        return snapshots / ref.read_text().strip()
    found = sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else folder


def _candidates(given: str, repos: tuple[str, ...]) -> list[Path]:
    if given:
        return [Path(given).expanduser()]
    cache = hub_cache()
    return [cache / ("models--" + repo.replace("/", "--")) for repo in repos]


def missing_lm_files(folder: Path) -> list[str]:
    """Names of the LM files absent from ``folder`` (empty when complete)."""
    missing = [] if (folder / "config.json").is_file() else ["config.json"]
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        missing += [s for s in shards if not (folder / s).is_file()]
    elif not (folder / "model.safetensors").is_file():
        missing.append("model.safetensors")
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        missing.append(" or ".join(TOKENIZER_FILES))
    return missing


def missing_codec_files(folder: Path) -> list[str]:
    """What the codec loader would not find in ``folder`` (empty when complete)."""
    from .xy_tokenizer.loading import find_codec_files

    try:
        find_codec_files(folder)
    except MissingModelError as exc:
        return [str(exc).split(":")[0].removeprefix("XY-Tokenizer ").strip()]
    return []


def _find(given: str, repos: tuple[str, ...], what: str, missing_of) -> Path:
    tried = []
    for candidate in _candidates(given, repos):
        folder = snapshot_of(candidate)
        if not folder.is_dir():
            tried.append(f"{candidate} (no such folder)")
            continue
        missing = missing_of(folder)
        if not missing:
            return folder
        tried.append(f"{folder} (missing {', '.join(missing)})")
    option = "model_dir" if what == "model" else "codec_dir"
    raise MissingModelError(
        f"MOSS-TTSD {what} files not found: looked in {'; '.join(tried)}; download them and pass "
        f"--set synthesize.moss-ttsd.{option}=FOLDER"
    )


def find_model_files(model_dir: str, codec_dir: str, version: str) -> ModelFiles:
    """Resolve both folders; :class:`MissingModelError` lists what is missing where."""
    lm = _find(model_dir, LM_REPOS[version], "model", missing_lm_files)
    codec = _find(codec_dir, CODEC_REPOS[version], "codec", missing_codec_files)
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
