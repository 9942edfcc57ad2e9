"""Shared helpers of the ZipVoice plugin tests: the reference fixture folder and cached runs of
its cases through the native pipeline."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
DEFAULT_FIXTURES = REPO / ".." / "shared" / "fixtures" / "zipvoice_dialog"


def fixtures_root() -> Path:
    """``$ZIPVOICE_FIXTURES`` or ``../shared/fixtures/zipvoice_dialog`` from the repository root;
    skips the calling test when the folder is absent."""
    root = Path(os.environ.get("ZIPVOICE_FIXTURES") or DEFAULT_FIXTURES).resolve()
    if not (root / "model").is_dir():
        pytest.skip(f"ZipVoice reference fixtures not found at {root} (set ZIPVOICE_FIXTURES)")
    return root


def test_rows(root: Path) -> dict[str, tuple[str, list[str]]]:
    """Case name -> (model folder name, TSV fields) from the CLI test lists."""
    rows: dict[str, tuple[str, list[str]]] = {}
    for tsv, model in (("test_mono.tsv", "zipvoice_dialog"), ("test_stereo.tsv", "zipvoice_dialog_stereo")):
        path = root / "inputs" / tsv
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    fields = line.split("\t")
                    rows[fields[0]] = (model, fields)
    return rows


def case_names() -> list[str]:
    root = Path(os.environ.get("ZIPVOICE_FIXTURES") or DEFAULT_FIXTURES).resolve()
    if not (root / "cases").is_dir():
        return ["(fixtures absent)"]
    return sorted(p.name for p in (root / "cases").iterdir() if (p / "meta.json").is_file())


@cache
def synthesizer(model: str) -> Any:
    from podcast_gen_zipvoice.pipeline import load_synthesizer

    root = fixtures_root()
    return load_synthesizer(root / "model" / model, root / "model" / "vocos")


@cache
def run_case(name: str) -> dict[str, Any]:
    """Run one fixture case as the reference CLI did; returns the trace, output and references."""
    import soundfile as sf
    import torch

    from podcast_gen_zipvoice.pipeline import GenerationSettings

    root = fixtures_root()
    meta = json.loads((root / "cases" / name / "meta.json").read_text(encoding="utf-8"))
    arrays = dict(np.load(root / "cases" / name / "arrays.npz"))
    model, fields = test_rows(root)[name]
    if len(fields) == 4:
        prompt_text, wav_paths, text = fields[1], [fields[2]], fields[3]
    else:
        prompt_text, wav_paths, text = f"[S1]{fields[1]}[S2]{fields[2]}", [fields[3], fields[4]], fields[5]
    syn = synthesizer(model)
    syn.trace = trace = {}
    layers: list[Any] = []
    stacks: list[Any] = []
    encoder_stack = syn.model.text_encoder.encoders[0]
    n_layers = len(encoder_stack.layers)
    encoder_stack.on_layer = lambda i, x: layers.append(x.detach().clone()) if len(layers) < n_layers else None
    decoder = syn.model.fm_decoder
    decoder.on_stack = lambda i, x: stacks.append(x.detach().clone()) if len(stacks) < len(decoder.encoders) else None
    try:
        wavs = [sf.read(root / p, dtype="float32", always_2d=True)[0].T for p in wav_paths]
        prompt = syn.prepare_prompt(wavs)

        def noise(k: int, shape: tuple[int, int, int]) -> torch.Tensor:
            rng = np.random.default_rng(meta[f"b{k}_noise_seed"])
            return torch.from_numpy(rng.standard_normal(shape, dtype=np.float32))

        args = meta.get("b0_sample_args", {})
        settings = GenerationSettings(
            num_step=int(args.get("num_step", 16)),
            guidance_scale=float(args.get("guidance_scale", 1.5)),
            t_shift=float(args.get("t_shift", 0.5)),
            speed=float(args.get("speed", 1.0)),
        )
        output = syn.generate(prompt_text, prompt, text, settings, noise=noise)
    finally:
        syn.trace = None
        encoder_stack.on_layer = None
        decoder.on_stack = None
    for i, x in enumerate(layers):
        trace[f"b0_text_encoder_layer{i}_out"] = x
    for j, x in enumerate(stacks):
        trace[f"b0_s0_fm_stack{j}_out"] = x
    return {"meta": meta, "arrays": arrays, "trace": trace, "output": output, "root": root, "model": model}


def as_numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
