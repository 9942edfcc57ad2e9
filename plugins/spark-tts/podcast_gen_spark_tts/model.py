"""One Spark-TTS model folder, loaded offline: the LM and tokenizer (``LLM/``), BiCodec
(``BiCodec/``), wav2vec2 (``wav2vec2-large-xlsr-53/``, loaded only when a reference audio must
be tokenized) and the top-level ``config.yaml``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from podcast import missing_files, missing_safetensors

from .codec import SparkCodec
from .lm import Sampling, SparkLM, generation_defaults, load_lm
from .prompts import SparkVocab

REPOS = ("SparkAudio/Spark-TTS-0.5B",)
REQUIRED = (
    "config.yaml",
    "BiCodec/config.yaml",
    "BiCodec/model.safetensors",
    "LLM/config.json",
    "LLM/tokenizer_config.json",
    ("LLM/tokenizer.json", "LLM/vocab.json"),
    "wav2vec2-large-xlsr-53/config.json",
    "wav2vec2-large-xlsr-53/preprocessor_config.json",
    ("wav2vec2-large-xlsr-53/pytorch_model.bin", "wav2vec2-large-xlsr-53/model.safetensors"),
)


def missing(folder: Path) -> list[str]:
    """Files a complete Spark-TTS folder has and ``folder`` lacks (empty when complete)."""
    lacking = missing_files(folder, REQUIRED)
    if (folder / "LLM").is_dir():
        lacking += [f"LLM/{name}" for name in missing_safetensors(folder / "LLM")]
    else:
        lacking.append("LLM/model.safetensors")
    return lacking


@dataclass(frozen=True, slots=True)
class Utterance:
    """What one generation produced: the parsed ids and whether it stopped by itself."""

    global_ids: list[int]
    semantic_ids: list[int]
    generated: list[int]


class SparkTTS:
    """Prompt ids in, ids and audio out; see :mod:`podcast_gen_spark_tts.prompts` for prompts."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        self.folder = folder
        self.device = device
        self.codec = SparkCodec(folder, device, wav2vec2=False)
        model, self.tokenizer = load_lm(folder / "LLM", device)
        extra = generation_defaults(folder / "LLM")
        eos = extra.get("eos_token_id", model.config.eos_token_id)
        self.lm = SparkLM(model, eos)
        self.repetition_penalty = float(extra.get("repetition_penalty", 1.0))
        bicodec = self.codec.model
        first_eos = eos if isinstance(eos, int) else eos[0]
        self.vocab = SparkVocab.resolve(self.tokenizer, bicodec.global_vocab, bicodec.semantic_vocab, first_eos)

    @property
    def rate(self) -> int:
        return self.codec.rate

    @property
    def token_num(self) -> int:
        return self.codec.model.token_num

    def sampling(self, sampling: Sampling) -> Sampling:
        """``sampling`` with the folder's generation-config repetition penalty applied."""
        return replace(sampling, repetition_penalty=self.repetition_penalty) if self.repetition_penalty != 1.0 else sampling

    def encode(self, prompt: str) -> list[int]:
        """Prompt ids as the reference gets them (no BOS, no special handling)."""
        return list(self.tokenizer([prompt])["input_ids"][0])

    def generate(self, prompts: Sequence[str], sampling: Sampling, seed: int) -> list[Utterance]:
        """Decode a batch of prompt strings together and parse each result."""
        generator = torch.Generator(device=self.lm.device).manual_seed(seed)
        rows = self.lm.generate([self.encode(p) for p in prompts], self.sampling(sampling), generator=generator)
        return [Utterance(*self.vocab.parse(row), row) for row in rows]

    def tokenize(self, path: Path) -> tuple[list[int], list[int]]:
        """(global ids, semantic ids) of a reference audio file."""
        return self.codec.tokenize(path)

    def detokenize(self, global_ids: Sequence[int], semantic_ids: Sequence[int]) -> np.ndarray:
        return self.codec.detokenize(list(global_ids), list(semantic_ids))
