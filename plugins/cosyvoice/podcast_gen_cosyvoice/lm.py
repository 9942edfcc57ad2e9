"""CosyVoice 2 language model (``Qwen2LM`` in ``llm.pt``): text tokens -> speech tokens.

A Qwen2 decoder (written here, with a static KV cache) run on embeddings:
``[sos] + embed_tokens(prompt_text ++ text) + [task_id] + speech_embedding(prompt_speech)``,
then one ``speech_embedding[token]`` per step. Logits are ``llm_decoder`` (Linear H -> 6564 with
bias) on the final-norm hidden state; EOS (6561) is masked below ``min_len``; ids 6561..6563 stop.
Sampling is the reference's ``ras_sampling`` (nucleus 0.8 / top 25 with a repetition fallback)
or greedy argmax.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True, slots=True)
class QwenConfig:
    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    rope_theta: float = 1_000_000.0
    rms_norm_eps: float = 1e-6
    max_position_embeddings: int = 32768

    @classmethod
    def read(cls, path: Path) -> QwenConfig:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: raw[k] for k in cls.__slots__ if k in raw})  # type: ignore[attr-defined]

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = x.dtype
        x = x.float()
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class KVCache:
    """Preallocated keys and values for every layer: [layers, B, kv_heads, capacity, head_dim]."""

    def __init__(self, cfg: QwenConfig, batch: int, capacity: int, device: torch.device, dtype: torch.dtype) -> None:
        shape = (cfg.num_hidden_layers, batch, cfg.num_key_value_heads, capacity, cfg.head_dim)
        self.k = torch.zeros(shape, device=device, dtype=dtype)
        self.v = torch.zeros(shape, device=device, dtype=dtype)
        self.length = 0
        self.capacity = capacity


def _attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None, groups: int) -> torch.Tensor:
    """Grouped-query attention; the KV heads are shared without copies where torch supports it."""
    try:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, enable_gqa=groups > 1)
    except TypeError:  # torch < 2.5
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


class Attention(nn.Module):
    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.cfg = cfg
        h, kv, d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.q_proj = nn.Linear(cfg.hidden_size, h * d)
        self.k_proj = nn.Linear(cfg.hidden_size, kv * d)
        self.v_proj = nn.Linear(cfg.hidden_size, kv * d)
        self.o_proj = nn.Linear(h * d, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache, layer: int,
                start: int) -> torch.Tensor:  # fmt: skip
        b, t, _ = x.shape
        cfg = self.cfg
        q = self.q_proj(x).view(b, t, cfg.num_attention_heads, cfg.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, cfg.num_key_value_heads, cfg.head_dim).transpose(1, 2)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        cache.k[layer, :, :, start : start + t] = k
        cache.v[layer, :, :, start : start + t] = v
        end = start + t
        keys, values = cache.k[layer, :, :, :end], cache.v[layer, :, :, :end]
        mask = None if t == 1 else torch.ones(t, end, dtype=torch.bool, device=x.device).tril(diagonal=start)
        out = _attend(q, keys, values, mask, cfg.num_attention_heads // cfg.num_key_value_heads)
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))


class MLP(nn.Module):
    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.self_attn = Attention(cfg)
        self.mlp = MLP(cfg)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, cache: KVCache, layer: int,
                start: int) -> torch.Tensor:  # fmt: skip
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, cache, layer, start)
        return x + self.mlp(self.post_attention_layernorm(x))


class QwenModel(nn.Module):
    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def rope(self, start: int, length: int, device: torch.device, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.cfg.head_dim
        inv = 1.0 / (self.cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64, device=device).float() / d))
        pos = torch.arange(start, start + length, device=device, dtype=torch.float32)
        freqs = pos[:, None] * inv[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)

    def forward(self, embeds: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Final-norm hidden states of ``embeds [B, t, H]`` appended after ``cache.length`` positions."""
        start, t = cache.length, embeds.shape[1]
        if start + t > cache.capacity:
            raise ValueError("the CosyVoice LM ran past its KV cache")
        cos, sin = self.rope(start, t, embeds.device, embeds.dtype)
        x = embeds
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, cache, i, start)
        cache.length = start + t
        return self.norm(x)


class _CausalLM(nn.Module):
    """``llm.model``: the Qwen2ForCausalLM names (``model.*`` and the tied, unused ``lm_head``)."""

    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.model = QwenModel(cfg)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight


class _Encoder(nn.Module):
    def __init__(self, cfg: QwenConfig) -> None:
        super().__init__()
        self.model = _CausalLM(cfg)


@dataclass(frozen=True, slots=True)
class Sampling:
    """``ras_sampling`` settings (from the yaml); ``greedy`` replaces it by argmax."""

    top_p: float = 0.8
    top_k: int = 25
    win_size: int = 10
    tau_r: float = 0.1
    greedy: bool = False


Observer = Callable[[int, torch.Tensor, torch.Tensor], None]


class Qwen2LM(nn.Module):
    """``llm_embedding`` (sos, task_id), ``llm`` (Qwen2), ``llm_decoder``, ``speech_embedding``."""

    def __init__(self, cfg: QwenConfig, speech_token_size: int = 6561) -> None:
        super().__init__()
        self.cfg = cfg
        self.speech_token_size = speech_token_size
        self.llm_embedding = nn.Embedding(2, cfg.hidden_size)
        self.llm = _Encoder(cfg)
        self.llm_decoder = nn.Linear(cfg.hidden_size, speech_token_size + 3)
        self.speech_embedding = nn.Embedding(speech_token_size + 3, cfg.hidden_size)

    @property
    def qwen(self) -> QwenModel:
        return self.llm.model.model

    def embed_input(self, text: torch.Tensor, prompt_text: torch.Tensor, prompt_speech: torch.Tensor) -> torch.Tensor:
        """The assembled input [1, L, H] (token ids are 1-D tensors)."""
        text_emb = self.qwen.embed_tokens(torch.cat([prompt_text, text]).long())[None]
        sos, task = self.llm_embedding.weight[0], self.llm_embedding.weight[1]
        speech = self.speech_embedding(prompt_speech.long())[None]
        return torch.cat([sos[None, None], text_emb, task[None, None], speech], dim=1)

    def logp(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.llm_decoder(hidden).log_softmax(dim=-1)

    @torch.inference_mode()
    def generate(self, lm_input: torch.Tensor, min_len: int, max_len: int, sampling: Sampling,
                 generator: torch.Generator | None = None, observe: Observer | None = None,
                 forced: list[int] | None = None) -> list[int]:  # fmt: skip
        """Speech tokens (stop token excluded). ``observe(step, hidden, logp)`` sees every step;
        ``forced`` feeds the given tokens instead of sampled ones (teacher forcing, for checks)."""
        eos = self.speech_token_size
        stops = {eos, eos + 1, eos + 2}
        cache = KVCache(self.cfg, 1, lm_input.shape[1] + max_len + 1, lm_input.device, lm_input.dtype)
        x, out = lm_input, []
        for i in range(max_len):
            hidden = self.qwen(x, cache)[:, -1]
            logp = self.logp(hidden)[0]
            if observe is not None:
                observe(i, hidden[0], logp)
            if forced is not None:
                if i >= len(forced):
                    break
                token = forced[i]
            else:
                scores = logp.clone()
                if i < min_len:
                    scores[eos] = float("-inf")
                token = pick(scores, out, sampling, generator)
                if token in stops:
                    break
            out.append(token)
            x = self.speech_embedding.weight[token][None, None]
        return out


def pick(scores: torch.Tensor, decoded: list[int], s: Sampling, generator: torch.Generator | None) -> int:
    """One token from log-probs ``scores`` (after EOS masking), as the reference's sampler does."""
    if s.greedy:
        return int(scores.argmax())
    token = _nucleus(scores, s.top_p, s.top_k, generator)
    if decoded[-s.win_size :].count(token) >= s.win_size * s.tau_r:
        scores = scores.clone()
        scores[token] = float("-inf")
        token = int(scores.softmax(dim=0).multinomial(1, replacement=True, generator=generator))
    return token


def _nucleus(scores: torch.Tensor, top_p: float, top_k: int, generator: torch.Generator | None) -> int:
    values, ids = scores.softmax(dim=0).sort(descending=True, stable=True)
    kept, total = 0, torch.zeros((), dtype=values.dtype)
    while kept < len(values) and kept < top_k and total < top_p:
        total = total + values[kept]  # accumulated in the scores' precision, as the reference does
        kept += 1
    choice = values[:kept].clone().multinomial(1, replacement=True, generator=generator)
    return int(ids[choice])


def build_lm(qwen_config: Path, speech_token_size: int = 6561) -> Qwen2LM:
    return Qwen2LM(QwenConfig.read(qwen_config), speech_token_size)
