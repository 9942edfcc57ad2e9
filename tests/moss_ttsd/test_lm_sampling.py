"""Batched per-channel sampling equals transformers' per-channel processors."""

from __future__ import annotations

import torch
from transformers.generation.logits_process import (
    LogitsProcessorList,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from podcast.stages.synthesize.moss_ttsd.sampling import ChannelSampling, GroupSampler, seen_mask

SETTINGS = (
    ChannelSampling(True, 0.7, 5, 0.9, 1.3),
    ChannelSampling(True, 1.3, 0, 0.6, 1.0),
    ChannelSampling(True, 1.0, 40, 1.0, 0.8),
    ChannelSampling(False, 1.0, 0, 1.0, 1.2),
)


def _hf(setting: ChannelSampling) -> LogitsProcessorList:
    procs = LogitsProcessorList()
    if setting.repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(setting.repetition_penalty))
    if setting.do_sample:
        procs.append(TemperatureLogitsWarper(setting.temperature))
        if setting.top_k:
            procs.append(TopKLogitsWarper(setting.top_k))
        if setting.top_p < 1.0:
            procs.append(TopPLogitsWarper(setting.top_p))
    return procs


def test_processors_match_transformers() -> None:
    gen = torch.Generator().manual_seed(0)
    batch, vocab = 3, 97
    scores = torch.randn(batch, len(SETTINGS), vocab, generator=gen) * 3
    history = torch.randint(0, vocab, (batch, 12, len(SETTINGS)), generator=gen)
    sampler = GroupSampler(SETTINGS, vocab, torch.device("cpu"))
    ours = sampler.penalise(scores, seen_mask(history, vocab))
    greedy = ours.argmax(-1)
    warped = sampler.warp(ours)
    for c, setting in enumerate(SETTINGS):
        ref = _hf(setting)(history[..., c], scores[:, c].clone())
        if setting.do_sample:
            torch.testing.assert_close(warped[:, c], ref)
        assert torch.equal(greedy[:, c], ref.argmax(-1))


def test_sampling_draws_follow_distribution() -> None:
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    scores = probs.log().expand(4000, 1, 4).contiguous()
    sampler = GroupSampler([ChannelSampling(do_sample=True)], 4, torch.device("cpu"))
    draws = sampler.select(scores, None, torch.Generator().manual_seed(1))[:, 0]
    freq = torch.bincount(draws, minlength=4).float() / len(draws)
    assert torch.allclose(freq, probs, atol=0.03)
    greedy = GroupSampler([ChannelSampling()], 4, torch.device("cpu"))
    assert (greedy.select(scores, None, None) == 3).all()
