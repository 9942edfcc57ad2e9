"""Prompt assembly, delay pattern and left padding against the reference's stored ids."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from podcast.stages.synthesize.moss_ttsd import processor as P

from .lm_helpers import StubTokenizer, reference_normalizer


@pytest.fixture(scope="module")
def arrays(lm_dir: Path) -> dict:
    return dict(np.load(lm_dir / "inputs.npz"))


@pytest.fixture(scope="module")
def stub(lm_meta: dict) -> StubTokenizer:
    return StubTokenizer(lm_meta["stub_tokenizer"])


def _prompt_codes(item: dict, raw: np.ndarray) -> np.ndarray:
    codes = raw[item["num_text_tokens"] :].copy()
    codes[:, 0] -= P.SPEECH_OFFSET
    return codes


def test_prompt_string_and_text_pipeline(lm_meta: dict) -> None:
    for item in lm_meta["items"]:
        calls: list[str] = []

        def normalize(text: str, _item: dict = item) -> str:
            calls.append(text)
            return _item["normalized_text"]

        final = P.dialogue_text(item["prompt_text"], item["text"], normalize)
        assert calls == [item["full_text"]]
        assert final == item["final_text"]
        assert P.prompt_string(final, lm_meta["system_prompt"]) == item["seq"]


def test_rows_delay_and_padding(lm_meta: dict, arrays: dict, stub: StubTokenizer) -> None:
    shifted = []
    for k, item in enumerate(lm_meta["items"]):
        raw = arrays[f"raw_row{k}"]
        rows = P.build_prompt(stub, item["final_text"], _prompt_codes(item, raw), lm_meta["system_prompt"])
        np.testing.assert_array_equal(rows, raw)
        assert rows.shape[0] == item["num_text_tokens"] + item["num_audio_frames"]
        delayed = P.delay(rows, stub.pad_token_id)
        np.testing.assert_array_equal(delayed, arrays[f"shifted_row{k}"])
        assert delayed.shape[0] == item["shifted_len"]
        shifted.append(delayed)
    batch = P.left_pad(shifted, stub.pad_token_id)
    np.testing.assert_array_equal(batch.input_ids, arrays["input_ids"])
    np.testing.assert_array_equal(batch.attention_mask, arrays["attention_mask"])
    np.testing.assert_array_equal(batch.position_ids, arrays["position_ids"])


def test_prompt_codes_offset(arrays: dict, lm_meta: dict) -> None:
    item = lm_meta["items"][0]
    codes = _prompt_codes(item, arrays["raw_row0"])
    expected = arrays["prompt_codes_row0"]
    np.testing.assert_array_equal(P.append_codes(np.empty((0, 8), np.int64), codes), expected)


def test_undelay_inverts_delay() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 1024, size=(9, 8))
    delayed = P.delay(P.append_codes(np.empty((0, 8), np.int64), frames))
    np.testing.assert_array_equal(P.undelay(delayed[None])[0], frames)


def test_valid_prefix_and_last_frame() -> None:
    frames = np.array([[1] * 8, [2] * 8, [3, 4, 1024, 5, 6, 7, 8, 9], [1024] * 8])
    assert P.last_speech_frame(frames) == 2
    assert P.valid_prefix(frames) == 2


def test_reference_normalizer_hook(lm_meta: dict) -> None:
    normalize = reference_normalizer("v0.7")
    for item in lm_meta["items"]:
        assert P.dialogue_text(item["prompt_text"], item["text"], normalize) == item["final_text"]
    assert reference_normalizer("v0.5")("[S1]是啊！") == "[S1]是啊。"
    with pytest.raises(ValueError):
        reference_normalizer("v1.0")
