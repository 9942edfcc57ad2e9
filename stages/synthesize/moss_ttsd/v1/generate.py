"""The MOSS-TTSD v1.0 decoding loop: text head steers (generation slot, delay slot, end of audio,
end of turn), the n codebook heads fill the delayed audio columns.

Per step and row, as the reference loop does: while a delay countdown runs the text token is
forced to the delay slot, at its end to ``<|audio_end|>``; otherwise the text head chooses
(inside audio only the two slots are allowed; outside, slots, pad and audio end are masked; the
delay slot is masked at step 0 and ``<|im_end|>`` for the first n + 1 steps). Codebook k is
sampled once the row's audio is longer than k frames and, after a delay slot, only for k at or
past the countdown (the tail is flushed codebook by codebook). Stopped rows get pad text and
pad codes and stop being attended to.

Repetition penalty: the reference applies it to every id seen in the batch (codebook 1 over
column 1 of all rows, codebooks 2..n over the union of columns 2..n of all rows), so a row's
output depends on its batch neighbours. ``penalty_scope="row"`` (the default here) penalises
each row and codebook by its own history; ``"reference"`` reproduces the upstream behaviour for
the parity tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import torch

from .model import MossTTSDelay

__all__ = ["Sampling", "generate"]

_NEVER = torch.iinfo(torch.int64).max


@dataclass(frozen=True, slots=True)
class Sampling:
    """Sampling settings; temperature 0 means greedy (argmax)."""

    text_temperature: float = 1.5
    text_top_p: float = 1.0
    text_top_k: int = 50
    audio_temperature: float = 1.1
    audio_top_p: float = 0.9
    audio_top_k: int = 50
    audio_repetition_penalty: float = 1.1
    penalty_scope: Literal["row", "reference"] = "row"


def generate(
    model: MossTTSDelay,
    ids: torch.Tensor,
    attention_mask: torch.Tensor,
    max_new_tokens: int,
    sampling: Sampling,
    generator: torch.Generator | None = None,
    on_step: Callable[[int], None] | None = None,
) -> list[tuple[int, torch.Tensor]]:
    """Generate from left-padded prompts ``ids [B, T, 1 + n]``.

    Returns, per row, ``(prompt rows, rows)``: the rows from the assistant turn's
    ``<|audio_start|>`` on (prompt part and generated part), as the reference returns them.
    """
    cfg = model.cfg
    batch, length, width = ids.shape
    n = width - 1
    device = ids.device
    history = ids.clone()
    mask = attention_mask.bool().clone()
    state = _LoopState.start(ids, cfg, n)
    step_input, cache = ids, None
    with torch.inference_mode():
        for step in range(max_new_tokens):
            logits, cache, _ = model(step_input, mask.long(), past_key_values=cache, use_cache=True)
            last = [l[:, -1].float() for l in logits]
            text = state.text_tokens(last[0], step, sampling, generator)
            audio = state.audio_tokens(last[1:], history, sampling, generator)
            state.advance(text)
            step_input = torch.cat([text[:, None, None], audio[:, None, :]], dim=2)
            mask = torch.cat([mask, (~state.stopping)[:, None]], dim=1)
            history = torch.cat([history, step_input], dim=1)
            if on_step is not None:
                on_step(step)
            if bool(state.stopping.all()):
                break
    starts = _last_index(ids[..., 0], cfg.im_start) + 3
    return [(int(length - s), history[b, s:]) for b, s in enumerate(starts.tolist())]


@dataclass
class _LoopState:
    cfg: Any
    n: int
    stopping: torch.Tensor
    in_audio: torch.Tensor
    audio_lengths: torch.Tensor
    delayed: torch.Tensor

    @classmethod
    def start(cls, ids: torch.Tensor, cfg: Any, n: int) -> _LoopState:
        batch, length = ids.shape[:2]
        last = ids[:, -1, 0]
        starts = _last_index(ids[..., 0], cfg.audio_start)
        continuing = ((last == cfg.audio_start) | (last == cfg.gen_slot)) & (starts != -1)
        lengths = torch.where(continuing, length - starts, torch.zeros_like(starts))
        return cls(
            cfg, n, torch.zeros(batch, dtype=torch.bool, device=ids.device), continuing.clone(), lengths,
            torch.full((batch,), _NEVER, dtype=torch.int64, device=ids.device),
        )  # fmt: skip

    def text_tokens(self, logits: torch.Tensor, step: int, s: Sampling, generator: torch.Generator | None) -> torch.Tensor:
        cfg, n = self.cfg, self.n
        text = torch.full_like(self.stopping, cfg.pad_token_id, dtype=torch.int64)
        text[~self.stopping & (self.delayed < n)] = cfg.delay_slot
        ending = ~self.stopping & (self.delayed == n)
        text[ending] = cfg.audio_end
        self.in_audio[ending] = False
        choose = ~self.stopping & (self.delayed > n)
        logits = logits / (s.text_temperature if s.text_temperature > 0 else 1.0)
        outside = logits.clone()
        outside[:, [cfg.pad_token_id, cfg.gen_slot, cfg.delay_slot, cfg.audio_end]] = float("-inf")
        inside = torch.full_like(logits, float("-inf"))
        inside[:, [cfg.gen_slot, cfg.delay_slot]] = logits[:, [cfg.gen_slot, cfg.delay_slot]]
        logits = torch.where(self.in_audio[:, None], inside, outside)
        if step == 0:
            logits[:, cfg.delay_slot] = float("-inf")
        if step <= n:
            logits[:, cfg.im_end] = float("-inf")
        if bool(choose.any()):
            text[choose] = sample(logits[choose], s.text_temperature > 0, s.text_top_k, s.text_top_p, generator)
        self.in_audio[text == cfg.audio_start] = True
        self.stopping[text == cfg.im_end] = True
        return text

    def audio_tokens(
        self, logits: list[torch.Tensor], history: torch.Tensor, s: Sampling, generator: torch.Generator | None
    ) -> torch.Tensor:
        cfg, n = self.cfg, self.n
        batch = logits[0].shape[0]
        k = torch.arange(n, device=history.device)[None, :]
        started = self.audio_lengths[:, None] > k
        flushing = k > self.delayed[:, None] - 1
        flushing[self.delayed == _NEVER] = True
        wanted = started & flushing
        audio = torch.full((batch, n), cfg.audio_pad_code, dtype=torch.int64, device=history.device)
        if not bool(wanted.any()):
            return audio
        stacked = torch.stack(logits, dim=1) / (s.audio_temperature if s.audio_temperature > 0 else 1.0)
        stacked[..., cfg.audio_pad_code] = float("-inf")
        stacked = _penalise(stacked, history[..., 1:], wanted, s)
        audio[wanted] = sample(stacked[wanted], s.audio_temperature > 0, s.audio_top_k, s.audio_top_p, generator)
        return audio

    def advance(self, text: torch.Tensor) -> None:
        cfg, n = self.cfg, self.n
        grows = (text == cfg.audio_start) | (text == cfg.gen_slot) | (text == cfg.delay_slot)
        self.audio_lengths[grows] += 1
        self.audio_lengths[text == cfg.audio_end] = 0
        self.delayed[(self.delayed == _NEVER) & (text == cfg.delay_slot)] = 0
        self.delayed[self.delayed != _NEVER] += 1
        self.delayed[self.delayed > n] = _NEVER


def _penalise(logits: torch.Tensor, codes: torch.Tensor, wanted: torch.Tensor, s: Sampling) -> torch.Tensor:
    """Apply the repetition penalty to logits ``[B, n, V]`` given past codes ``[B, T, n]``."""
    p = s.audio_repetition_penalty
    if p == 1.0:
        return logits
    seen = torch.zeros_like(logits, dtype=torch.bool)
    vocab = logits.shape[-1]
    if s.penalty_scope == "reference":
        first = torch.zeros(vocab, dtype=torch.bool, device=logits.device)
        first[codes[..., 0].reshape(-1).clamp(max=vocab - 1)] = True
        rest = torch.zeros(vocab, dtype=torch.bool, device=logits.device)
        rest[codes[..., 1:].reshape(-1).clamp(max=vocab - 1)] = True
        seen[:, 0] = first
        seen[:, 1:] = rest
    else:
        index = codes.transpose(1, 2).clamp(max=vocab - 1)  # [B, n, T]
        seen.scatter_(2, index, True)
    penalised = torch.where(logits > 0, logits / p, logits * p)
    return torch.where(seen, penalised, logits)


def sample(logits: torch.Tensor, do_sample: bool, top_k: int, top_p: float, generator: torch.Generator | None) -> torch.Tensor:
    """Argmax, or top-k then top-p (keeping at least one token) then a multinomial draw."""
    if not do_sample:
        return logits.argmax(dim=-1)
    if top_k and top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.shape[-1]), dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        ordered, order = torch.sort(logits, descending=True, dim=-1)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        drop = cumulative > top_p
        drop[..., 1:] = drop[..., :-1].clone()
        drop[..., 0] = False
        logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[..., 0]


def _last_index(column: torch.Tensor, value: int) -> torch.Tensor:
    """Index of the last ``value`` in each row of ``column [B, T]``, or -1."""
    hits = column == value
    flipped = hits.flip(1).int().argmax(dim=1)
    index = column.shape[1] - 1 - flipped
    return torch.where(hits.any(dim=1), index, torch.full_like(index, -1))
