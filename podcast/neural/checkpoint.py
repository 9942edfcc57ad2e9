"""Checkpoint helpers: reading weight files, weight-norm key spellings, strict loading with a
one-line error, and parameter manifests (names and shapes) for checks at full size.

All loading is local and offline; pickled checkpoints are read with ``weights_only=True``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from podcast.errors import MissingModelError

__all__ = ["load_strict", "manifest", "manifest_differences", "read_state_dict", "weight_norm_keys"]

_PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".ckpt")


def read_state_dict(path: str | Path, *, trust_pickle: bool = False) -> dict[str, torch.Tensor]:
    """Tensors of one weight file on the CPU: ``.safetensors``, or a torch pickle
    (``.pt``/``.pth``/``.bin``/``.ckpt``) read with ``weights_only`` unless ``trust_pickle``.

    Non-tensor entries at the top level are kept as they are (callers unwrap nesting such as
    ``{"model": ...}`` themselves). Raises :class:`~podcast.MissingModelError` (one line) when the
    file is absent or unreadable.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingModelError(f"weight file {path} does not exist")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        return torch.load(path, map_location="cpu", weights_only=not trust_pickle, mmap=_mmappable(path))
    except Exception as exc:  # torch/safetensors report damage and pickle refusals as many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise MissingModelError(f"cannot read weight file {path}: {first}") from exc


def _mmappable(path: Path) -> bool:
    """torch.load can memory-map only the zip format (not legacy pickles)."""
    import zipfile

    return path.suffix.lower() in _PICKLE_SUFFIXES and zipfile.is_zipfile(path)


_LEGACY = re.compile(r"^(?P<m>.*\.)?weight_(?P<p>[gv])$")
_PARAMETRIZED = re.compile(r"^(?P<m>.*\.)?parametrizations\.weight\.original(?P<i>[01])$")


def weight_norm_keys(
    state: Mapping[str, torch.Tensor], style: Literal["parametrizations", "legacy"] = "parametrizations"
) -> dict[str, torch.Tensor]:
    """``state`` with every weight-norm pair spelled one way.

    ``X.weight_g``/``X.weight_v`` (``torch.nn.utils.weight_norm``) and
    ``X.parametrizations.weight.original0``/``original1`` (``torch.nn.utils.parametrizations``)
    hold the same tensors; checkpoints come in both spellings.
    """
    out: dict[str, torch.Tensor] = {}
    for name, tensor in state.items():
        legacy, param = _LEGACY.match(name), _PARAMETRIZED.match(name)
        if style == "parametrizations" and legacy:
            name = f"{legacy['m'] or ''}parametrizations.weight.original{0 if legacy['p'] == 'g' else 1}"
        elif style == "legacy" and param:
            name = f"{param['m'] or ''}weight_{'g' if param['i'] == '0' else 'v'}"
        out[name] = tensor
    return out


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *, what: str) -> None:
    """Load ``state`` into ``module`` (``assign=True``: meta-device modules take the tensors).

    Every parameter and buffer must be present with its shape and nothing may be left over;
    otherwise raises :class:`~podcast.MissingModelError` naming ``what`` and the first few names.
    """
    problems = manifest_differences(module, {k: tuple(v.shape) for k, v in state.items()})
    if problems:
        more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
        raise MissingModelError(f"{what} does not match the model: {'; '.join(problems[:4])}{more}")
    module.load_state_dict(dict(state), strict=True, assign=True)


def manifest(module: nn.Module) -> dict[str, list[int]]:
    """Names and shapes of every parameter and persistent buffer (works on the meta device)."""
    return {name: list(t.shape) for name, t in module.state_dict(keep_vars=True).items()}


def manifest_differences(module: nn.Module, expected: Mapping[str, Sequence[int]]) -> list[str]:
    """What differs between ``module``'s manifest and ``expected``; empty when identical."""
    ours = manifest(module)
    problems = [f"missing {n}" for n in ours if n not in expected]
    problems += [f"unexpected {n}" for n in expected if n not in ours]
    problems += [
        f"{n}: expected {list(expected[n])}, model has {shape}"
        for n, shape in ours.items()
        if n in expected and list(expected[n]) != shape
    ]
    return problems
