"""Spark-TTS at full size with random weights: LM decode speed and BiCodec decode speed.

    python plugins/spark-tts/benchmarks/spark_tts_bench.py [--device cpu|cuda] [--tokens 100]

Geometry comes from the published configs recorded in the reference fixtures
(``manifest_full_llm.json``, ``manifest_full_bicodec.json``; ``SPARK_TTS_FIXTURES`` or
``../shared/fixtures/spark_tts``). Figures are printed with a baseline measured in the same
run: the LM's static-cache loop against transformers' ``generate`` (dynamic cache) on the same
prompt, and BiCodec's decode against real time (50 semantic tokens = 1 s of speech). Random
weights never stop at ``<|im_end|>``, so every row decodes exactly ``--tokens`` tokens.
Peak memory on CPU: about 3 GB (float32 LM 2 GB + BiCodec 0.6 GB; wav2vec2 is not loaded).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from podcast import peak_rss_mb

ROOT = Path(__file__).resolve().parents[3]


def _fixtures() -> Path:
    raw = os.environ.get("SPARK_TTS_FIXTURES")
    return Path(raw) if raw else ROOT.parent / "shared" / "fixtures" / "spark_tts"


def _config(name: str) -> dict:
    return json.loads((_fixtures() / f"manifest_full_{name}.json").read_text())["config"]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _timed(device: str, fn):  # type: ignore[no-untyped-def]
    _sync(device)
    start = time.perf_counter()
    out = fn()
    _sync(device)
    return time.perf_counter() - start, out


def bench_lm(device: str, tokens: int, prompt_len: int, batches: list[int]) -> None:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from podcast_gen_spark_tts.lm import Sampling, SparkLM

    raw = {k: v for k, v in _config("llm").items() if k not in {"torch_dtype", "transformers_version"}}
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(Qwen2Config(**raw)).eval().to(device)
    lm = SparkLM(model, raw["eos_token_id"])
    greedy = Sampling(temperature=0.0, max_new_tokens=tokens)
    prompt = torch.randint(0, 150000, (1, prompt_len)).tolist()[0]
    lm.generate([prompt], Sampling(temperature=0.0, max_new_tokens=4))  # warm-up
    ids = torch.tensor([prompt], device=device)
    base, _ = _timed(device, lambda: model.generate(
        ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False,
    ))  # fmt: skip
    print(f"LM  transformers generate (dynamic cache), batch 1: {tokens / base:8.3f} tok/s  (baseline)")
    for batch in batches:
        took, rows = _timed(device, lambda b=batch: lm.generate([prompt] * b, greedy))
        assert all(len(r) == tokens for r in rows)
        rate = batch * tokens / took
        print(
            f"LM  static-cache loop, batch {batch}: {rate:8.3f} tok/s = {rate / 50:6.4f} s of speech per s "
            f"({base / took * batch:4.2f}x the baseline)"
        )
    sampled, _ = _timed(device, lambda: lm.generate([prompt], Sampling(max_new_tokens=tokens)))
    print(f"LM  static-cache loop, batch 1, sampling 0.8/50/0.95: {tokens / sampled:8.3f} tok/s")
    del model, lm


def bench_codec(device: str, seconds: float) -> None:
    from podcast_gen_spark_tts.bicodec import BiCodec

    torch.manual_seed(0)
    codec = BiCodec(_config("bicodec"))
    for module in codec.modules():
        from torch.nn.utils import parametrize

        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
    codec = codec.eval().to(device)
    semantic = torch.randint(0, codec.semantic_vocab, (1, int(seconds * 50)), device=device)
    globals_ = torch.randint(0, codec.global_vocab, (1, codec.token_num), device=device)
    with torch.inference_mode():
        codec.detokenize(semantic[:, :25], globals_)
        took, wav = _timed(device, lambda: codec.detokenize(semantic, globals_))
    print(f"BiCodec decode of {seconds:.0f} s: {took:6.2f} s (real-time factor {took / seconds:5.3f}); {wav.shape[-1]} samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens", type=int, default=100)
    parser.add_argument("--prompt", type=int, default=60)
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device {args.device}")
    bench_lm(args.device, args.tokens, args.prompt, [int(b) for b in args.batches.split(",")])
    bench_codec(args.device, args.seconds)
    peak = peak_rss_mb()
    print(f"peak resident memory {peak:.0f} MB" + (
        f"; peak GPU memory {torch.cuda.max_memory_allocated() / 2**20:.0f} MB" if args.device.startswith("cuda") else ""
    ))  # fmt: skip


if __name__ == "__main__":
    main()
