"""The Spark-TTS language model (transformers' Qwen2, local files only, float32) and its decode
loop: one prefill of a left-padded batch of prompts, then one token per step into a static
(preallocated) KV cache, sampling as the reference does (temperature, then top-k, then top-p)
or greedily, stopping each row at ``<|im_end|>``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch


@dataclass(frozen=True, slots=True)
class Sampling:
    """Decoding settings; ``temperature <= 0`` means greedy. Reference defaults."""

    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.0
    max_new_tokens: int = 3000


def load_lm(folder: Path, device: str = "cpu") -> tuple[Any, Any]:
    """(model, tokenizer) of ``LLM/``; float32 whatever ``torch_dtype`` the config names (the
    reference passes no dtype)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
    return model.eval().to(device), tokenizer


def generation_defaults(folder: Path) -> dict[str, Any]:
    """Settings the folder's ``generation_config.json`` adds on top of the reference's call."""
    path = folder / "generation_config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    return {k: data[k] for k in ("repetition_penalty", "eos_token_id") if k in data}


def _warp(logits: torch.Tensor, sampling: Sampling) -> torch.Tensor:
    scores = logits / sampling.temperature
    if 0 < sampling.top_k < scores.shape[-1]:
        kth = torch.topk(scores, sampling.top_k).values[..., -1:]
        scores = scores.masked_fill(scores < kth, float("-inf"))
    if sampling.top_p < 1.0:
        ordered, order = torch.sort(scores, descending=False)
        cumulative = ordered.softmax(dim=-1).cumsum(dim=-1)
        drop = cumulative <= 1 - sampling.top_p
        drop[..., -1:] = False
        scores = scores.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    return scores


def _penalise(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    picked = torch.gather(logits, 1, seen)
    picked = torch.where(picked < 0, picked * penalty, picked / penalty)
    return logits.scatter(1, seen, picked)


def pick(logits: torch.Tensor, sampling: Sampling, generator: torch.Generator | None) -> torch.Tensor:
    """Next token per row from logits [B, V]."""
    if sampling.temperature <= 0:
        return logits.argmax(dim=-1)
    probs = _warp(logits.float(), sampling).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


class SparkLM:
    """Batched generation with a static KV cache over a transformers Qwen2 causal LM."""

    def __init__(self, model: Any, eos: int | Sequence[int]) -> None:
        self.model = model
        self.eos = torch.tensor([eos] if isinstance(eos, int) else list(eos))
        # transformers renamed the cache argument (``past_key_values`` -> ``cache``) within 5.x.
        self._cache_arg = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def generate(
        self,
        prompts: Sequence[Sequence[int]],
        sampling: Sampling,
        *,
        generator: torch.Generator | None = None,
        on_step: Callable[[int, torch.Tensor], None] | None = None,
    ) -> list[list[int]]:
        """New token ids per prompt (the stop token included when reached)."""
        from transformers import StaticCache

        device, batch = self.device, len(prompts)
        width = max(len(p) for p in prompts)
        pad = int(self.eos[0])
        ids = torch.full((batch, width), pad, dtype=torch.int64)
        mask = torch.zeros((batch, width), dtype=torch.int64)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(list(prompt))
            mask[row, width - len(prompt) :] = 1
        ids, mask, eos = ids.to(device), mask.to(device), self.eos.to(device)
        cache = StaticCache(config=self.model.config, max_cache_len=width + sampling.max_new_tokens)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self._step(ids, mask, positions, cache, torch.arange(width, device=device))
        seen = ids if sampling.repetition_penalty != 1.0 else None
        done = torch.zeros(batch, dtype=torch.bool, device=device)
        out: list[torch.Tensor] = []
        for step in range(sampling.max_new_tokens):
            if seen is not None:
                logits = _penalise(logits, seen, sampling.repetition_penalty)
            if on_step is not None:
                on_step(step, logits)
            token = torch.where(done, pad, pick(logits, sampling, generator))
            out.append(token)
            done |= torch.isin(token, eos)
            if bool(done.all()) or step + 1 == sampling.max_new_tokens:
                break
            mask = torch.cat([mask, torch.ones((batch, 1), dtype=mask.dtype, device=device)], dim=1)
            positions = positions[:, -1:] + 1
            seen = torch.cat([seen, token[:, None]], dim=1) if seen is not None else None
            cache_position = torch.tensor([width + step], device=device)
            logits = self._step(token[:, None], mask, positions, cache, cache_position)
        return _trim(torch.stack(out, dim=1).tolist() if out else [[] for _ in prompts], eos.tolist())

    def _step(self, ids, mask, positions, cache, cache_position) -> torch.Tensor:  # type: ignore[no-untyped-def]
        out = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions, cache_position=cache_position,
            use_cache=True, logits_to_keep=1, **{self._cache_arg: cache},
        )  # fmt: skip
        return out.logits[:, -1, :].float()


def _trim(rows: list[list[int]], eos: list[int]) -> list[list[int]]:
    """Cut each row after its first stop token (later entries are padding)."""
    trimmed = []
    for row in rows:
        end = next((i + 1 for i, t in enumerate(row) if t in eos), len(row))
        trimmed.append(row[:end])
    return trimmed
