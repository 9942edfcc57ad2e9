"""Finding model weights on disk, checked without importing torch; nothing here downloads.

An engine option that names a weights folder may point at a plain checkpoint folder, at a
Hugging Face cache repo folder (``models--org--name``, whose ``refs/main`` names the
snapshot) or be empty, in which case the user's model folder (``EngineContext.model_dir``)
and the HF cache (``HF_HUB_CACHE``, ``HF_HOME/hub`` or ``~/.cache/huggingface/hub``) are
searched for the engine's published repositories.  When nothing complete is found,
:func:`find_weights` raises one line that says which files are missing where it looked and
which option to set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import MissingModelError

__all__ = ["find_weights", "hub_cache", "missing_files", "missing_safetensors", "podcast_cache", "snapshot_of"]

#: A required file: one name, or a tuple of names of which any one will do.
Required = str | tuple[str, ...]


def podcast_cache() -> Path:
    """podcast-gen's own cache folder: ``PODCAST_GEN_CACHE``, else ``$XDG_CACHE_HOME/podcast-gen``,
    else ``~/.cache/podcast-gen`` (not necessarily existing)."""
    if os.environ.get("PODCAST_GEN_CACHE"):
        return Path(os.environ["PODCAST_GEN_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
    return base / "podcast-gen"


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


def missing_files(folder: Path, required: Sequence[Required]) -> list[str]:
    """The entries of ``required`` absent from ``folder`` (a tuple entry is satisfied by any
    one of its names and reported as ``a or b``)."""
    missing = []
    for entry in required:
        names = (entry,) if isinstance(entry, str) else entry
        if not any((folder / name).is_file() for name in names):
            missing.append(" or ".join(names))
    return missing


def missing_safetensors(folder: Path, stem: str = "model") -> list[str]:
    """What is missing of ``<stem>.safetensors`` or of the shards its ``<stem>.safetensors.index.json``
    lists (empty when the weights are complete)."""
    index = folder / f"{stem}.safetensors.index.json"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text()).get("weight_map", {}).values()))
        return [s for s in shards if not (folder / s).is_file()]
    return [] if (folder / f"{stem}.safetensors").is_file() else [f"{stem}.safetensors"]


def find_weights(
    given: str | Path,
    repos: Sequence[str],
    missing: Callable[[Path], list[str]] | Sequence[Required],
    *,
    what: str,
    option: str,
    search: Sequence[Path] = (),
) -> Path:
    """The first complete weights folder.

    :param given: the folder the user configured; when set, it is the only candidate.
    :param repos: published repository ids (``org/name``) to look for in ``search`` folders
        (as ``<folder>/<name>`` or ``<folder>/<org>--<name>``) and in the HF cache.
    :param missing: the files a complete folder holds (see :func:`missing_files`), or a
        function returning what is missing from a folder (empty list = complete).
    :param what: what the weights are, for the message (``"MOSS-TTSD model"``).
    :param option: the ``--set`` key that names the folder (``"synthesize.moss-ttsd.model_dir"``).
    :param search: extra folders to search first, usually ``[engine.context.model_dir]``.
    :raises MissingModelError: one line listing every candidate and what it lacked.
    """
    check = missing if callable(missing) else (lambda folder: missing_files(folder, missing))
    tried = []
    for candidate in _candidates(given, repos, search):
        folder = snapshot_of(candidate)
        if not folder.is_dir():
            tried.append(f"{candidate} (no such folder)")
            continue
        lacking = check(folder)
        if not lacking:
            return folder
        tried.append(f"{folder} (missing {', '.join(lacking)})")
    raise MissingModelError(
        f"{what} files not found: looked in {'; '.join(tried) or 'no folder'}; download them and pass "
        f"--set {option}=FOLDER"
    )


def _candidates(given: str | Path, repos: Sequence[str], search: Sequence[Path]) -> list[Path]:
    if str(given):
        return [Path(given).expanduser()]
    local = [root / spelling for root in search for repo in repos for spelling in _spellings(repo)]
    cache = hub_cache()
    return [*local, *(cache / ("models--" + repo.replace("/", "--")) for repo in repos)]


def _spellings(repo: str) -> tuple[str, ...]:
    return (repo.rsplit("/", 1)[-1], repo.replace("/", "--"))
