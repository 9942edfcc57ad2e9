"""The loaded MOSS-TTSD (LM + codec + tokenizer) and the steps of one render.

``prompt rows → generate → codes → decode``, for one block or a batch of independent
blocks.  Shapes: token grids ``[rows, 8]`` int64; codes ``[frames, 8]`` (0..1023, 12.5
frames/s); audio float32 ``(n,)`` at the codec's output rate (32 kHz for v0.7's codec,
24 kHz for the v0.5 codec).  The v0.7 decode is the reference's prompt-augmented windowed
decode (the speakers' references, padded to 20 s, prefix every 10 s window); v0.5 uses the
codec's overlap decode.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from podcast import MissingModelError, SynthesisError

from .generate import Decoder, GenerationConfig, GenerationResult
from .processor import build_prompt, delay, dialogue_text, left_pad
from .voices import PromptAudio, Reference

__all__ = ["Runtime", "load_runtime"]

SPECIAL_TOKENS = (
    "<|begin_of_style|>",
    "<|end_of_style|>",
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|begin_of_speech|>",
    "<|end_of_speech|>",
    "<speaker1>",
    "<speaker2>",
)


@dataclass
class Runtime:
    """A loaded model set.  ``tokenizer`` needs ``encode(str) -> list[int]`` and ``pad_token_id``."""

    lm: Any
    codec: Any
    tokenizer: Any
    version: str = "v0.7"
    #: Applied to prompt transcript + script before tokenizing; ``None`` in the pipeline, which
    #: hands over text already normalized with the profile the engine declares (parity tests
    #: inject the reference ``normalize_text`` here).
    normalizer: Callable[[str], str] | None = None
    decoder: Decoder = field(init=False)
    _reference_codes: dict[str, torch.Tensor] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.decoder = Decoder(self.lm)

    @property
    def sample_rate(self) -> int:
        return int(self.codec.output_sample_rate)

    @property
    def text_pad(self) -> int:
        pad = getattr(self.tokenizer, "pad_token_id", None)
        return int(pad) if pad is not None else self.lm.config.text_pad_id

    # ── inputs ──────────────────────────────────────────────────────────────
    def encode(self, wav16k: np.ndarray) -> np.ndarray:
        """16 kHz mono ``(n,)`` → codes ``[n // 1280, 8]`` int64."""
        codes = self.codec.encode(torch.from_numpy(np.ascontiguousarray(wav16k, dtype=np.float32)))
        return codes[0].cpu().numpy()

    def prompt_rows(self, prompt: PromptAudio, script: str) -> np.ndarray:
        """Delayed token grid ``[rows + 7, 8]`` of one item: template with the (normalized)
        prompt transcript + ``script``, followed by the prompt audio's codes."""
        text = dialogue_text(prompt.text, script, self.normalizer)
        codes = (
            self.encode(prompt.audio)
            if prompt.audio.shape[0] >= self.codec.cfg.encoder_downsample_rate
            else None
        )
        rows = build_prompt(self.tokenizer, text, codes)
        return delay(rows, self.text_pad)

    # ── generation ──────────────────────────────────────────────────────────
    def generate(self, items: Sequence[np.ndarray], config: GenerationConfig) -> GenerationResult:
        """Generate for delayed grids ``items`` (left-padded into one batch)."""
        batch = left_pad(list(items), self.text_pad)
        return self.decoder.generate(batch.input_ids, batch.attention_mask, config)

    # ── decoding ────────────────────────────────────────────────────────────
    def reference_codes(self, reference: Reference | None) -> torch.Tensor | None:
        """v0.7 decode prompt: the references padded/cut to 20 s, encoded (cached)."""
        if reference is None or self.version != "v0.7":
            return None
        key = hashlib.sha256(reference.audio.tobytes()).hexdigest()
        if key not in self._reference_codes:
            wav = torch.from_numpy(np.ascontiguousarray(reference.audio, dtype=np.float32))
            self._reference_codes[key] = self.codec.encode_prompt_reference(wav)
        return self._reference_codes[key]

    def decode(self, codes: np.ndarray, reference: Reference | None) -> np.ndarray:
        """Codes ``[frames, 8]`` → float32 ``(n,)`` at :attr:`sample_rate`."""
        if codes.shape[0] == 0:
            raise SynthesisError(
                "moss-ttsd generated no speech for this block; try another seed or shorter blocks"
            )
        frames = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.int64))
        prefix = self.reference_codes(reference)
        if prefix is not None:
            audio = self.codec.prompt_augmented_decode(frames, prefix)
        else:
            audio = self.codec.decode(frames)[0]
        return audio.float().cpu().numpy()


def _check_tokenizer(tokenizer: Any, where: Any) -> None:
    """The tokenizer must know the MOSS-TTSD special tokens as single tokens."""
    unknown = [t for t in SPECIAL_TOKENS if len(tokenizer.encode(t, add_special_tokens=False)) != 1]
    if unknown:
        raise MissingModelError(
            f"the tokenizer in {where} is not a MOSS-TTSD tokenizer (no single token for {', '.join(unknown)}); "
            "use the tokenizer files shipped with the checkpoint"
        )


def load_runtime(
    model_dir: Any,
    codec_dir: Any,
    *,
    version: str,
    device: str,
    dtype: str,
    attention: str,
) -> Runtime:
    """Load LM, tokenizer and codec from local folders (offline, no remote code)."""
    from .loading import load_lm, load_tokenizer, parse_dtype
    from .xy_tokenizer import load_codec

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch_dtype = parse_dtype(dtype)
    lm = load_lm(model_dir, device=device, dtype=torch_dtype, attention=attention)
    tokenizer = load_tokenizer(model_dir)
    _check_tokenizer(tokenizer, model_dir)
    codec = load_codec(codec_dir, device=device, dtype=torch_dtype)
    return Runtime(lm, codec, tokenizer, version)
