"""Timings of the native XY-Tokenizer codec (run by hand, not a test).

    python benchmarks/xy_tokenizer_bench.py                      # tiny fixture codec, CPU
    python benchmarks/xy_tokenizer_bench.py --preset MOSS_TTSD_tokenizer --device cuda --dtype bf16

Figures: encode / decode wall time and real-time factor (RTF = compute time / audio time), and
ratios against baselines measured in the same process:
* encode: our default (features trimmed to the signal) vs the reference shape (every window
  padded to 30 s, ``full_window=True``);
* decode: the v0.7 windowed prompt-augmented decode vs one plain pass over the same frames.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_FIXTURES = str(Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "moss_ttsd")


def _timed(fn: Callable[[], Any], device: str, repeat: int) -> float:
    """Best-of-``repeat`` wall time in seconds (after one warm-up call)."""
    import torch

    fn()
    best = float("inf")
    for _ in range(repeat):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def _codec(args: argparse.Namespace) -> Any:
    import torch

    from podcast.stages.synthesize.moss_ttsd.xy_tokenizer import (
        build_codec,
        load_codec,
        preset_config,
    )

    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[args.dtype]
    if args.preset:
        codec = build_codec(preset_config(args.preset), device=args.device).requires_grad_(False)
        codec = codec.to(dtype)
        codec.quantizer.float()
        return codec
    return load_codec(os.path.join(args.fixtures, "codec"), device=args.device, dtype=dtype)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", default=os.environ.get("MOSS_FIXTURES", DEFAULT_FIXTURES))
    parser.add_argument(
        "--preset",
        default="",
        help="full-size preset with random weights instead of the tiny codec",
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="fp32", choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--seconds", type=float, default=8.0, help="audio length to encode/decode")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    codec = _codec(args)
    gen = torch.Generator().manual_seed(0)
    n = int(args.seconds * codec.input_sample_rate)
    wav = (0.1 * torch.randn(n, generator=gen)).to(args.device)
    lengths = torch.tensor([n], device=args.device)
    seconds = n / codec.input_sample_rate
    print(
        f"codec: {'preset ' + args.preset if args.preset else 'tiny fixture'}, "
        f"{args.device}, {args.dtype}, "
        f"{codec.output_sample_rate} Hz out, audio {seconds:.1f} s, threads {args.threads}"
    )

    t_trim = _timed(
        lambda: codec.tokenize(wav[None], lengths, full_window=False), args.device, args.repeat
    )
    t_full = _timed(
        lambda: codec.tokenize(wav[None], lengths, full_window=True), args.device, args.repeat
    )
    print(f"encode (trimmed)      {t_trim * 1e3:9.1f} ms  RTF {t_trim / seconds:.4f}")
    print(f"encode (30 s padded)  {t_full * 1e3:9.1f} ms  RTF {t_full / seconds:.4f}  baseline")
    print(f"  speed-up trimmed vs reference shape: x{t_full / t_trim:.2f}")

    codes = codec.encode(wav)[0]
    prompt = codes.new_zeros((round(20 * codec.frame_rate), codes.shape[1]))
    t_dec = _timed(lambda: codec.decode(codes), args.device, args.repeat)
    t_win = _timed(lambda: codec.prompt_augmented_decode(codes, prompt), args.device, args.repeat)
    print(f"decode (one pass)     {t_dec * 1e3:9.1f} ms  RTF {t_dec / seconds:.4f}  baseline")
    print(f"decode (v0.7 windows) {t_win * 1e3:9.1f} ms  RTF {t_win / seconds:.4f}")
    print(f"  cost of prompt-augmented windows vs one pass: x{t_win / t_dec:.2f}")


if __name__ == "__main__":
    main()
