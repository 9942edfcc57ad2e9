"""The MOSS-TTSD v0.5/v0.7 decoding loop (the reference ``CustomMixin._sample``), built for speed.

Per step ``s`` (``base = T - (C-1)`` prompt rows are prefilled, ``d = C - 1`` delayed rows follow):

1. channel-0 logit ``masked_eos_id`` is masked while ``s < d``; channel ``i >= 1`` has the pad
   logit masked once ``s >= i`` (past its teacher-forced region);
2. tokens are selected for all channels (:mod:`.sampling`);
3. a row whose channel-0 token is not a speech token (and has no counter yet) starts a
   ``d``-step flush counter;
4. while ``s < d`` channels ``s+1..d`` are teacher-forced from the prompt's delayed tail;
5. during the flush (counter ``c`` in ``d-1..1``) channel 0 is EOS and channels ``1..d-c`` pad;
6. finished rows get ``(eos, pad, ...)``;
7. a row stops on EOS, on ``max_new_tokens`` (as the reference: when ``T-d+s+1 >= T+max_new``)
   or when its counter reaches 0; a running flush overrides the stop.

Everything stays on the device: the only host sync is the stop check (every ``sync_every`` steps).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .fastpath import StaticKVCache, allocate_cache, cached_forward
from .model import MossTTSDLM
from .processor import last_speech_frame, undelay, valid_prefix
from .sampling import GroupSampler, SamplingSettings, seen_mask


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """Loop options. ``sync_every`` > 1 checks the stop condition less often (fewer syncs);
    extra steps are trimmed so the output does not change. ``compile`` wraps the decode step in
    ``torch.compile`` (CUDA graphs on GPU) and attends over the whole static cache."""

    max_new_tokens: int = 2000
    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    seed: int | None = None
    sync_every: int = 1
    compile: bool = False
    #: Steps during which channel 0 may only emit speech tokens (no EOS, no text): benchmarks
    #: use it to force long runs on random weights. Not part of the reference behaviour.
    min_new_tokens: int = 0


@dataclass(frozen=True, slots=True)
class GenerationResult:
    """Outputs, as int64 numpy arrays.

    ``sequences`` ``[B, start + steps, C]``: the first ``start = T - (C-1)`` input rows followed by
    one row per step (the reference ``generate`` return value); ``generated`` its tail
    ``[B, steps, C]`` (delayed stream); ``frames`` ``[B, steps - C + 1, C]`` de-delayed codes
    (column 0 minus the speech offset); ``last_valid`` ``[B]`` last frame with channel 1 ≠ pad;
    ``codes`` per row ``[n, C]``: frames up to ``last_valid`` cut to the longest prefix of valid
    codes (``0 <= code < pad``); ``truncated`` marks rows where that cut removed frames (the
    reference fails to decode such rows, e.g. a row stopped by ``max_new_tokens`` mid-speech).
    """

    sequences: np.ndarray
    start: int
    generated: np.ndarray
    frames: np.ndarray
    last_valid: np.ndarray
    codes: tuple[np.ndarray, ...]
    truncated: tuple[bool, ...]


@dataclass(slots=True)
class _State:
    """Device-side loop state (mutated in place)."""

    counter: torch.Tensor  # [B] flush counter, -1 = not started
    unfinished: torch.Tensor  # [B] bool
    alive: torch.Tensor  # [max_steps] bool: any row unfinished after step s
    out: torch.Tensor  # [B, base + max_steps, C]
    seen: list[torch.Tensor | None]  # per group: [B, C_g, V_g] history masks


class Decoder:
    """Reusable generation loop bound to one model."""

    def __init__(self, lm: MossTTSDLM) -> None:
        self.lm = lm
        cfg = lm.config
        self.channels = cfg.channels
        self.delay = cfg.channels - 1
        self.eos = cfg.eos_id
        self.masked_eos = cfg.masked_eos_id
        self.pad = cfg.speech_pad_token
        self.speech_range = tuple(cfg.speech_token_range)
        self._compiled: Callable[..., torch.Tensor] | None = None
        self.min_new_tokens = 0

    # -- forward helpers -------------------------------------------------------------------
    def _eager(self) -> bool:
        return getattr(self.lm.config, "_attn_implementation", "sdpa") == "eager"

    def _logits(self, hidden: torch.Tensor, audio_heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Channel-0 ``[B, 1, V0]`` and audio ``[B, d, V1]`` float logits for ``hidden`` ``[B, H]``."""
        head0 = self.lm.model.embedding_list[0].weight
        text = torch.nn.functional.linear(hidden, head0).float()[:, None]
        audio = torch.einsum("bh,cvh->bcv", hidden, audio_heads).float()
        return text, audio

    def _step_fn(self, compile_: bool) -> Callable[..., torch.Tensor]:
        if not compile_:
            return cached_forward
        if self._compiled is None:
            mode = "reduce-overhead" if self.lm.device.type == "cuda" else None
            self._compiled = torch.compile(cached_forward, mode=mode, dynamic=False)
        return self._compiled

    # -- main entry ------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(
        self, input_ids: np.ndarray | torch.Tensor, attention_mask: np.ndarray | torch.Tensor,
        config: GenerationConfig | None = None,
    ) -> GenerationResult:
        """Generate from a left-padded delayed batch ``input_ids`` ``[B, T, C]``, mask ``[B, T]``."""
        config = config or GenerationConfig()
        dev = self.lm.device
        ids = torch.as_tensor(np.asarray(input_ids), dtype=torch.long, device=dev)
        mask = torch.as_tensor(np.asarray(attention_mask), device=dev).to(torch.long)
        batch, total, _ = ids.shape
        base = total - self.delay
        max_steps = config.max_new_tokens + self.delay * (batch + 1)
        capacity = base + max_steps
        cache = allocate_cache(self.lm, batch, capacity)
        state = self._init_state(ids, base, max_steps, config)
        samplers = self._samplers(config.sampling)
        gen = self._generator(config.seed)
        audio_heads = torch.stack([w for w in self.lm.head_weights()[1:]])
        max_length = total + config.max_new_tokens
        tail = ids[:, base:]
        hidden, pos = self._prefill(ids[:, :base], mask[:, :base], cache)
        step_fn = self._step_fn(config.compile)
        write = torch.zeros(1, dtype=torch.long, device=dev)
        steps = max_steps
        self.min_new_tokens = config.min_new_tokens
        for s in range(max_steps):
            text, audio = self._logits(hidden, audio_heads)
            tokens = self._choose(s, text, audio, samplers, state, gen)
            tokens = self._apply_rules(s, tokens, tail, state, base + s + 1 >= max_length)
            state.out[:, base + s] = tokens
            if (s + 1) % config.sync_every == 0 or s + 1 == max_steps:
                done = self._finished_at(state, s)
                if done is not None:
                    steps = done + 1
                    break
            write.fill_(base + s)
            cache.key_valid[:, base + s] = True
            kv_len = capacity if config.compile else base + s + 1
            hidden = step_fn(self.lm, tokens[:, None], pos[:, None], cache, write, kv_len, self._eager())[:, -1]
            pos = pos + 1
        return self._result(state.out[:, : base + steps].cpu().numpy(), base)

    def _init_state(self, ids: torch.Tensor, base: int, max_steps: int, config: GenerationConfig) -> _State:
        batch, _, channels = ids.shape
        dev = ids.device
        out = torch.empty(batch, base + max_steps, channels, dtype=torch.long, device=dev)
        out[:, :base] = ids[:, :base]
        seen: list[torch.Tensor | None] = [None, None]
        settings = config.sampling.channels
        if any(c.repetition_penalty != 1.0 for c in settings[:1]):
            seen[0] = seen_mask(ids[:, :base, :1], self.lm.config.vocab_size)
        if any(c.repetition_penalty != 1.0 for c in settings[1:]):
            seen[1] = seen_mask(ids[:, :base, 1:], self.lm.config.speech_vocab_size)
        return _State(
            counter=torch.full((batch,), -1, dtype=torch.long, device=dev),
            unfinished=torch.ones(batch, dtype=torch.bool, device=dev),
            alive=torch.ones(max_steps, dtype=torch.bool, device=dev),
            out=out,
            seen=seen,
        )

    def _samplers(self, settings: SamplingSettings) -> tuple[GroupSampler, GroupSampler]:
        if len(settings.channels) != self.channels:
            raise ValueError(f"sampling settings need {self.channels} channels")
        cfg, dev = self.lm.config, self.lm.device
        return (
            GroupSampler(settings.channels[:1], cfg.vocab_size, dev),
            GroupSampler(settings.channels[1:], cfg.speech_vocab_size, dev),
        )

    def _generator(self, seed: int | None) -> torch.Generator | None:
        if seed is None:
            return None
        return torch.Generator(device=self.lm.device).manual_seed(seed)

    def _prefill(
        self, ids: torch.Tensor, mask: torch.Tensor, cache: StaticKVCache
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Fill the cache with the prompt; returns the last hidden ``[B, H]`` and next positions."""
        base = ids.shape[1]
        cache.key_valid[:, :base] = mask.bool()
        positions = torch.where(mask == 1, mask.cumsum(1) - 1, torch.ones_like(mask))
        write = torch.arange(base, device=ids.device)
        hidden = cached_forward(self.lm, ids, positions, cache, write, base, self._eager())
        return hidden[:, -1], positions[:, -1] + 1

    # -- per-step token logic (device only) ------------------------------------------------
    def _choose(
        self, s: int, text: torch.Tensor, audio: torch.Tensor,
        samplers: tuple[GroupSampler, GroupSampler], state: _State, gen: torch.Generator | None,
    ) -> torch.Tensor:
        if s < self.delay:
            text[..., self.masked_eos] = float("-inf")
        if s < self.min_new_tokens:
            lo, hi = self.speech_range
            text[..., :lo] = float("-inf")
            text[..., hi:] = float("-inf")
        audio[:, : min(s, self.delay), self.pad] = float("-inf")
        first = samplers[0].select(text, state.seen[0], gen)
        rest = samplers[1].select(audio, state.seen[1], gen)
        return torch.cat([first, rest], dim=1)

    def _apply_rules(
        self, s: int, tokens: torch.Tensor, tail: torch.Tensor, state: _State, at_max: bool
    ) -> torch.Tensor:
        d, counter = self.delay, state.counter
        lo, hi = self.speech_range
        is_speech = (tokens[:, 0] >= lo) & (tokens[:, 0] < hi)
        counter.copy_(torch.where(~is_speech & (counter < 0), d, counter))
        if s < d:
            tokens[:, s + 1 :] = tail[:, s, s + 1 :]
        flushing = (counter > 0) & (counter < d)
        tokens[:, 0] = torch.where(flushing, self.eos, tokens[:, 0])
        limits = torch.arange(d, 0, -1, device=tokens.device)  # channel i forced while counter < C-i
        forced = flushing[:, None] & (counter[:, None] < limits[None])
        tokens[:, 1:] = torch.where(forced, self.pad, tokens[:, 1:])
        fill = torch.full_like(tokens, self.pad)
        fill[:, 0] = self.eos
        tokens = torch.where(state.unfinished[:, None], tokens, fill)
        counter.copy_(torch.where(counter > 0, counter - 1, counter))
        stop = (tokens[:, 0] == self.eos) | (counter == 0)
        if at_max:
            stop = torch.ones_like(stop)
        state.unfinished.copy_((state.unfinished & ~stop) | (counter > 0))
        state.alive[s] = state.unfinished.any()
        self._update_seen(tokens, state)
        return tokens

    @staticmethod
    def _update_seen(tokens: torch.Tensor, state: _State) -> None:
        if state.seen[0] is not None:
            state.seen[0].scatter_(-1, tokens[:, :1, None], True)
        if state.seen[1] is not None:
            state.seen[1].scatter_(-1, tokens[:, 1:, None], True)

    @staticmethod
    def _finished_at(state: _State, s: int) -> int | None:
        """First step after which no row was running (one host sync), or ``None``."""
        dead = (~state.alive[: s + 1]).nonzero()
        return int(dead[0, 0]) if dead.numel() else None

    def _result(self, sequences: np.ndarray, base: int) -> GenerationResult:
        generated = sequences[:, base:]
        frames = undelay(generated, self.lm.config.speech_offset)
        last = np.array([last_speech_frame(f, self.pad) for f in frames], dtype=np.int64)
        codes, cut = [], []
        for row, end in zip(frames, last, strict=True):
            kept = row[: end + 1]
            n = valid_prefix(kept, self.pad)
            codes.append(kept[:n].copy())
            cut.append(n < len(kept))
        return GenerationResult(sequences, base, generated, frames, last, tuple(codes), tuple(cut))


def generate(
    lm: MossTTSDLM, input_ids: np.ndarray | torch.Tensor, attention_mask: np.ndarray | torch.Tensor,
    config: GenerationConfig | None = None,
) -> GenerationResult:
    """One-shot helper: :meth:`Decoder.generate` on a fresh decoder."""
    return Decoder(lm).generate(input_ids, attention_mask, config)
