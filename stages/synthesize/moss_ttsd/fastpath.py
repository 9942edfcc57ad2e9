"""Static-KV-cache forward of the MOSS-TTSD backbone, used by the generation loop.

It reads the parameters of the transformers ``Qwen3Model`` held by :class:`MossTTSDLM` (so the
weights are shared, not copied) and reimplements the Qwen3 layer math with a preallocated
cache: no per-step allocation on the host, fixed tensor addresses (CUDA-graph friendly) and
attention over exactly the filled part of the cache in eager mode.

Shapes: ``B`` batch, ``S`` query length, ``L`` cache capacity, ``Hq``/``Hkv`` heads, ``D`` head dim.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .model import MossTTSDLM


@dataclass(frozen=True, slots=True)
class StaticKVCache:
    """Per-layer key/value buffers ``[B, Hkv, L, D]`` and the key validity mask ``[B, L]``."""

    keys: tuple[torch.Tensor, ...]
    values: tuple[torch.Tensor, ...]
    key_valid: torch.Tensor

    @property
    def capacity(self) -> int:
        return self.key_valid.shape[1]


def allocate_cache(lm: MossTTSDLM, batch: int, capacity: int) -> StaticKVCache:
    """Allocate a zeroed cache for ``batch`` rows and ``capacity`` positions."""
    cfg = lm.config
    shape = (batch, cfg.num_key_value_heads, capacity, cfg.head_dim)
    layers = range(cfg.num_hidden_layers)
    keys = tuple(torch.zeros(shape, device=lm.device, dtype=lm.dtype) for _ in layers)
    values = tuple(torch.zeros(shape, device=lm.device, dtype=lm.dtype) for _ in layers)
    valid = torch.zeros(batch, capacity, device=lm.device, dtype=torch.bool)
    cache = StaticKVCache(keys, values, valid)
    _mark_static(cache)
    return cache


def _mark_static(cache: StaticKVCache) -> None:
    # Lets torch.compile/CUDA graphs treat the buffers as fixed addresses mutated in place.
    mark = getattr(getattr(torch, "_dynamo", None), "mark_static_address", None)
    if mark is None:
        return
    for tensor in (*cache.keys, *cache.values, cache.key_valid):
        mark(tensor)


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Qwen3 RMSNorm: normalise in float32, cast back, then scale."""
    xf = x.float()
    xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return weight * xf.to(x.dtype)


def rotary_tables(lm: MossTTSDLM, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """cos/sin tables ``[B, S, D]`` (model dtype) for integer ``positions`` ``[B, S]``."""
    rotary = lm.model.language_model.rotary_emb
    inv_freq = rotary.inv_freq.float()
    freqs = positions.float()[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    scale = float(getattr(rotary, "attention_scaling", 1.0))
    return (emb.cos() * scale).to(lm.dtype), (emb.sin() * scale).to(lm.dtype)


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


def attention_mask(
    cache: StaticKVCache, write_pos: torch.Tensor, kv_len: int
) -> torch.Tensor:
    """Boolean mask ``[B, 1, S, kv_len]``: causal, padding keys hidden.

    A query always sees its own key, so padded positions stay finite (their keys are hidden
    from every valid query anyway).
    """
    keys = torch.arange(kv_len, device=write_pos.device)
    causal = keys[None, :] <= write_pos[:, None]
    own = keys[None, :] == write_pos[:, None]
    valid = cache.key_valid[:, None, :kv_len] | own[None]
    return (causal[None] & valid)[:, None]


def _attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor, eager: bool, scale: float
) -> torch.Tensor:
    if not eager:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale, enable_gqa=True)
    groups = q.shape[1] // k.shape[1]
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    scores = torch.matmul(q, k.transpose(2, 3)) * scale
    scores = scores.masked_fill(~mask, float("-inf"))
    probs = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(probs, v)


def _layer(
    layer: torch.nn.Module,
    h: torch.Tensor,
    rope: tuple[torch.Tensor, torch.Tensor],
    kv: tuple[torch.Tensor, torch.Tensor],
    write_pos: torch.Tensor,
    mask: torch.Tensor,
    eager: bool,
) -> torch.Tensor:
    attn, eps = layer.self_attn, layer.input_layernorm.variance_epsilon
    b, s, _ = h.shape
    x = rms_norm(h, layer.input_layernorm.weight, eps)
    q = attn.q_proj(x).view(b, s, -1, attn.head_dim)
    k = attn.k_proj(x).view(b, s, -1, attn.head_dim)
    v = attn.v_proj(x).view(b, s, -1, attn.head_dim).transpose(1, 2)
    cos, sin = rope[0][:, None], rope[1][:, None]
    q = _rotate(rms_norm(q, attn.q_norm.weight, eps).transpose(1, 2), cos, sin)
    k = _rotate(rms_norm(k, attn.k_norm.weight, eps).transpose(1, 2), cos, sin)
    kv[0].index_copy_(2, write_pos, k)
    kv[1].index_copy_(2, write_pos, v)
    kv_len = mask.shape[-1]
    out = _attend(q, kv[0][:, :, :kv_len], kv[1][:, :, :kv_len], mask, eager, attn.scaling)
    h = h + attn.o_proj(out.transpose(1, 2).reshape(b, s, -1))
    x = rms_norm(h, layer.post_attention_layernorm.weight, eps)
    mlp = layer.mlp
    return h + mlp.down_proj(mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x))


def cached_forward(
    lm: MossTTSDLM,
    input_ids: torch.Tensor,
    positions: torch.Tensor,
    cache: StaticKVCache,
    write_pos: torch.Tensor,
    kv_len: int,
    eager: bool = False,
) -> torch.Tensor:
    """Run ``input_ids`` ``[B, S, C]`` through the backbone, filling the cache.

    ``positions`` ``[B, S]`` are the rotary positions, ``write_pos`` ``[S]`` the cache slots
    (shared by all rows, left padding keeps them aligned); keys ``>= kv_len`` are ignored.
    ``cache.key_valid`` must already mark the written slots. Returns the final hidden state
    ``[B, S, H]`` after the last RMSNorm.
    """
    backbone = lm.model.language_model
    h = lm.model.embed(input_ids)
    rope = rotary_tables(lm, positions)
    mask = attention_mask(cache, write_pos, kv_len)
    for i, layer in enumerate(backbone.layers):
        kv = (cache.keys[i], cache.values[i])
        h = _layer(layer, h, rope, kv, write_pos, mask, eager)
    return rms_norm(h, backbone.norm.weight, backbone.norm.variance_epsilon)
