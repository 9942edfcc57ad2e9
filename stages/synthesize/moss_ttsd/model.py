"""The MOSS-TTSD v0.5/v0.7 language model ("AsteroidTTSInstruct"), weight compatible.

Layout (parameter names identical to the reference checkpoint):

* ``model.embedding_list.{i}.weight``: channel 0 ``[vocab_size, H]`` (text + speech codebook 0),
  channels 1..7 ``[speech_vocab_size, H]``; the input is the **sum** of the 8 embeddings.
* ``model.language_model.*``: a transformers ``Qwen3Model``; its ``embed_tokens`` is stored but
  never used (the backbone always receives ``inputs_embeds``).
* The 8 output heads are tied to the embeddings: logits of channel i are
  ``hidden @ embedding_list[i].weight.T``; no ``lm_heads.*`` tensors exist.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers.models.qwen3.modeling_qwen3 import Qwen3Model, Qwen3RotaryEmbedding

from .config import MossTTSDConfig

#: Attention implementations accepted by :func:`set_attention`.
ATTENTION_IMPLEMENTATIONS = ("eager", "sdpa", "flash_attention_2")


@dataclass(frozen=True, slots=True)
class LMOutput:
    """Result of :meth:`MossTTSDLM.forward`.

    ``hidden``: final hidden state after the last RMSNorm, ``[B, S, H]``.
    ``logits``: 8 tensors, channel 0 ``[B, S, vocab_size]``, others ``[B, S, speech_vocab_size]``
    (in the model dtype). ``hidden_states``: embeddings, each layer's output, then ``hidden``
    (``num_hidden_layers + 1`` tensors, HF convention) when requested, else ``None``.
    """

    hidden: torch.Tensor
    logits: tuple[torch.Tensor, ...]
    hidden_states: tuple[torch.Tensor, ...] | None


class AsteroidBody(nn.Module):
    """Channel embeddings + Qwen3 backbone (the reference ``AsteroidTTSModel``)."""

    def __init__(self, config: MossTTSDConfig) -> None:
        super().__init__()
        hidden = config.hidden_size
        tables = [nn.Embedding(config.vocab_size, hidden, config.text_pad_id)]
        tables += [
            nn.Embedding(config.speech_vocab_size, hidden, config.speech_pad_token)
            for _ in range(1, config.channels)
        ]
        self.embedding_list = nn.ModuleList(tables)
        self.language_model = Qwen3Model(config)

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Sum of the channel embeddings: ``[B, S, C]`` ids → ``[B, S, H]`` (model dtype)."""
        if input_ids.shape[-1] != len(self.embedding_list):
            raise ValueError(f"expected {len(self.embedding_list)} channels, got {input_ids.shape[-1]}")
        out = self.embedding_list[0](input_ids[..., 0])
        for i in range(1, len(self.embedding_list)):
            out = out + self.embedding_list[i](input_ids[..., i])
        return out


class MossTTSDLM(nn.Module):
    """MOSS-TTSD LM: ``[B, S, 8]`` token ids → per-channel logits (heads tied to embeddings)."""

    def __init__(self, config: MossTTSDConfig) -> None:
        super().__init__()
        self.config = config
        self.model = AsteroidBody(config)

    @property
    def device(self) -> torch.device:
        return self.model.embedding_list[0].weight.device

    @property
    def dtype(self) -> torch.dtype:
        return self.model.embedding_list[0].weight.dtype

    def head_weights(self) -> list[torch.Tensor]:
        """The tied output-head matrices, one per channel (``[V_i, H]``)."""
        return [table.weight for table in self.model.embedding_list]

    def channel_logits(self, hidden: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Logits of every channel for ``hidden`` ``[..., H]`` (model dtype)."""
        return tuple(torch.nn.functional.linear(hidden, w) for w in self.head_weights())

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        output_hidden_states: bool = False,
    ) -> LMOutput:
        """Plain (cache-free) forward through the transformers backbone.

        Uses ``config._attn_implementation`` (eager, sdpa or flash_attention_2). Padded query
        positions attend to nothing, so their outputs are implementation-defined.
        """
        embeds = self.model.embed(input_ids)
        out = self.model.language_model(
            inputs_embeds=embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=False,
            output_hidden_states=output_hidden_states,
        )
        hidden = out.last_hidden_state
        states = tuple(out.hidden_states) if output_hidden_states else None
        return LMOutput(hidden=hidden, logits=self.channel_logits(hidden), hidden_states=states)


def set_attention(lm: MossTTSDLM, attention: str) -> None:
    """Switch the backbone's attention implementation (eager / sdpa / flash_attention_2)."""
    if attention not in ATTENTION_IMPLEMENTATIONS:
        raise ValueError(f"attention must be one of {ATTENTION_IMPLEMENTATIONS}, got {attention!r}")
    if attention == "flash_attention_2" and not flash_attention_available():
        raise ImportError("flash_attention_2 needs the flash-attn package; use attention='sdpa'")
    for module in lm.modules():
        cfg = getattr(module, "config", None)
        if cfg is not None and hasattr(cfg, "_attn_implementation"):
            cfg._attn_implementation = attention


def flash_attention_available() -> bool:
    """Whether the flash-attn package is importable (and CUDA is present)."""
    try:
        import flash_attn  # noqa: F401
    except ImportError:
        return False
    return torch.cuda.is_available()


def build_lm(
    config: MossTTSDConfig,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
    random_init: bool = False,
    seed: int = 0,
) -> MossTTSDLM:
    """Build the model without running transformers' slow initialisation.

    Parameters are created on the meta device, then materialised on ``device`` in ``dtype``:
    uninitialised (``random_init=False``, for loading weights) or small random values
    (benchmarks and tests). The rotary buffers are always computed on ``device``.
    """
    with torch.device("meta"):
        lm = MossTTSDLM(config)
    lm = lm.to_empty(device=device).to(dtype)
    if random_init:
        _random_init(lm, seed)
    reset_rotary(lm)
    return lm.eval().requires_grad_(False)


def reset_rotary(lm: MossTTSDLM) -> None:
    """Recreate the (non-persistent) rotary-embedding buffers on the model's device."""
    backbone = lm.model.language_model
    rotary = Qwen3RotaryEmbedding(config=lm.config)
    backbone.rotary_emb = rotary.to(lm.device)


@torch.no_grad()
def _random_init(lm: MossTTSDLM, seed: int) -> None:
    gen = torch.Generator(device=lm.device).manual_seed(seed)
    for name, param in lm.named_parameters():
        values = torch.randn(param.shape, generator=gen, device=lm.device)
        if name.endswith("norm.weight"):
            values = 1.0 + 0.1 * values
        elif param.dim() == 2 and "embedding_list" not in name and "embed_tokens" not in name:
            values = values / param.shape[1] ** 0.5
        param.copy_(values.to(param.dtype))
