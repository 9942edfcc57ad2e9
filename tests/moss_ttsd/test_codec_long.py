"""Long paths: > 30 s chunked encode/decode, v0.7 windowed prompt-augmented decode, streaming."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from podcast.stages.synthesize.moss_ttsd.xy_tokenizer.windowing import Crossfader, WindowPlan

from .codec_helpers import (
    ATOL_WAV,
    assert_close,
    codec_dir,
    fixture_root,
    frame_stats,
    load_json,
    load_npz,
    prompt_samples,
    tiny_codec,
    wav16k,
)


@pytest.fixture(scope="module")
def chunked() -> dict[str, np.ndarray]:
    return load_npz(codec_dir() / "reference_chunked_34s.npz")


@pytest.fixture(scope="module")
def lm_meta() -> dict:
    return load_json(fixture_root() / "lm" / "inputs_meta.json")


def _check_piece(audio: np.ndarray, start: int, expected: np.ndarray, what: str) -> None:
    assert_close(audio[start : start + len(expected)], expected, ATOL_WAV, what)


def test_chunked_encode_34s(chunked: dict) -> None:
    gains = chunked["gains"]
    signal = np.concatenate([wav16k() * gains[k % len(gains)] for k in range(int(chunked["reps"]))])
    codes = tiny_codec().encode(torch.from_numpy(signal.astype(np.float32)))
    np.testing.assert_array_equal(codes[0].T.numpy(), chunked["codes"])


def test_chunked_decode_34s(chunked: dict) -> None:
    audio = tiny_codec().decode(torch.from_numpy(chunked["codes"]).T)[0].numpy()
    spf = tiny_codec().samples_per_frame
    assert len(audio) == int(chunked["decoded_len"])
    _check_piece(audio, 0, chunked["decoded_head"], "head")
    _check_piece(audio, len(audio) - len(chunked["decoded_tail"]), chunked["decoded_tail"], "tail")
    # "decoded_around_<sample>": a piece centred on the first decode-window seam.
    for key in (k for k in chunked if k.startswith("decoded_around_")):
        centre = int(key.rsplit("_", 1)[1])
        assert centre % spf == 0
        _check_piece(audio, centre - len(chunked[key]) // 2, chunked[key], key)
    assert_close(
        frame_stats(audio, spf),
        chunked["decoded_frame_stats"].astype(np.float64),
        ATOL_WAV,
        "stats",
    )


def _prompt_codes(codec: Any, wav: np.ndarray, n: int, frames: int) -> torch.Tensor:
    return codec.encode_prompt_reference(
        torch.from_numpy(wav[:n]), seconds=frames / codec.frame_rate
    )


def test_windowed_prompt_augmented_decode(lm_meta: dict) -> None:
    data = load_npz(fixture_root() / "lm" / "decode_windows.npz")
    e2e = load_npz(fixture_root() / "lm" / "e2e_decode.npz")
    prompt = _prompt_codes(
        tiny_codec(),
        wav16k(),
        prompt_samples(lm_meta, 0, len(wav16k())),
        e2e["ref20s_codes_row0"].shape[1],
    )
    audio = tiny_codec().prompt_augmented_decode(torch.from_numpy(data["codes"]), prompt).numpy()
    spf, plan = tiny_codec().samples_per_frame, WindowPlan()
    assert len(audio) == int(data["audio_len"])
    _check_piece(audio, 0, data["audio_head"], "head")
    _check_piece(audio, len(audio) - len(data["audio_tail"]), data["audio_tail"], "tail")
    seam = plan.keep + plan.left_context
    for key in sorted((k for k in data if k.startswith("audio_seam")), key=lambda k: int(k[10:])):
        _check_piece(audio, seam * spf - len(data[key]) // 2, data[key], key)
        seam += plan.keep
    assert_close(
        frame_stats(audio, spf), data["audio_frame_stats"].astype(np.float64), ATOL_WAV, "stats"
    )


def test_streaming_decode_equals_one_shot() -> None:
    data = load_npz(fixture_root() / "lm" / "decode_windows.npz")
    codes = torch.from_numpy(data["codes"])
    prompt = tiny_codec().encode_prompt_reference(torch.from_numpy(wav16k()))
    whole = tiny_codec().prompt_augmented_decode(codes, prompt)
    stream = (codes[i : i + 7] for i in range(0, codes.shape[0], 7))
    pieces = list(tiny_codec().iter_decode(stream, prompt))
    assert len(pieces) >= 2  # audio arrives before the stream ends
    assert torch.equal(torch.cat(pieces), whole)


def test_e2e_decode_from_generated_codes(lm_meta: dict) -> None:
    e2e = load_npz(fixture_root() / "lm" / "e2e_decode.npz")
    gen = load_npz(fixture_root() / "lm" / "generate.npz")
    rows = sorted(int(k.removeprefix("audio_row")) for k in e2e if k.startswith("audio_row"))
    assert int(e2e["sample_rate"]) == tiny_codec().output_sample_rate
    for row in rows:
        ref_codes = e2e[f"ref20s_codes_row{row}"]
        prompt = _prompt_codes(
            tiny_codec(), wav16k(), prompt_samples(lm_meta, row, len(wav16k())), ref_codes.shape[1]
        )
        np.testing.assert_array_equal(prompt.T.numpy(), ref_codes)
        codes = torch.from_numpy(gen[f"A_codes_row{row}"])
        combined = torch.cat([prompt, codes]).T.numpy()
        np.testing.assert_array_equal(combined, e2e[f"detok{row}_codes"][:, 0])
        audio = tiny_codec().prompt_augmented_decode(codes, prompt)
        assert_close(audio, e2e[f"audio_row{row}"], ATOL_WAV, f"e2e row {row}")


def _concat_all_at_once(segments: list[torch.Tensor], cf: int) -> torch.Tensor:
    """Straightforward reading of the reference join: crossfade each new segment into the output."""
    out = segments[0]
    for nxt in segments[1:]:
        n = min(cf, out.shape[0], nxt.shape[0])
        if n <= 0:
            out = torch.cat([out, nxt])
            continue
        mixed = out[-n:] * torch.linspace(1, 0, n) + nxt[:n] * torch.linspace(0, 1, n)
        out = torch.cat([out[:-n], mixed, nxt[n:]])
    return out


@pytest.mark.parametrize(
    "lengths", [[50, 40, 30], [5, 3, 100, 2, 7], [200], [10, 10, 10, 10], [0, 4, 9]]
)
def test_crossfader_streams_the_same_samples(lengths: list[int]) -> None:
    gen = torch.Generator().manual_seed(sum(lengths))
    segments = [torch.randn(n, generator=gen) for n in lengths if n]
    fader = Crossfader(8)
    streamed = torch.cat([fader.push(s) for s in segments] + [fader.finish()])
    assert torch.allclose(streamed, _concat_all_at_once(segments, 8), atol=1e-7)
