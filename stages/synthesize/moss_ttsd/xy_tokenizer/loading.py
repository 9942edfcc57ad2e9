"""Build the codec and load reference checkpoints from local files (never downloads).

Accepted layouts:

* a folder holding a config (reference YAML with ``generator_params``, or JSON) and weights
  (``*.safetensors``, ``xy_tokenizer.ckpt`` / ``*.ckpt`` / ``*.pt`` / ``*.pth`` / ``*.bin``, or an
  extension-less file named like the YAML, e.g. ``MOSS_TTSD_tokenizer`` next to
  ``MOSS_TTSD_tokenizer.yaml``);
* a weights file, with the config found next to it or passed as ``config=``;
* weights alone: the published configuration whose tensor shapes match is used.

Torch checkpoints are read with ``torch.load(weights_only=True)``; the state dict may be nested
(``generator``/``state_dict``/``model`` keys) and prefixed (``generator.``, ``model.`` ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from podcast import ConfigError, MissingModelError

from .config import CodecConfig, load_config_file, parse_generator_params
from .presets import PRESETS, preset_config

if TYPE_CHECKING:
    import torch

    from .model import XYTokenizer

__all__ = [
    "build_codec",
    "find_codec_files",
    "infer_preset",
    "load_codec",
    "normalize_state_dict",
]

_WEIGHT_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin")
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
_ANCHOR = "quantizer.quantizers.0.codebook"  # present in every XY-Tokenizer state dict
_NESTING_KEYS = ("generator", "state_dict", "model", "module")


def build_codec(cfg: CodecConfig | Mapping[str, Any], device: Any = "cpu") -> XYTokenizer:
    """An un-initialised (random or meta) codec for ``cfg``; ``device="meta"`` allocates nothing."""
    import torch

    from .model import XYTokenizer

    if not isinstance(cfg, CodecConfig):
        cfg = parse_generator_params(cfg)
    with torch.device(device):
        return XYTokenizer(cfg).eval()


def _is_config(path: Path) -> bool:
    if path.suffix.lower() not in _CONFIG_SUFFIXES or not path.is_file():
        return False
    text = path.read_text(encoding="utf-8", errors="replace")
    return "quantizer_kwargs" in text


def find_codec_files(
    path: str | Path, config: str | Path | None = None
) -> tuple[Path | None, Path]:
    """(config file or None, weights file) for a folder or a weights path.

    Raises MissingModelError naming what was looked for when the weights are absent.
    """
    path = Path(path).expanduser()
    folder = path if path.is_dir() else path.parent
    if not path.exists():
        raise MissingModelError(
            f"XY-Tokenizer codec not found at {path}: pass a folder with its YAML/JSON config and "
            "weights (*.safetensors or xy_tokenizer.ckpt)."
        )
    configs = [Path(config)] if config else sorted(p for p in folder.iterdir() if _is_config(p))
    cfg_path = configs[0] if configs and configs[0].is_file() else None
    if path.is_file():
        return cfg_path, path
    stems = {c.stem for c in configs} | set(PRESETS)
    candidates = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file() and (p.suffix.lower() in _WEIGHT_SUFFIXES or p.name in stems)
    ]
    if not candidates:
        raise MissingModelError(
            f"XY-Tokenizer weights not found in {folder} (looked for *.safetensors, *.ckpt, *.pt, "
            f"*.pth, *.bin, or a file named {', '.join(sorted(stems))}); "
            "download the codec checkpoint there."
        )
    return cfg_path, candidates[0]


def infer_preset(state: Mapping[str, Any]) -> str | None:
    """Name of the published preset whose tensor names and shapes ``state`` has exactly."""
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    for name in PRESETS:
        model = build_codec(preset_config(name), device="meta")
        if shapes == {k: tuple(v.shape) for k, v in model.state_dict().items()}:
            return name
    return None


def _resolve_config(
    cfg_path: Path | None, config: str | Path | None, state: Mapping[str, Any], where: Path
) -> CodecConfig:
    if isinstance(config, str) and config in PRESETS and not Path(config).exists():
        return preset_config(config)
    if cfg_path is not None:
        return load_config_file(cfg_path)
    name = infer_preset(state)
    if name is None:
        raise MissingModelError(
            f"XY-Tokenizer config not found in {where} (looked for *.yaml/*.yml/*.json with "
            "generator_params) and the weights match no published config; pass config= "
            "or copy the reference YAML next to the weights."
        )
    return preset_config(name)


def _read_weights(path: Path, trust_pickle: bool) -> Mapping[str, Any]:
    import torch

    if path.suffix.lower() == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        return torch.load(path, map_location="cpu", weights_only=not trust_pickle)
    except Exception as exc:  # pickle refusals come as several exception types
        hint = "" if trust_pickle else " (if you trust the file, load it with trust_pickle=True)"
        raise ConfigError(
            f"cannot read codec checkpoint {path}: {str(exc).splitlines()[0]}{hint}"
        ) from exc


def normalize_state_dict(raw: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """Unwrap nesting and strip the common key prefix so names match :class:`XYTokenizer`."""
    import torch

    sd: Any = raw
    while not any(k.endswith(_ANCHOR) for k in sd):
        inner = next((sd[k] for k in _NESTING_KEYS if isinstance(sd.get(k), Mapping)), None)
        if inner is None:
            raise ConfigError(
                f"checkpoint holds no XY-Tokenizer weights (no key ending in {_ANCHOR!r})."
            )
        sd = inner
    anchor = next(k for k in sd if k.endswith(_ANCHOR))
    prefix = anchor[: -len(_ANCHOR)]
    return {
        k[len(prefix) :]: v
        for k, v in sd.items()
        if k.startswith(prefix) and isinstance(v, torch.Tensor)
    }


def _check_inited(model: XYTokenizer) -> None:
    for i, vq in enumerate(model.quantizer.quantizers):
        if not bool(vq.inited.all()):
            raise ConfigError(
                f"codec checkpoint quantizer {i} has inited=False (an untrained codebook); "
                "use the released XY-Tokenizer checkpoint."
            )


def load_codec(
    path: str | Path,
    device: Any = "cpu",
    dtype: torch.dtype | None = None,
    config: str | Path | None = None,
    trust_pickle: bool = False,
) -> XYTokenizer:
    """Load an XY-Tokenizer from local files, strictly (every tensor present, no unknown ones).

    Args:
        path: folder or weights file (see module docstring).
        device: target device; dtype: e.g. ``torch.bfloat16`` on GPU. The quantizer and the ISTFT
            stay float32 (as the reference computes them).
        config: explicit config file when it is not next to the weights, or a preset name
            (``MOSS_TTSD_tokenizer``, ``xy_tokenizer_32k_config``, ``xy_tokenizer_config``).
            Without either, a published config whose shapes match the weights is used.
        trust_pickle: allow full unpickling of a torch checkpoint that ``weights_only`` refuses.
    """
    import torch

    cfg_path, weights_path = find_codec_files(path, None if config in PRESETS else config)
    state = normalize_state_dict(_read_weights(weights_path, trust_pickle))
    cfg = _resolve_config(cfg_path, config, state, weights_path.parent)
    model = build_codec(cfg, device="meta")
    expected = set(model.state_dict())
    ours = {
        k: v
        for k, v in state.items()
        if k in expected or k.split(".")[0] in dict(model.named_children())
    }
    try:
        model.load_state_dict(ours, strict=True, assign=True)
    except RuntimeError as exc:
        raise ConfigError(
            f"codec weights {weights_path} do not match config {cfg.source}: "
            f"{' '.join(str(exc).split())[:300]}"
        ) from exc
    _check_inited(model)
    model = model.to(device=device, dtype=torch.float32)
    if dtype is not None and dtype != torch.float32:
        model = model.to(dtype)
        model.quantizer.float()
        model.enhanced_vocos.head.istft.float()
    return model.requires_grad_(False).eval()
