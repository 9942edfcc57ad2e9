"""Batched per-channel token selection for the 8 MOSS-TTSD channels.

Semantics follow transformers' processors in the reference order: repetition penalty →
temperature → top-k → top-p → sample; greedy channels take the argmax of the penalised
scores. All channels of a group (same vocabulary size) are processed in one tensor op, and
sampling uses the exponential-race trick (``argmax(p / E)``, ``E ~ Exp(1)``), which is an exact
categorical draw without a host sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch


@dataclass(frozen=True, slots=True)
class ChannelSampling:
    """Settings of one channel. ``top_k=0`` and ``top_p=1.0`` disable those filters."""

    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    repetition_penalty: float = 1.0

    def __post_init__(self) -> None:
        if self.temperature <= 0 or not 0 < self.top_p <= 1 or self.top_k < 0:
            raise ValueError("temperature must be > 0, top_p in (0, 1], top_k >= 0")
        if self.repetition_penalty <= 0:
            raise ValueError("repetition_penalty must be > 0")


@dataclass(frozen=True, slots=True)
class SamplingSettings:
    """Per-channel settings (channel 0 first)."""

    channels: tuple[ChannelSampling, ...] = field(default_factory=lambda: (ChannelSampling(),) * 8)

    @classmethod
    def uniform(cls, channels: int = 8, **settings: float | int | bool) -> SamplingSettings:
        """The same settings on every channel."""
        return cls((ChannelSampling(**settings),) * channels)  # type: ignore[arg-type]

    @property
    def greedy(self) -> bool:
        return not any(c.do_sample for c in self.channels)


class GroupSampler:
    """Token selection for a group of channels sharing one vocabulary: scores ``[B, C, V]``."""

    def __init__(self, settings: Sequence[ChannelSampling], vocab: int, device: torch.device) -> None:
        def vec(values: list[float], dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.tensor(values, dtype=dtype, device=device)[None, :, None]

        self.penalty = vec([c.repetition_penalty for c in settings])
        self.temperature = vec([c.temperature for c in settings])
        kth = [vocab - min(c.top_k, vocab) if c.top_k else 0 for c in settings]
        self.kth_index = vec(kth, torch.long)
        self.top_p = vec([c.top_p for c in settings])
        self.do_sample = torch.tensor([c.do_sample for c in settings], device=device)[None]
        self.any_penalty = any(c.repetition_penalty != 1.0 for c in settings)
        self.any_sample = any(c.do_sample for c in settings)
        sampled = [c for c in settings if c.do_sample]
        self.any_top_k = any(c.top_k for c in sampled)
        self.any_top_p = any(c.top_p < 1.0 for c in sampled)

    def penalise(self, scores: torch.Tensor, seen: torch.Tensor | None) -> torch.Tensor:
        """Repetition penalty on tokens already present in the channel's history."""
        if not self.any_penalty or seen is None:
            return scores
        p = self.penalty
        penalised = torch.where(scores < 0, scores * p, scores / p)
        return torch.where(seen, penalised, scores)

    def warp(self, scores: torch.Tensor) -> torch.Tensor:
        """Temperature, then top-k and top-p filtering (removed entries become -inf)."""
        scores = scores / self.temperature
        if not (self.any_top_k or self.any_top_p):
            return scores
        ordered, order = torch.sort(scores, dim=-1)
        kth = ordered.gather(-1, self.kth_index.expand(scores.shape[0], -1, 1))
        remove = ordered < kth
        if self.any_top_p:
            probs = torch.softmax(ordered.masked_fill(remove, float("-inf")), dim=-1)
            remove = remove | (probs.cumsum(-1) <= 1 - self.top_p)
            remove[..., -1] = False
        remove = torch.zeros_like(remove).scatter(-1, order, remove)
        return scores.masked_fill(remove, float("-inf"))

    def select(
        self, scores: torch.Tensor, seen: torch.Tensor | None, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Chosen ids ``[B, C]`` for float scores ``[B, C, V]``."""
        scores = self.penalise(scores, seen)
        greedy = scores.argmax(-1)
        if not self.any_sample:
            return greedy
        probs = torch.softmax(self.warp(scores), dim=-1)
        race = torch.empty_like(probs).exponential_(generator=generator)
        sampled = (probs / race).argmax(-1)
        return torch.where(self.do_sample, sampled, greedy)


def seen_mask(history: torch.Tensor, vocab: int) -> torch.Tensor:
    """Boolean ``[B, C, V]``: which ids occur in ``history`` ``[B, S, C]``."""
    b, _, c = history.shape
    seen = torch.zeros(b, c, vocab, dtype=torch.bool, device=history.device)
    return seen.scatter_(-1, history.transpose(1, 2), True)
