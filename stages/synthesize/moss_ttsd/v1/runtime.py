"""MOSS-TTSD v1.0 as the ``moss-ttsd`` engine renders it: references, prompt, generation, audio.

One request is one block: per-speaker references (24 kHz clip + exact transcript, up to five
speakers) go into the user turn; the references' audio followed by the carried tail of the
previous block (with its turns) is the assistant prompt that generation continues
(``voice_clone_and_continuation``); without either, generation starts a fresh assistant turn.

Where the reference stops early (it sometimes ends the audio before the script is spoken), the
frame budget tells: when the audio is much shorter than the text needs, the turns it cannot have
spoken are rendered again as a continuation of what was generated, and the audio joined.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from podcast import MissingModelError, SynthesisError, Turn

from .codec import MossAudioTokenizer, load_codec, loudness_normalize
from .decode import CHUNK_FRAMES, decode_rows
from .files import is_v1_folder
from .generate import Sampling, generate
from .model import MossTTSDelay, load_lm
from .prompt import build_prompt, pad_batch, prefixed_text

__all__ = ["V1Request", "V1Runtime", "is_v1_folder", "load_v1_runtime"]

SAMPLE_RATE = 24000
#: Audio shorter than this share of the text's estimated length means the model stopped early.
EARLY_STOP_SHARE = 0.5
MAX_CONTINUATIONS = 2
CARRY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class SpeakerReference:
    """One speaker's reference: speaker number, 24 kHz mono clip, exact transcript."""

    number: int
    audio: np.ndarray
    text: str


@dataclass(frozen=True, slots=True)
class V1Request:
    """One block: its turns, the speakers' references, and the carried audio + turns."""

    turns: tuple[Turn, ...]
    references: tuple[SpeakerReference, ...] = ()
    carried_audio: np.ndarray | None = None
    carried_turns: tuple[Turn, ...] = ()


def tagged(turns: Sequence[Turn]) -> str:
    return "".join(f"[{t.speaker}]{t.text}" for t in turns)


class V1Runtime:
    """Loaded LM, codec and tokenizer, with what a block needs (see the module docstring)."""

    def __init__(self, lm: MossTTSDelay, codec: MossAudioTokenizer, tokenizer: Any) -> None:
        self.lm, self.codec, self.tokenizer = lm, codec, tokenizer
        self.cfg = lm.cfg
        self._codes: dict[str, np.ndarray] = {}

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def device(self) -> torch.device:
        return next(self.lm.parameters()).device

    # ── inputs ──────────────────────────────────────────────────────────────
    def encode(self, wav: np.ndarray) -> np.ndarray:
        """24 kHz mono -> codes ``[frames, n_vq]`` (loudness-normalised as the processor does; cached)."""
        key = hashlib.sha256(np.ascontiguousarray(wav, dtype=np.float32).tobytes()).hexdigest()
        if key not in self._codes:
            x = loudness_normalize(torch.from_numpy(np.ascontiguousarray(wav, dtype=np.float32)))
            codes, _ = self.codec.encode(x[None, None].to(self.device), n_q=self.cfg.n_vq)
            self._codes[key] = codes[:, 0].T.cpu().numpy()
        return self._codes[key]

    def prompt_ids(self, request: V1Request) -> np.ndarray:
        """The prompt of one request (``[T, 1 + n_vq]``)."""
        numbers = [int(t.speaker[1:]) for t in (*request.turns, *request.carried_turns)]
        numbers += [r.number for r in request.references]
        slots: list[np.ndarray | None] = [None] * max(numbers, default=0)
        for ref in request.references:
            slots[ref.number - 1] = self.encode(ref.audio)
        text = prefixed_text(tagged(request.carried_turns) + tagged(request.turns),
                             [(r.number, r.text) for r in request.references])  # fmt: skip
        clips = [r.audio for r in request.references]
        if request.carried_audio is not None and request.carried_audio.shape[0]:
            clips.append(request.carried_audio)
        prompt_codes = self.encode(np.concatenate(clips)) if clips else None
        if prompt_codes is not None and not len(prompt_codes):
            prompt_codes = None
        return build_prompt(self.tokenizer, self.cfg, text, slots, prompt_codes).ids

    # ── rendering ───────────────────────────────────────────────────────────
    def render(
        self, requests: Sequence[V1Request], sampling: Sampling, seed: int, max_frames: int,
        on_step: Callable[[int], None] | None = None,
    ) -> list[np.ndarray]:  # fmt: skip
        """Audio (24 kHz float32) of each request, generated together as one batch."""
        ids, mask = pad_batch([self.prompt_ids(r) for r in requests], self.cfg)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        rows = generate(self.lm, torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device),
                        max_frames + self.cfg.n_vq + 2, sampling, generator, on_step)  # fmt: skip
        return [self._audio(r.cpu().numpy(), prompt_rows) for prompt_rows, r in rows]

    def _audio(self, rows: np.ndarray, prompt_rows: int) -> np.ndarray:
        decoded = decode_rows(self.codec, rows, prompt_rows, self.cfg.audio_pad_code)
        if not decoded.segments or not sum(len(s) for s in decoded.segments):
            raise SynthesisError("moss-ttsd v1.0 generated no speech for this block; try another seed or shorter blocks")
        return np.concatenate(decoded.segments).astype(np.float32)

    def render_complete(
        self, request: V1Request, sampling: Sampling, seed: int, seconds_of: Callable[[Sequence[Turn]], float],
        max_frames: int,
    ) -> np.ndarray:  # fmt: skip
        """One block, with unspoken trailing turns re-rendered as continuations (see module docstring)."""
        audio = self.render([request], sampling, seed, max_frames)[0]
        turns, pieces = list(request.turns), [audio]
        for attempt in range(MAX_CONTINUATIONS):
            spoken = _spoken_turns(turns, len(audio) / SAMPLE_RATE, seconds_of)
            if spoken >= len(turns):
                break
            carried = audio[-int(CARRY_SECONDS * SAMPLE_RATE) :]
            turns = turns[spoken:]
            follow = V1Request(tuple(turns), request.references, carried, tuple(request.turns[:spoken][-2:]))
            audio = self.render([follow], sampling, seed + 1000 * (attempt + 1), max_frames)[0]
            pieces.append(audio)
        return np.concatenate(pieces)

    def stream(self, audio_codes: np.ndarray) -> Iterator[np.ndarray]:
        """Decode frames ``[T, n_vq]`` in 8 s chunks with left context (the codec is causal)."""
        codes = torch.from_numpy(np.ascontiguousarray(audio_codes.T))[:, None, :].to(self.device)
        for piece in self.codec.stream_decode(codes.split(CHUNK_FRAMES, dim=-1)):
            yield piece[0, 0].float().cpu().numpy()


def _spoken_turns(turns: Sequence[Turn], seconds: float, seconds_of: Callable[[Sequence[Turn]], float]) -> int:
    """How many leading turns ``seconds`` of audio can hold; all when the audio is not short."""
    needed = seconds_of(turns)
    if seconds >= EARLY_STOP_SHARE * needed:
        return len(turns)
    elapsed, count = 0.0, 0
    for turn in turns:
        elapsed += seconds_of([turn])
        if elapsed > seconds * 1.1:
            break
        count += 1
    return max(count, 1)


def load_v1_runtime(model_dir: Path, codec_dir: Path, device: str, dtype: str, attention: str) -> V1Runtime:
    """Load a v1.0 model folder and a MOSS-Audio-Tokenizer folder (offline, no remote code)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[dtype]
    lm = load_lm(model_dir, device=device, dtype=torch_dtype, attention=attention)
    codec = load_codec(codec_dir, device=device)
    return V1Runtime(lm, codec, _tokenizer(model_dir))


def _tokenizer(folder: Path) -> Any:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    try:
        return AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    except (OSError, ValueError):
        if (folder / "tokenizer.json").is_file():
            return PreTrainedTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))
        raise MissingModelError(f"MOSS-TTSD v1.0 tokenizer files missing in {folder} (tokenizer.json)") from None
