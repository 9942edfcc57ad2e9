"""Native, weight-compatible XY-Tokenizer (MOSS-TTSD v0.5/v0.7 speech codec).

16 kHz mono speech <-> codes ``[T, 8]`` (8 RVQ codebooks x 1024 entries, 12.5 frames/s) <->
24 kHz (v0.5) or 32 kHz (v0.7) speech. Entry points::

    codec = load_codec("/models/MOSS_TTSD_tokenizer", device="cuda", dtype=torch.bfloat16)
    codes = codec.encode(wav_16k)                        # [B, T, 8] int64
    wav = codec.decode(codes)                            # [B, T * 2560] float32 @ 32 kHz
    ref = codec.encode_prompt_reference(prompt_16k)      # [250, 8], prompt padded to 20 s
    out = codec.prompt_augmented_decode(gen_codes, ref)  # [n] float32, v0.7 windowed decode
    for piece in codec.iter_decode(frame_chunks, ref):   # streaming, same samples as above
        ...

Torch is imported lazily: importing this package is cheap.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CodecConfig",
    "WindowPlan",
    "XYTokenizer",
    "build_codec",
    "load_codec",
    "load_config_file",
    "parse_generator_params",
    "preset_config",
]

_LAZY = {
    "CodecConfig": "config",
    "load_config_file": "config",
    "parse_generator_params": "config",
    "preset_config": "presets",
    "WindowPlan": "windowing",
    "XYTokenizer": "model",
    "build_codec": "loading",
    "load_codec": "loading",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
