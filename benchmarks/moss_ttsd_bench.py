"""MOSS-TTSD LM decoding benchmark.

CPU (default): per-step time of the tiny config with this project's static-cache loop versus a
naive HF-style loop (transformers backbone + DynamicCache, per-channel Python loops, host syncs),
measured in the same process; the ratio is printed.

GPU (``--device cuda --full``): the full-size v0.5/v0.7 config with random bf16 weights at batch
1 and 8: frames/s, real-time factor (12.5 frames = 1 s of audio), the memory-bandwidth bound
(bytes read per step ÷ HBM bandwidth) and peak VRAM at 120 s and 600 s of audio against the
README formula y (GB) = 0.00172·x (s) + 5.8832.

    python benchmarks/moss_ttsd_bench.py [--steps 64] [--threads 1]
    python benchmarks/moss_ttsd_bench.py --device cuda --full [--bandwidth 3.35e12] [--compile]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from podcast.stages.synthesize.moss_ttsd.config import MossTTSDConfig
from podcast.stages.synthesize.moss_ttsd.generate import Decoder, GenerationConfig
from podcast.stages.synthesize.moss_ttsd.model import MossTTSDLM, build_lm, set_attention

FRAMES_PER_SECOND = 12.5
COMMON = dict(vocab_size=152697, pad_token_id=151643, bos_token_id=151643, eos_token_id=152694,
              speech_token_range=[151665, 152689], rope_theta=1e6, rms_norm_eps=1e-6)
TINY = dict(COMMON, hidden_size=12, intermediate_size=40, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=16)
FULL = dict(COMMON, hidden_size=2048, intermediate_size=6144, num_hidden_layers=28,
            num_attention_heads=16, num_key_value_heads=8, head_dim=128, max_position_embeddings=32768)


def prompt_batch(batch: int, text_len: int, frames: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic delayed prompt batch ``[B, T, 8]`` (text rows + audio rows), no padding."""
    from podcast.stages.synthesize.moss_ttsd import processor as P

    rng = np.random.default_rng(seed)
    rows = P.text_rows(rng.integers(100, 150000, text_len).tolist())
    rows = P.append_codes(rows, rng.integers(0, 1024, (frames, 8)))
    batch_rows = P.left_pad([P.delay(rows)] * batch)
    return batch_rows.input_ids, batch_rows.attention_mask


def naive_loop(lm: MossTTSDLM, ids: torch.Tensor, mask: torch.Tensor, steps: int) -> float:
    """HF-style greedy loop (DynamicCache, cat-grown mask, per-channel loops); seconds per step."""
    from transformers import DynamicCache

    backbone = lm.model.language_model
    cache = DynamicCache(config=lm.config)
    mask = mask.clone()
    with torch.inference_mode():
        out = backbone(inputs_embeds=lm.model.embed(ids), attention_mask=mask, past_key_values=cache, use_cache=True)
        hidden = out.last_hidden_state[:, -1:]
        start = time.perf_counter()
        for _ in range(steps):
            logits = [torch.nn.functional.linear(hidden, w)[:, -1].float() for w in lm.head_weights()]
            tokens = torch.stack([torch.argmax(l, dim=-1) for l in logits], dim=-1)
            if (tokens[:, 0] == lm.config.eos_id).any().item():  # per-step host sync
                pass
            ids = torch.cat([ids, tokens[:, None]], dim=1)
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            pos = (mask.cumsum(-1) - 1)[:, -1:]
            out = backbone(inputs_embeds=lm.model.embed(ids[:, -1:]), attention_mask=mask,
                           position_ids=pos, past_key_values=cache, use_cache=True)
            hidden = out.last_hidden_state
        return (time.perf_counter() - start) / steps


def our_loop(lm: MossTTSDLM, ids: np.ndarray, mask: np.ndarray, steps: int, compile_: bool = False,
             sync_every: int = 1) -> tuple[float, float, int]:
    """Greedy decoding with the static-cache loop; (seconds per step, prefill s, steps)."""
    decoder = Decoder(lm)
    cfg = GenerationConfig(max_new_tokens=steps, min_new_tokens=steps, compile=compile_, sync_every=sync_every)
    short = GenerationConfig(max_new_tokens=1, min_new_tokens=1, compile=compile_)
    decoder.generate(ids, mask, short)  # warm-up (and compilation)
    sync(lm)
    t0 = time.perf_counter()
    decoder.generate(ids, mask, short)
    sync(lm)
    t1 = time.perf_counter()
    result = decoder.generate(ids, mask, cfg)
    sync(lm)
    t2 = time.perf_counter()
    n_short, n = 1 + 7, result.generated.shape[1]
    per_step = ((t2 - t1) - (t1 - t0)) / max(n - n_short, 1)
    return per_step, t1 - t0, n


def sync(lm: MossTTSDLM) -> None:
    if lm.device.type == "cuda":
        torch.cuda.synchronize()


def cpu_main(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    lm = build_lm(MossTTSDConfig(**TINY), random_init=True, seed=1)
    set_attention(lm, "sdpa")
    ids, mask = prompt_batch(args.batch, 150, 25)
    naive = naive_loop(lm, torch.from_numpy(ids), torch.from_numpy(mask), args.steps)
    ours, _, n = our_loop(lm, ids, mask, args.steps)
    ours_sync, _, _ = our_loop(lm, ids, mask, args.steps, sync_every=8)
    print(f"tiny config, CPU, batch {args.batch}, {args.threads} thread(s), {n} steps")
    print(f"  naive HF-style loop (DynamicCache): {naive * 1e3:8.3f} ms/step")
    print(f"  static-cache loop (sync every step): {ours * 1e3:8.3f} ms/step   ratio naive/ours = {naive / ours:5.2f}x")
    print(f"  static-cache loop (sync every 8):   {ours_sync * 1e3:8.3f} ms/step   ratio naive/ours = {naive / ours_sync:5.2f}x")


def weight_bytes_per_step(lm: MossTTSDLM) -> int:
    """Bytes of weights read per decode step (everything except the unused embed_tokens)."""
    skip = {"model.language_model.embed_tokens.weight"}
    return sum(p.numel() * p.element_size() for n, p in lm.named_parameters() if n not in skip)


def gpu_main(args: argparse.Namespace) -> None:
    dev = torch.device(args.device)
    lm = build_lm(MossTTSDConfig(**(FULL if args.full else TINY)), device=dev, dtype=torch.bfloat16, random_init=True)
    set_attention(lm, "sdpa")
    read = weight_bytes_per_step(lm)
    bound = args.bandwidth / read
    print(f"weights read per step: {read / 1e9:.3f} GB -> bandwidth bound {bound:.1f} steps/s at {args.bandwidth:.3g} B/s")
    ids, mask = prompt_batch(1, 300, 250)
    for batch in (1, 8):
        b_ids, b_mask = np.repeat(ids, batch, 0), np.repeat(mask, batch, 0)
        per_step, prefill, n = our_loop(lm, b_ids, b_mask, args.steps, args.compile, sync_every=16)
        fps = batch / per_step
        print(f"batch {batch}: {per_step * 1e3:.2f} ms/step, {fps:.1f} frames/s, RTF {fps / FRAMES_PER_SECOND:.1f}x "
              f"real time, {1 / per_step / bound:.0%} of the bandwidth bound (prefill {prefill * 1e3:.0f} ms)")
    for seconds in (120, 600):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        frames = int(seconds * FRAMES_PER_SECOND)
        Decoder(lm).generate(ids, mask, GenerationConfig(max_new_tokens=frames, min_new_tokens=frames, sync_every=64))
        peak = torch.cuda.max_memory_allocated() / 1e9
        formula = 0.00172 * seconds + 5.8832
        print(f"{seconds} s of audio: peak {peak:.2f} GB vs README formula {formula:.2f} GB (LM only, no codec)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--full", action="store_true", help="full-size config (GPU)")
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bandwidth", type=float, default=3.35e12, help="HBM bytes/s (H100 SXM 3.35e12)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the decode step")
    args = parser.parse_args()
    if args.device == "cpu":
        cpu_main(args)
    else:
        gpu_main(args)


if __name__ == "__main__":
    main()
