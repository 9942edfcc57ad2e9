"""Real-time factor of ZipVoice-Dialog at full size (random weights) on this machine.

Builds the published configuration (fm decoder 512-dim U-Net [2,2,4,4,4] layers, text encoder
4 x 192, Vocos 512 x 8) with random weights, then times one chunk: a prompt of PROMPT seconds
and GEN seconds of generated speech, at 16 and 8 flow steps (each step runs the decoder on a
doubled batch for guidance), plus the Vocos decode. RTF = compute seconds / generated seconds.
A baseline measured in the same run (one 512x512 float32 matmul loop) is printed so numbers
from a busy machine can be compared, and so is the CPU-time RTF (process CPU seconds / threads /
generated seconds), which a shared machine inflates far less than the wall-clock one.

    python plugins/zipvoice/benchmarks/zipvoice_rtf.py [--prompt 6] [--gen 10] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from podcast.neural.vocos import Vocos, VocosConfig
from podcast_gen_zipvoice.model import DialogConfig, build_model


def _randomise(module: torch.nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=gen) / fan_in**0.5)
            elif name.endswith("bypass_scale"):
                p.fill_(0.5)
            elif name.endswith("log_scale"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def _baseline(seconds: float = 1.0) -> float:
    a = torch.randn(512, 512)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ a
        n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompt", type=float, default=6.0, help="prompt seconds")
    parser.add_argument("--gen", type=float, default=10.0, help="generated seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, nargs="+", default=[16, 8])
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    cfg = DialogConfig(vocab_size=388, pad_id=0, spk_a_id=360, spk_b_id=361)
    model = build_model(cfg, device="cpu")
    model.to_empty(device="cpu")
    _randomise(model)
    model = model.to(device).eval()
    vocos = Vocos(VocosConfig()).to(device).eval()

    frames_prompt = round(args.prompt * 24000 / 256)
    frames_gen = round(args.gen * 24000 / 256)
    tokens_per_second = 12.0
    prompt_tokens = [5 + i % 300 for i in range(round(args.prompt * tokens_per_second))]
    text = [360] + [5 + i % 300 for i in range(round(args.gen * tokens_per_second))]
    prompt_feats = torch.randn(frames_prompt, cfg.feat_dim, device=device) * 0.1
    base_before = _baseline()
    results = {"prompt_s": args.prompt, "gen_s": args.gen, "threads": args.threads, "device": str(device)}
    with torch.inference_mode():
        for steps in args.steps:
            if device.type == "cuda":
                torch.cuda.synchronize()
            start, cpu = time.perf_counter(), time.process_time()
            feats, lens = model.sample([text], prompt_tokens, prompt_feats, lambda s: torch.randn(s), num_step=steps)
            wav = vocos(feats[0, : int(lens[0])].t()[None] / 0.1)
            if device.type == "cuda":
                torch.cuda.synchronize()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            seconds = wav.shape[-1] / 24000
            results[f"rtf_{steps}"] = round(elapsed / seconds, 3)
            results[f"cpu_rtf_{steps}"] = round(cpu / args.threads / seconds, 3)
            results[f"wall_{steps}_s"] = round(elapsed, 2)
            results["generated_s"] = round(seconds, 2)
    results["baseline_matmul_per_s"] = round((base_before + _baseline()) / 2, 1)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
