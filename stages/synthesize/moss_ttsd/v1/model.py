"""The MossTTSDelay language model (MOSS-TTSD v1.0), weight compatible.

* ``language_model.*``: a transformers ``Qwen3Model`` (its ``embed_tokens`` embeds column 0).
* ``emb_ext.{k}``: one table of ``audio_vocab_size + 1`` rows per codebook; the input embedding
  of a row of ids ``[text, c_1 … c_n]`` is ``embed_tokens(text) + Σ_k emb_ext[k](c_{k+1})``.
* ``lm_heads.0``: the text head (not tied); ``lm_heads.{1..n}``: one head per codebook. All
  heads read the final hidden state; the audio pad logit is ``-inf``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from podcast.errors import MissingModelError

__all__ = ["DelayConfig", "MossTTSDelay", "load_lm"]


@dataclass(frozen=True, slots=True)
class DelayConfig:
    """What the loop and the prompt need from the LM's ``config.json``."""

    n_vq: int
    audio_vocab_size: int
    audio_pad_code: int
    pad_token_id: int
    im_start: int
    im_end: int
    audio_start: int
    audio_end: int
    user_slot: int
    gen_slot: int
    delay_slot: int
    language: Mapping[str, Any]

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> DelayConfig:
        return cls(
            n_vq=int(raw["n_vq"]),
            audio_vocab_size=int(raw.get("audio_vocab_size", 1024)),
            audio_pad_code=int(raw.get("audio_pad_code", 1024)),
            pad_token_id=int(raw.get("pad_token_id", 151643)),
            im_start=int(raw.get("im_start_token_id", 151644)),
            im_end=int(raw.get("im_end_token_id", 151645)),
            audio_start=int(raw.get("audio_start_token_id", 151652)),
            audio_end=int(raw.get("audio_end_token_id", 151653)),
            user_slot=int(raw.get("audio_user_slot_token_id", 151654)),
            gen_slot=int(raw.get("audio_assistant_gen_slot_token_id", 151656)),
            delay_slot=int(raw.get("audio_assistant_delay_slot_token_id", 151662)),
            language=raw["language_config"],
        )

    @property
    def hidden_size(self) -> int:
        return int(self.language["hidden_size"])

    @property
    def vocab_size(self) -> int:
        return int(self.language["vocab_size"])


def _qwen3_config(language: Mapping[str, Any]) -> Any:
    from transformers import Qwen3Config

    return Qwen3Config(**{k: v for k, v in language.items() if k not in ("model_type", "architectures")})


class MossTTSDelay(nn.Module):
    """Qwen3 backbone + codebook embeddings + n_vq + 1 heads (see the module docstring)."""

    def __init__(self, cfg: DelayConfig, attention: str = "sdpa") -> None:
        super().__init__()
        from transformers.models.qwen3.modeling_qwen3 import Qwen3Model

        self.cfg = cfg
        qwen = _qwen3_config(cfg.language)
        qwen._attn_implementation = attention
        self.language_model = Qwen3Model(qwen)
        rows, hidden = cfg.audio_vocab_size + 1, cfg.hidden_size
        self.emb_ext = nn.ModuleList(nn.Embedding(rows, hidden) for _ in range(cfg.n_vq))
        heads = [nn.Linear(hidden, cfg.vocab_size, bias=False)]
        heads += [nn.Linear(hidden, rows, bias=False) for _ in range(cfg.n_vq)]
        self.lm_heads = nn.ModuleList(heads)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """``[B, T, 1 + n_vq]`` ids -> ``[B, T, H]``."""
        out = self.language_model.embed_tokens(ids[..., 0])
        for k, table in enumerate(self.emb_ext):
            out = out + table(ids[..., k + 1])
        return out

    def forward(
        self,
        ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        past_key_values: Any = None,
        use_cache: bool = False,
        output_hidden_states: bool = False,
    ) -> tuple[list[torch.Tensor], Any, tuple[torch.Tensor, ...] | None]:
        """Logits of every head ``[B, T, V_k]`` (audio pad at -inf), the cache, hidden states."""
        out = self.language_model(
            inputs_embeds=self.embed(ids),
            attention_mask=attention_mask,
            use_cache=use_cache,
            output_hidden_states=output_hidden_states,
            **{_CACHE_KWARG: past_key_values},
        )
        hidden = out.last_hidden_state
        logits = [head(hidden) for head in self.lm_heads]
        for audio in logits[1:]:
            audio[..., self.cfg.audio_pad_code] = float("-inf")
        return logits, out.past_key_values, out.hidden_states if output_hidden_states else None


def _cache_kwarg() -> str:
    """transformers renamed ``past_key_values`` to ``cache`` (5.x); use what this version takes."""
    import inspect

    from transformers.models.qwen3.modeling_qwen3 import Qwen3Model

    return "cache" if "cache" in inspect.signature(Qwen3Model.forward).parameters else "past_key_values"


_CACHE_KWARG = _cache_kwarg()


def load_lm(folder: str | Path, device: Any = "cpu", dtype: torch.dtype = torch.float32, attention: str = "sdpa") -> MossTTSDelay:
    """Load a MOSS-TTSD v1.0 model folder (``config.json`` + safetensors, single or sharded)."""
    from podcast.neural.checkpoint import load_strict, read_state_dict

    folder = Path(folder)
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise MissingModelError(f"MOSS-TTSD v1.0 config.json missing in {folder}")
    raw = json.loads(config_path.read_text(encoding="utf-8"))
    if raw.get("model_type") not in ("moss_tts_delay", "moss_ttsd_delay", None):
        raise MissingModelError(f"{folder} is not a MOSS-TTSD v1.0 (MossTTSDelay) folder: model_type {raw.get('model_type')!r}")
    cfg = DelayConfig.from_dict(raw)
    with torch.device("meta"):
        model = MossTTSDelay(cfg, attention)
    state: dict[str, torch.Tensor] = {}
    for file in _weight_files(folder):
        state.update(read_state_dict(file))
    load_strict(model, {k: v.to(dtype) for k, v in state.items()}, what=f"MOSS-TTSD v1.0 weights in {folder}")
    model.language_model.rotary_emb = type(model.language_model.rotary_emb)(config=model.language_model.config)
    return model.to(device=device).eval().requires_grad_(False)


def _weight_files(folder: Path) -> list[Path]:
    single = folder / "model.safetensors"
    if single.is_file():
        return [single]
    index = folder / "model.safetensors.index.json"
    if not index.is_file():
        raise MissingModelError(f"MOSS-TTSD v1.0 weights missing in {folder}: no model.safetensors or model.safetensors.index.json")
    shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
    absent = [s for s in shards if not (folder / s).is_file()]
    if absent:
        raise MissingModelError(f"MOSS-TTSD v1.0 weight shards missing in {folder}: {', '.join(absent)}")
    return [folder / s for s in shards]
