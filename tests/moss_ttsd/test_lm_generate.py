"""Greedy generation runs against the reference (lm/generate.npz) and loop properties."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcast.stages.synthesize.moss_ttsd.generate import Decoder, GenerationConfig
from podcast.stages.synthesize.moss_ttsd.model import set_attention
from podcast.stages.synthesize.moss_ttsd.sampling import ChannelSampling, SamplingSettings


@pytest.fixture(scope="module")
def runs(lm_dir: Path) -> dict:
    return dict(np.load(lm_dir / "generate.npz"))


def _run_names(runs: dict) -> list[str]:
    return sorted({k.split("_", 1)[0] for k in runs if k.endswith("_sequences")})


def _generate(lm, runs: dict, meta: dict, name: str, **options):
    config = GenerationConfig(max_new_tokens=meta["runs"][name]["max_new_tokens"], **options)
    ids, mask = runs[f"{name}_generate_input_ids"], runs[f"{name}_generate_attention_mask"]
    return Decoder(lm).generate(ids, mask, config)


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_greedy_runs_match_reference(tiny_lm, runs: dict, lm_meta: dict, attention: str) -> None:
    set_attention(tiny_lm, attention)
    names = _run_names(runs)
    assert names
    for name in names:
        result = _generate(tiny_lm, runs, lm_meta, name)
        assert result.start == int(runs[f"{name}_start"])
        np.testing.assert_array_equal(result.sequences, runs[f"{name}_sequences"], err_msg=name)
        np.testing.assert_array_equal(result.generated, runs[f"{name}_generated"])
        np.testing.assert_array_equal(result.frames, runs[f"{name}_speech_ids"])
        np.testing.assert_array_equal(result.last_valid, runs[f"{name}_last_valid_index"])
        assert result.generated.shape[1] == lm_meta["runs"][name]["generated_steps"]
        _check_codes(name, result, runs, lm_meta)


def _check_codes(name: str, result, runs: dict, meta: dict) -> None:
    failed = set(meta.get("decode_failed_rows", {}).get(name, []))
    for row, codes in enumerate(result.codes):
        ref = runs[f"{name}_codes_row{row}"]
        if row not in failed:
            np.testing.assert_array_equal(codes, ref)
            assert not result.truncated[row]
            continue
        # The reference cannot decode this row (pads inside the kept frames); we keep the
        # longest fully valid prefix instead.
        assert result.truncated[row] and len(codes) < len(ref)
        np.testing.assert_array_equal(codes, ref[: len(codes)])
        assert ((ref[len(codes)] < 0) | (ref[len(codes)] >= 1024)).any()
    for codes in result.codes:
        assert ((codes >= 0) & (codes < 1024)).all()


def test_sync_every_does_not_change_output(tiny_lm, runs: dict, lm_meta: dict) -> None:
    set_attention(tiny_lm, "sdpa")
    name = _run_names(runs)[0]
    result = _generate(tiny_lm, runs, lm_meta, name, sync_every=5)
    np.testing.assert_array_equal(result.sequences, runs[f"{name}_sequences"])


def test_sampling_is_seeded_and_respects_rules(tiny_lm, runs: dict, lm_meta: dict) -> None:
    set_attention(tiny_lm, "sdpa")
    name = _run_names(runs)[0]
    sampling = SamplingSettings(
        (ChannelSampling(True, 0.8, 50, 0.95, 1.1),)
        + (ChannelSampling(True, 1.2, 0, 0.9, 1.0),) * 6
        + (ChannelSampling(False),)
    )
    first = _generate(tiny_lm, runs, lm_meta, name, sampling=sampling, seed=3)
    again = _generate(tiny_lm, runs, lm_meta, name, sampling=sampling, seed=3)
    np.testing.assert_array_equal(first.sequences, again.sequences)
    start = first.start
    tail = runs[f"{name}_generate_input_ids"][:, start:]
    delay = tail.shape[1]
    for s in range(min(delay, first.generated.shape[1])):  # teacher forcing of the prompt tail
        np.testing.assert_array_equal(first.generated[:, s, s + 1 :], tail[:, s, s + 1 :])
    for codes in first.codes:
        assert ((codes >= 0) & (codes < 1024)).all()
