"""CosyVoice 2 at full size with random weights: speed of each stage, with baselines measured in
the same run (ratios are robust to a busy machine).

* LM: our Qwen2 decoder with a static KV cache vs transformers' ``Qwen2ForCausalLM`` with its
  default dynamic cache (the upstream way), same weights (shared tensors), same steps;
* flow: several sentence groups in one batch vs one by one;
* HiFT: the same, on the flow's mels.

    python plugins/cosyvoice/benchmarks/bench_cosyvoice.py [--device cpu] [--tokens 50] [--groups 3]

No download: the modules are built from the released sizes and initialised at random. Peak memory
is about 3 GB (fp32 LM 2 GB + flow 0.45 GB + HiFT 0.08 GB).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from podcast import peak_rss_mb


def _timed(fn, device: str):  # noqa: ANN001, ANN202
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def bench_lm(device: str, steps: int, prompt: int) -> dict:
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from podcast_gen_cosyvoice.config import RELEASED_QWEN
    from podcast_gen_cosyvoice.lm import KVCache, Qwen2LM, QwenConfig, Sampling

    cfg = QwenConfig(**RELEASED_QWEN)
    lm = Qwen2LM(cfg).to(device).eval()
    with torch.device("meta"):
        hf = Qwen2ForCausalLM(Qwen2Config(**RELEASED_QWEN, tie_word_embeddings=True))
    hf.load_state_dict(lm.llm.model.state_dict(), assign=True)  # the same tensors
    hf.model.rotary_emb = type(hf.model.rotary_emb)(config=hf.config)  # its buffer was left on meta
    hf.to(device).eval()
    lm_input = torch.randn(1, prompt, cfg.hidden_size, device=device) * 0.02
    sampling = Sampling(greedy=True)

    def ours() -> list[int]:
        return lm.generate(lm_input, steps, steps, sampling)

    @torch.inference_mode()
    def upstream_way() -> list[int]:
        out, past, x = [], None, lm_input
        for i in range(steps):
            res = hf.model(inputs_embeds=x, past_key_values=past, use_cache=True)
            past = res.past_key_values
            logp = lm.llm_decoder(res.last_hidden_state[:, -1]).log_softmax(-1)[0]
            if i < steps:
                logp[lm.speech_token_size] = float("-inf")
            token = int(logp.argmax())
            out.append(token)
            x = lm.speech_embedding.weight[token][None, None]
        return out

    ours()  # warm-up (allocations, kernels)
    a, t_ours = _timed(ours, device)
    b, t_base = _timed(upstream_way, device)
    del KVCache
    return {"steps": steps, "prompt_positions": prompt, "ours_s": round(t_ours, 3), "baseline_s": round(t_base, 3),
            "ours_tokens_per_s": round(steps / t_ours, 2), "speedup_vs_dynamic_cache": round(t_base / t_ours, 3),
            "same_tokens": a == b}  # fmt: skip


def bench_flow_hift(device: str, groups: int, tokens: int, prompt: int) -> dict:
    from podcast_gen_cosyvoice.config import RELEASED
    from podcast_gen_cosyvoice.flow import build_flow_v2
    from podcast_gen_cosyvoice.frontend import PromptFeatures
    from podcast_gen_cosyvoice.hift import build_hift, fold_weight_norm
    from podcast_gen_cosyvoice.model import CosyVoice2, Segment, VoicePrompt

    model = CosyVoice2.__new__(CosyVoice2)  # the batching code, with random full-size modules
    model.device = torch.device(device)
    model.flow = build_flow_v2(RELEASED[2]["flow"]).to(device).eval()
    model.hift = build_hift(RELEASED[2]["hift"], 2)
    fold_weight_norm(model.hift)
    model.hift.to(device).eval()
    gen = torch.Generator().manual_seed(0)
    voice = VoicePrompt(PromptFeatures(torch.randint(0, 6561, (prompt,), generator=gen),
                                       torch.randn(2 * prompt, 80, generator=gen) - 5, torch.randn(1, 192, generator=gen)))  # fmt: skip
    segments = [Segment(torch.randint(0, 6561, (tokens - 7 * i,), generator=gen).tolist(), voice, i) for i in range(groups)]
    audio_seconds = sum(len(s.tokens) for s in segments) / 25.0

    with torch.inference_mode():
        model.token2mel(segments[:1])  # warm-up
        mels, t_flow_batch = _timed(lambda: model.token2mel(segments), device)
        _, t_flow_single = _timed(lambda: [model.token2mel([s]) for s in segments], device)
        gens = [torch.Generator().manual_seed(i) for i in range(groups)]
        _, t_hift_batch = _timed(lambda: model.mel2wav(mels, gens), device)
        _, t_hift_single = _timed(lambda: [model.mel2wav([m], [g]) for m, g in zip(mels, gens, strict=True)], device)
    return {"groups": groups, "generated_tokens": [len(s.tokens) for s in segments], "prompt_tokens": prompt,
            "audio_s": audio_seconds, "flow_batch_s": round(t_flow_batch, 3), "flow_single_s": round(t_flow_single, 3),
            "flow_speedup": round(t_flow_single / t_flow_batch, 3), "hift_batch_s": round(t_hift_batch, 3),
            "hift_single_s": round(t_hift_single, 3), "hift_speedup": round(t_hift_single / t_hift_batch, 3),
            "flow_rtf": round(t_flow_batch / audio_seconds, 3), "hift_rtf": round(t_hift_batch / audio_seconds, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--tokens", type=int, default=50, help="LM steps, and speech tokens per sentence group")
    parser.add_argument("--groups", type=int, default=3, help="sentence groups batched through flow and HiFT")
    parser.add_argument("--prompt", type=int, default=60, help="prompt speech tokens (2.4 s)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--lm-only", action="store_true", help="only the LM comparison")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    report = {"device": args.device, "threads": torch.get_num_threads(), "torch": torch.__version__}
    if not args.lm_only:
        report["flow_hift"] = bench_flow_hift(args.device, args.groups, args.tokens, args.prompt)
        print(json.dumps(report["flow_hift"]), flush=True)
    report["lm"] = bench_lm(args.device, args.tokens, 1 + 40 + 1 + args.prompt)
    if args.lm_only:
        print(json.dumps(report, indent=1))
        return
    lm_rtf = report["lm"]["ours_s"] / (args.tokens / 25.0)
    report["total_rtf_estimate"] = round(lm_rtf + report["flow_hift"]["flow_rtf"] + report["flow_hift"]["hift_rtf"], 3)
    report["peak_rss_gb"] = round(peak_rss_mb() / 1024, 2)
    if args.device.startswith("cuda"):
        report["peak_cuda_gb"] = round(torch.cuda.max_memory_allocated() / 1e9, 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
