"""Offline loading of MOSS-TTSD LM checkpoints (HF folder layout or an HF cache repo folder).

Nothing here downloads or runs remote code: files are read from the given folder only, and a
missing file raises :class:`podcast.errors.MissingModelError` naming what was looked for where.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from podcast import MissingModelError

from .config import MossTTSDConfig, load_config
from .model import MossTTSDLM, build_lm, reset_rotary, set_attention

DTYPES = {
    "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
    "fp16": torch.float16, "float16": torch.float16, "half": torch.float16,
    "fp32": torch.float32, "float32": torch.float32, "float": torch.float32,
}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
_IGNORED_PREFIXES = ("lm_heads.",)  # heads are tied to the embeddings; saved copies lose


def parse_dtype(dtype: str | torch.dtype) -> torch.dtype:
    """``"bf16"``/``"fp16"``/``"fp32"`` (or a torch dtype) → torch dtype."""
    if isinstance(dtype, torch.dtype):
        return dtype
    try:
        return DTYPES[dtype.lower()]
    except KeyError:
        raise ValueError(f"dtype must be one of bf16, fp16, fp32; got {dtype!r}") from None


def resolve_model_dir(folder: str | Path) -> Path:
    """The folder holding ``config.json``: ``folder`` itself or its HF-cache snapshot.

    For an HF cache repo folder (``models--org--name``) the snapshot named by ``refs/main`` is
    used, else the newest snapshot that has a ``config.json``.
    """
    root = Path(folder).expanduser()
    if (root / "config.json").is_file():
        return root
    snapshots = root / "snapshots"
    ref = root / "refs" / "main"
    if ref.is_file() and (snapshots / ref.read_text().strip() / "config.json").is_file():
        return snapshots / ref.read_text().strip()
    if snapshots.is_dir():
        found = sorted((p for p in snapshots.iterdir() if (p / "config.json").is_file()),
                       key=lambda p: p.stat().st_mtime)
        if found:
            return found[-1]
    raise MissingModelError(
        f"MOSS-TTSD model files missing: config.json not found in {root} (nor in {snapshots}/*); "
        "download the checkpoint folder and pass its path"
    )


def weight_files(model_dir: Path) -> list[Path]:
    """The safetensors files of a checkpoint (single file or sharded with an index)."""
    single = model_dir / "model.safetensors"
    if single.is_file():
        return [single]
    index = model_dir / "model.safetensors.index.json"
    if not index.is_file():
        raise MissingModelError(
            f"MOSS-TTSD weights missing: neither model.safetensors nor "
            f"model.safetensors.index.json in {model_dir}"
        )
    shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
    absent = [s for s in shards if not (model_dir / s).is_file()]
    if absent:
        raise MissingModelError(f"MOSS-TTSD weight shards missing in {model_dir}: {', '.join(absent)}")
    return [model_dir / s for s in shards]


def read_state_dict(files: list[Path], device: str | torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """Tensors of ``files`` on ``device``; floating-point ones converted to ``dtype``."""
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    for file in files:
        for name, tensor in load_file(str(file), device=str(device)).items():
            state[name] = tensor.to(dtype) if tensor.is_floating_point() else tensor
    return state


def load_lm(
    folder: str | Path,
    device: str | torch.device = "cpu",
    dtype: str | torch.dtype = torch.bfloat16,
    attention: str = "sdpa",
) -> MossTTSDLM:
    """Load the LM from a local checkpoint folder (never downloads, never runs remote code)."""
    model_dir = resolve_model_dir(folder)
    config = load_config(model_dir, attention="eager")
    state = read_state_dict(weight_files(model_dir), device, parse_dtype(dtype))
    lm = assign_state(config, state)
    set_attention(lm, attention)
    return lm


def assign_state(config: MossTTSDConfig, state: dict[str, torch.Tensor]) -> MossTTSDLM:
    """Build the model on the meta device and adopt ``state`` (strict: names must match).

    ``lm_heads.*`` entries are dropped: the heads are tied to the embeddings, which win.
    """
    state = {k: v for k, v in state.items() if not k.startswith(_IGNORED_PREFIXES)}
    with torch.device("meta"):
        lm = MossTTSDLM(config)
    expected = set(lm.state_dict())
    missing = sorted(expected - set(state))
    unexpected = sorted(set(state) - expected)
    if missing or unexpected:
        raise MissingModelError(
            f"MOSS-TTSD checkpoint does not match the model: missing {missing[:4]}"
            f"{'...' if len(missing) > 4 else ''}, unexpected {unexpected[:4]}"
        )
    lm.load_state_dict(state, strict=True, assign=True)
    reset_rotary(lm)
    return lm.eval().requires_grad_(False)


def load_tokenizer(folder: str | Path):  # -> transformers.PreTrainedTokenizerBase
    """The HF tokenizer stored with the checkpoint (local files only, no remote code)."""
    model_dir = resolve_model_dir(folder)
    if not any((model_dir / f).is_file() for f in TOKENIZER_FILES):
        raise MissingModelError(
            f"MOSS-TTSD tokenizer missing: none of {', '.join(TOKENIZER_FILES)} in {model_dir}"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True, trust_remote_code=False)


__all__ = ["build_lm", "load_lm", "load_tokenizer", "parse_dtype", "resolve_model_dir"]
