"""Shared helpers of the CosyVoice plugin tests: the fixture folder, array comparisons and a
tiny random CosyVoice 2 folder in the real layout (for the engine tests, no fixtures needed)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "cosyvoice"


def fixture_root() -> Path:
    """``$COSYVOICE_FIXTURES`` or ``../shared/fixtures/cosyvoice``; skips the test when absent."""
    root = Path(os.environ.get("COSYVOICE_FIXTURES", DEFAULT_FIXTURES))
    if not (root / "reference" / "meta.json").is_file():
        pytest.skip(f"CosyVoice reference fixtures not found at {root} (set COSYVOICE_FIXTURES)")
    return root


class Arrays:
    """One ``.npz`` trace; ``need`` skips a check whose arrays this fixture set does not store."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            pytest.skip(f"{path.name} is not in this fixture set")
        self.path = path
        self.data = np.load(path)

    def has(self, *keys: str) -> bool:
        return all(k in self.data.files for k in keys)

    def need(self, *keys: str) -> None:
        missing = [k for k in keys if k not in self.data.files]
        if missing:
            pytest.skip(f"{self.path.name} stores no {', '.join(missing)}")

    def __getitem__(self, key: str) -> np.ndarray:
        self.need(key)
        return self.data[key]

    def t(self, key: str):  # noqa: ANN201 (torch imported lazily)
        import torch

        return torch.from_numpy(np.ascontiguousarray(self[key]))


def close(actual, expected, tol: float, what: str, *, relative: bool = False) -> float:  # noqa: ANN001
    """Max (relative) difference; fails with the figure when above ``tol`` or shapes differ."""
    a = np.asarray(actual.detach().cpu().numpy() if hasattr(actual, "detach") else actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != reference {e.shape}"
    diff = np.abs(a - e)
    if relative:
        diff = diff / np.maximum(np.abs(e), 1e-6)
    worst = float(diff.max()) if diff.size else 0.0
    assert worst <= tol, f"{what}: max {'relative ' if relative else ''}difference {worst:.3g} > {tol:g}"
    return worst


def meta(root: Path) -> dict:
    return json.loads((root / "reference" / "meta.json").read_text(encoding="utf-8"))


# ── a tiny random CosyVoice 2 folder ───────────────────────────────────────────────────────

TINY_YAML = """# tiny random CosyVoice 2 model for tests
sample_rate: 24000
llm_input_size: 32
llm_output_size: 32
spk_embed_dim: 192
token_frame_rate: 25
token_mel_ratio: 2
chunk_size: 25
llm: !new:cosyvoice.llm.llm.Qwen2LM
    llm_input_size: !ref <llm_input_size>
    llm_output_size: !ref <llm_output_size>
    speech_token_size: 6561
    llm: !new:cosyvoice.llm.llm.Qwen2Encoder
        pretrain_path: ''
    sampling: !name:cosyvoice.utils.common.ras_sampling
        top_p: 0.8
        top_k: 25
        win_size: 10
        tau_r: 0.1
flow: !new:cosyvoice.flow.flow.CausalMaskedDiffWithXvec
    input_size: 32
    output_size: 80
    spk_embed_dim: !ref <spk_embed_dim>
    vocab_size: 6561
    token_mel_ratio: !ref <token_mel_ratio>
    pre_lookahead_len: 3
    encoder: !new:cosyvoice.transformer.upsample_encoder.UpsampleConformerEncoder
        output_size: 32
        attention_heads: 2
        linear_units: 64
        num_blocks: 1
        input_size: 32
        static_chunk_size: !ref <chunk_size>
    decoder: !new:cosyvoice.flow.flow_matching.CausalConditionalCFM
        in_channels: 240
        spk_emb_dim: 80
        cfm_params: !new:omegaconf.DictConfig
            content:
                t_scheduler: 'cosine'
                inference_cfg_rate: 0.7
        estimator: !new:cosyvoice.flow.decoder.CausalConditionalDecoder
            in_channels: 320
            out_channels: 80
            channels: [32]
            attention_head_dim: 16
            n_blocks: 1
            num_mid_blocks: 1
            num_heads: 2
            static_chunk_size: !ref <chunk_size> * <token_mel_ratio>
hift: !new:cosyvoice.hifigan.generator.HiFTGenerator
    in_channels: 80
    base_channels: 16
    nb_harmonics: 8
    sampling_rate: !ref <sample_rate>
    nsf_alpha: 0.1
    nsf_sigma: 0.003
    nsf_voiced_threshold: 10
    upsample_rates: [8, 5, 3]
    upsample_kernel_sizes: [16, 11, 7]
    istft_params:
        n_fft: 16
        hop_len: 4
    resblock_kernel_sizes: [3, 7, 11]
    resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    source_resblock_kernel_sizes: [7, 7, 11]
    source_resblock_dilation_sizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]]
    lrelu_slope: 0.1
    audio_limit: 0.99
    f0_predictor: !new:cosyvoice.hifigan.f0_predictor.ConvRNNF0Predictor
        num_class: 1
        in_channels: 80
        cond_channels: 16
feat_extractor: !name:matcha.utils.audio.mel_spectrogram
    n_fft: 1920
    num_mels: 80
    sampling_rate: !ref <sample_rate>
    hop_size: 480
    win_size: 1920
    fmin: 0
    fmax: 8000
    center: False
"""


def _byte_vocab() -> dict[str, int]:
    """GPT-2's byte-to-unicode table: 256 single-character tokens."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars, extra = list(keep), 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): i for i, c in enumerate(chars)}


def _write_qwen(folder: Path, vocab_size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _byte_vocab()
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    n = len(vocab)
    added = {str(n + i): {"content": t, "lstrip": False, "normalized": False, "rstrip": False, "single_word": False,
                          "special": True} for i, t in enumerate(("<|endoftext|>", "<|im_start|>", "<|im_end|>"))}  # fmt: skip
    config = {"tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
              "bos_token": None, "unk_token": None, "model_max_length": 32768, "added_tokens_decoder": added,
              "errors": "replace", "clean_up_tokenization_spaces": False, "split_special_tokens": False}  # fmt: skip
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    qwen = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": vocab_size,
            "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
            "max_position_embeddings": 32768}  # fmt: skip
    (folder / "config.json").write_text(json.dumps(qwen), encoding="utf-8")


def _write_onnx(root: Path) -> None:
    """Stand-in frontend models with the real input/output conventions (not the real networks)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    # speech tokenizer: feats [1, 128, T], feats_length [1] -> indices [1, ceil(T / 4)] in [0, 6561)
    weights = numpy_helper.from_array(rng.standard_normal((1, 128, 1)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Mul", ["feats", "w"], ["scaled"]),
        helper.make_node("ReduceSum", ["scaled", "axes1"], ["summed"], keepdims=0),
        helper.make_node("Slice", ["summed", "starts", "ends", "axes", "steps"], ["every4"]),
        helper.make_node("Abs", ["every4"], ["mag"]),
        helper.make_node("Mul", ["mag", "k"], ["big"]),
        helper.make_node("Cast", ["big"], ["ints"], to=TensorProto.INT32),
        helper.make_node("Mod", ["ints", "n"], ["indices"]),
    ]
    consts = [weights, numpy_helper.from_array(np.array([1], np.int64), "axes1"),
              numpy_helper.from_array(np.array([0], np.int64), "starts"),
              numpy_helper.from_array(np.array([2**31 - 1], np.int64), "ends"),
              numpy_helper.from_array(np.array([1], np.int64), "axes"),
              numpy_helper.from_array(np.array([4], np.int64), "steps"),
              numpy_helper.from_array(np.array(300.0, np.float32), "k"),
              numpy_helper.from_array(np.array(6561, np.int32), "n")]  # fmt: skip
    graph = helper.make_graph(
        nodes, "tokenizer",
        [helper.make_tensor_value_info("feats", TensorProto.FLOAT, [1, 128, None]),
         helper.make_tensor_value_info("feats_length", TensorProto.INT32, [1])],
        [helper.make_tensor_value_info("indices", TensorProto.INT32, [1, None])], consts,
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), root / "speech_tokenizer_v2.onnx")
    proj = numpy_helper.from_array(rng.standard_normal((80, 192)).astype(np.float32) * 0.3, "proj")
    nodes = [helper.make_node("ReduceMean", ["input", "axes1"], ["pooled"], keepdims=0),
             helper.make_node("MatMul", ["pooled", "proj"], ["output"])]  # fmt: skip
    graph = helper.make_graph(
        nodes, "campplus", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, None, 80])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, 192])],
        [proj, numpy_helper.from_array(np.array([1], np.int64), "axes1")],
    )  # fmt: skip
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), root / "campplus.onnx")


def make_tiny_folder(root: Path, seed: int = 5) -> Path:
    """A random CosyVoice2-0.5B-layout folder with tiny sizes (written once per path)."""
    import torch

    from podcast_gen_cosyvoice.config import read_yaml
    from podcast_gen_cosyvoice.flow import build_flow_v2
    from podcast_gen_cosyvoice.hift import build_hift
    from podcast_gen_cosyvoice.lm import build_lm

    if (root / "hift.pt").is_file():
        return root
    root.mkdir(parents=True, exist_ok=True)
    (root / "cosyvoice2.yaml").write_text(TINY_YAML, encoding="utf-8")
    cfg = read_yaml(root / "cosyvoice2.yaml")
    _write_qwen(root / "CosyVoice-BlankEN", 288)
    torch.manual_seed(seed)
    lm = build_lm(root / "CosyVoice-BlankEN" / "config.json")
    with torch.no_grad():
        lm.llm_decoder.weight.mul_(0.5)
        lm.llm_decoder.bias.zero_()
        lm.llm_decoder.bias[6561] = 6.0  # stops on its own soon after min_len
    torch.save(lm.state_dict(), root / "llm.pt")
    torch.save(build_flow_v2(cfg["flow"]).state_dict(), root / "flow.pt")
    hift = build_hift(cfg["hift"], 2)
    with torch.no_grad():
        hift.f0_predictor.classifier.bias.fill_(150.0)  # voiced, ~150 Hz
    torch.save(hift.state_dict(), root / "hift.pt")
    _write_onnx(root)
    return root
