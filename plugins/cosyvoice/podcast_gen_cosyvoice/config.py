"""Reading a CosyVoice model folder: which files it needs and the sizes in its HyperPyYAML file.

The yaml builds Python objects with tags (``!new:``, ``!name:``, ``!ref``, ``!apply:``). We never
build or call anything from it: tags are read as plain mappings and only the model sizes are used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from podcast import MissingModelError

V2_FILES = ("cosyvoice2.yaml", "llm.pt", "flow.pt", "hift.pt", "campplus.onnx", "speech_tokenizer_v2.onnx")
V3_FILES = ("cosyvoice3.yaml", "llm.pt", "flow.pt", "hift.pt", "campplus.onnx", "speech_tokenizer_v3.onnx")
QWEN_FILES = ("config.json", "vocab.json", "merges.txt", "tokenizer_config.json")
QWEN_FOLDER = "CosyVoice-BlankEN"


class _Tagged(dict):
    """A yaml node with a HyperPyYAML tag; the tag's class name is in ``kind``."""

    kind: str = ""


def _loader() -> type:
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            value = _Tagged(loader.construct_mapping(node, deep=True))
            value.kind = suffix.rsplit(".", 1)[-1]
            return value
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        text = loader.construct_scalar(node)
        return f"!{suffix} {text}" if suffix.startswith("ref") else text

    Loader.add_multi_constructor("!", construct)
    return Loader


def _resolve(value: Any, top: dict) -> Any:
    if isinstance(value, str) and value.startswith("!ref "):
        names = re.findall(r"<([^>]+)>", value)
        if len(names) == 1 and value.strip() == f"!ref <{names[0]}>":
            return _resolve(top.get(names[0]), top)
        return value  # an expression (streaming chunk sizes): not needed here
    if isinstance(value, _Tagged):
        out = _Tagged({k: _resolve(v, top) for k, v in value.items()})
        out.kind = value.kind
        return out
    if isinstance(value, dict):
        return {k: _resolve(v, top) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, top) for v in value]
    return value


def read_yaml(path: Path) -> dict:
    """The yaml file as plain data, references resolved, nothing built."""
    import yaml

    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())  # noqa: S506 (SafeLoader subclass)
    except (OSError, yaml.YAMLError) as exc:
        raise MissingModelError(f"cannot read {path}: {str(exc).splitlines()[0]}") from exc
    if not isinstance(raw, dict):
        raise MissingModelError(f"{path} is not a CosyVoice yaml file")
    return {k: _resolve(v, raw) for k, v in raw.items()}


@dataclass(frozen=True, slots=True)
class ModelFolder:
    """A checked CosyVoice 2 / 3 folder."""

    root: Path
    version: int  # 2 or 3
    yaml: dict

    @property
    def qwen(self) -> Path:
        return self.root / QWEN_FOLDER

    @property
    def speech_tokenizer(self) -> Path:
        return self.root / f"speech_tokenizer_v{self.version}.onnx"


def open_folder(root: str | Path, *, need_lm: bool = True) -> ModelFolder:
    """Check a downloaded CosyVoice2-0.5B (or Fun-CosyVoice3-0.5B) folder; one line naming what is missing."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise MissingModelError(f"CosyVoice model folder {root} does not exist")
    version = 3 if (root / "cosyvoice3.yaml").is_file() and not (root / "cosyvoice2.yaml").is_file() else 2
    wanted = list(V3_FILES if version == 3 else V2_FILES)
    if not need_lm:
        wanted = [f for f in wanted if f.endswith((".yaml",)) or f in ("flow.pt", "hift.pt")]
    else:
        wanted += [f"{QWEN_FOLDER}/{name}" for name in QWEN_FILES]
    missing = [name for name in wanted if not (root / name).is_file()]
    if missing:
        raise MissingModelError(
            f"CosyVoice model folder {root} lacks {', '.join(missing)} "
            "(download FunAudioLLM/CosyVoice2-0.5B completely, CosyVoice-BlankEN included)"
        )
    return ModelFolder(root, version, read_yaml(root / wanted[0]))


def section(cfg: dict, *path: str) -> dict:
    """A nested mapping of the yaml, or a one-line error naming the missing key."""
    node: Any = cfg
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise MissingModelError(f"CosyVoice yaml lacks {'.'.join(path)}")
        node = node[key]
    return node


# ── the released sizes (CosyVoice2-0.5B's cosyvoice2.yaml, Fun-CosyVoice3-0.5B's cosyvoice3.yaml) ──

_HIFT = {
    "in_channels": 80, "base_channels": 512, "nb_harmonics": 8, "sampling_rate": 24000, "nsf_alpha": 0.1,
    "nsf_sigma": 0.003, "nsf_voiced_threshold": 10, "upsample_rates": [8, 5, 3], "upsample_kernel_sizes": [16, 11, 7],
    "istft_params": {"n_fft": 16, "hop_len": 4}, "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5]] * 3, "source_resblock_kernel_sizes": [7, 7, 11],
    "source_resblock_dilation_sizes": [[1, 3, 5]] * 3, "lrelu_slope": 0.1, "audio_limit": 0.99,
    "f0_predictor": {"num_class": 1, "in_channels": 80, "cond_channels": 512},
}  # fmt: skip
_CFM = {"cfm_params": {"t_scheduler": "cosine", "inference_cfg_rate": 0.7}}

RELEASED = {
    2: {
        "flow": {
            "input_size": 512, "output_size": 80, "spk_embed_dim": 192, "vocab_size": 6561, "token_mel_ratio": 2,
            "pre_lookahead_len": 3,
            "encoder": {"input_size": 512, "output_size": 512, "attention_heads": 8, "linear_units": 2048, "num_blocks": 6},
            "decoder": {**_CFM, "estimator": {"in_channels": 320, "out_channels": 80, "channels": [256],
                                              "attention_head_dim": 64, "n_blocks": 4, "num_mid_blocks": 12, "num_heads": 8}},
        },
        "hift": _HIFT,
    },
    3: {
        "flow": {
            "input_size": 80, "output_size": 80, "spk_embed_dim": 192, "vocab_size": 6561, "token_mel_ratio": 2,
            "pre_lookahead_len": 3, "pre_lookahead_layer": {"in_channels": 80, "channels": 1024, "pre_lookahead_len": 3},
            "decoder": {**_CFM, "estimator": {"dim": 1024, "depth": 22, "heads": 16, "dim_head": 64, "ff_mult": 2,
                                              "mel_dim": 80, "mu_dim": 80, "spk_dim": 80}},
        },
        "hift": {**_HIFT, "conv_pre_look_right": 4},
    },
}  # fmt: skip
RELEASED_QWEN = {
    "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
    "num_attention_heads": 14, "num_key_value_heads": 2, "rope_theta": 1000000.0, "rms_norm_eps": 1e-6,
}  # fmt: skip
