"""MOSS-TTSD v1.0 decode-loop speed: frames per second of the generate loop with random weights.

CPU (default): a small configuration, batch 1 and 8, against a baseline that re-runs the whole
sequence every step (no KV cache) in the same process. GPU (``--device cuda --full``): the
full-size 8B configuration in bf16, with the memory-bandwidth bound printed beside it
(bf16 weight bytes / HBM bandwidth per step).

    python benchmarks/moss_v1_bench.py                 # CPU, small config
    python benchmarks/moss_v1_bench.py --device cuda --full --bandwidth 4.8e12   # H200
"""

from __future__ import annotations

import argparse
import time

import torch

from podcast.stages.synthesize.moss_ttsd.v1.generate import Sampling, generate
from podcast.stages.synthesize.moss_ttsd.v1.model import DelayConfig, MossTTSDelay

SMALL = {"hidden_size": 256, "intermediate_size": 768, "num_hidden_layers": 4, "num_attention_heads": 4,
         "num_key_value_heads": 2, "head_dim": 64, "vocab_size": 151936, "rms_norm_eps": 1e-6,
         "max_position_embeddings": 40960, "rope_theta": 1e6, "tie_word_embeddings": False}  # fmt: skip
FULL = {**SMALL, "hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36, "num_attention_heads": 32,
        "num_key_value_heads": 8, "head_dim": 128}  # fmt: skip


def build(language: dict, device: str, dtype: torch.dtype) -> MossTTSDelay:
    cfg = DelayConfig.from_dict({"n_vq": 16, "language_config": {**language, "model_type": "qwen3"}})
    with torch.device(device):
        model = MossTTSDelay(cfg).to(dtype)
    torch.manual_seed(0)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.02)
    return model.eval()


def prompt(model: MossTTSDelay, batch: int, length: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = model.cfg
    ids = torch.full((batch, length, 1 + cfg.n_vq), cfg.audio_pad_code, dtype=torch.long, device=device)
    ids[:, :, 0] = torch.randint(0, 1000, (batch, length))
    ids[:, -1, 0] = cfg.gen_slot
    ids[:, -20, 0] = cfg.audio_start
    ids[:, -19:, 1:] = torch.randint(0, 1024, (batch, 19, cfg.n_vq))
    return ids, torch.ones(batch, length, dtype=torch.long, device=device)


def frames_per_second(model: MossTTSDelay, batch: int, steps: int, device: str) -> float:
    ids, mask = prompt(model, batch, 64, device)
    greedy = Sampling(0, 1.0, 50, 0, 1.0, 50, 1.1, "row")
    start = time.perf_counter()
    out = generate(model, ids, mask, steps, greedy)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    made = max(len(rows) - prompt_rows for prompt_rows, rows in out)
    return batch * made / (time.perf_counter() - start)


def no_cache_baseline(model: MossTTSDelay, steps: int, device: str) -> float:
    """Frames/s of a loop that recomputes the whole sequence each step (batch 1)."""
    ids, mask = prompt(model, 1, 64, device)
    start = time.perf_counter()
    with torch.inference_mode():
        for _ in range(steps):
            logits, _, _ = model(ids, mask)
            row = torch.cat([logits[0][:, -1:].argmax(-1)[..., None]] + [h[:, -1:].argmax(-1)[..., None] for h in logits[1:]], -1)
            ids, mask = torch.cat([ids, row], 1), torch.cat([mask, mask[:, -1:]], 1)
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--full", action="store_true", help="full-size 8B configuration (GPU)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--bandwidth", type=float, default=4.8e12, help="HBM bytes/s for the bound (H200: 4.8e12)")
    args = parser.parse_args()
    dtype = torch.bfloat16 if args.device.startswith("cuda") else torch.float32
    model = build(FULL if args.full else SMALL, args.device, dtype)
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    print(f"parameters {sum(p.numel() for p in model.parameters()) / 1e6:.1f} M, weights {weights / 1e9:.2f} GB, {args.device}")
    base = no_cache_baseline(model, args.steps, args.device)
    for batch in (1, 8):
        fps = frames_per_second(model, batch, args.steps, args.device)
        print(f"batch {batch}: {fps:.1f} frames/s ({fps / 12.5:.2f}x real time); {fps / base:.1f}x the no-cache loop")
    if args.device.startswith("cuda"):
        print(f"bandwidth bound (batch 1): {args.bandwidth / weights:.1f} steps/s")


if __name__ == "__main__":
    main()
