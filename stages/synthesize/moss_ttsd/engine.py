"""``moss-ttsd``: MOSS-TTSD dialogue synthesis, v0.5/v0.7 (two speakers, XY-Tokenizer) and v1.0
(up to five speakers, MossTTSDelay + MOSS-Audio-Tokenizer, see :mod:`.v1`) (Apache-2.0).

A v1.0 checkpoint folder is recognised by its ``config.json`` (``model_type`` ``moss_tts_delay``)
whatever ``version`` says, so pointing ``model_dir`` at it is enough.

One call renders a block of turns as one conversation.  The prompt is the speakers'
reference voices (per-speaker clips or one shared tagged clip, see :mod:`.voices`) followed
by the previous block's tail that the pipeline carries, so voices and pacing continue across
blocks; the returned audio starts after the prompt.  v0.7 decodes with the reference's
prompt-augmented windowed decode, v0.5 with the codec's overlap decode.  Turn spans are
estimated (text proportion snapped to pauses, :mod:`.spans`): the model reports no alignment.

Weights are read from local folders only (``model_dir``/``codec_dir``, HF layout or HF cache;
never downloaded, never remote code); the tokenizer must be the checkpoint's own HF tokenizer.
This module imports no heavy package: torch is loaded in :meth:`MossTTSDEngine.load`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from podcast import (
    Audio,
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    DialogueOptions,
    MissingModelError,
    Script,
    SynthesisError,
    Voice,
    estimate_seconds,
    estimate_turn_spans,
    option,
)
from podcast import resolve_device as _resolve_device

__all__ = ["MossTTSDEngine", "MossTTSDOptions"]

FRAME_RATE = 12.5
TRAINED_SECONDS = {"v0.5": 960.0, "v0.7": 1700.0, "v1.0": 655.0}  # v1.0: max_new_tokens 8192 frames
DEFAULT_RATE = {"v0.5": 24000, "v0.7": 32000, "v1.0": 24000}
#: Sampling defaults of each version's reference inference (temperature, top_p, repetition penalty).
SAMPLING_DEFAULTS = {"v0.5": (0.8, 0.95, 1.0), "v0.7": (0.8, 0.95, 1.0), "v1.0": (1.1, 0.9, 1.1)}
#: Reference seconds assumed before the voices are known (the README advises 10-20 s).
ASSUMED_REFERENCE_SECONDS = 30.0
#: Fraction of free GPU memory a block may plan to use.
MEMORY_HEADROOM = 0.9
#: Generation budget: twice the estimated block length plus this margin (125 frames).
MARGIN_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class MossTTSDOptions(DialogueOptions):
    """Options of the moss-ttsd synthesizer."""

    model_dir: str = option(
        "",
        "MOSS-TTSD checkpoint folder (HF layout or HF cache repo folder); empty = search the HF cache",
    )
    codec_dir: str = option(
        "", "XY-Tokenizer folder (YAML/JSON config + weights); empty = search the HF cache"
    )
    version: Literal["v0.7", "v0.5", "v1.0"] = option(
        "v0.7",
        "model generation: v0.7 (32 kHz, needs a reference voice), v0.5, or v1.0 (24 kHz, up to 5 speakers; "
        "also chosen when model_dir holds a v1.0 folder)",
    )
    device: Literal["auto", "cuda", "cpu"] = option(
        "auto", "where to run: auto = cuda when available"
    )
    dtype: Literal["bf16", "fp16", "fp32"] = option(
        "bf16", "weights and activations precision (fp16 + sdpa on V100)"
    )
    attention: Literal["sdpa", "eager", "flash_attention_2"] = option(
        "sdpa", "attention implementation"
    )
    seed: int = option(0, "sampling seed (block n uses seed + n)")
    sample: bool = option(True, "sample tokens (false = greedy decoding)")
    temperature: float = option(0.0, "sampling temperature; 0 = the version's default (0.8; v1.0: 1.1)")
    top_p: float = option(0.0, "nucleus sampling threshold; 0 = the version's default (0.95; v1.0: 0.9)")
    top_k: int = option(50, "sample among the k most likely tokens (0 = all)")
    repetition_penalty: float = option(
        0.0, "penalty on repeated tokens (1.0 = off); 0 = the version's default (1.0; v1.0: 1.1, per row)"
    )
    silence_pad: float = option(
        0.1, "seconds of silence after the prompt audio (stops prompt-continuation artefacts)"
    )
    max_new_tokens: int = option(
        0, "cap on generated frames per block (12.5/s); 0 = twice the block's estimated length"
    )
    compile: bool = option(False, "torch.compile the decode step (CUDA graphs on GPU)")
    batch: int = option(1, "blocks rendered together in one batch when carry_seconds = 0")


class MossTTSDEngine(DialogueEngine[MossTTSDOptions]):
    """MOSS-TTSD v0.5/v0.7: native two-speaker dialogue with voice cloning (GPU, Apache-2.0)."""

    name: ClassVar[str] = "moss-ttsd"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = MossTTSDOptions

    def __init__(self, options: MossTTSDOptions | None = None, context: Any = None) -> None:
        super().__init__(options, context)
        self.runtime: Any = None
        self._files: Any = None
        self._device: str | None = None
        self._sample_rate: int | None = None
        self._reference_seconds = ASSUMED_REFERENCE_SECONDS
        self._references: dict[tuple[str, ...], Any] = {}

    # ── declared up front ───────────────────────────────────────────────────
    def capabilities(self) -> Capabilities:
        version = self._version()
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=self._rate(),
            dialogue_native=True,
            max_speakers=5 if version == "v1.0" else 2,
            cloning=True,
            needs_ref_text=True,
            needs_reference=version == "v0.7",
            max_seconds_per_call=self._max_seconds(),
            streaming=True,
            device=self._resolved_device() if self._has_weights() else self.options.device,
            licence="Apache-2.0",
            commercial_ok=True,
            normalizer=f"moss-{version}",
            rank=110 if version == "v1.0" else 100,
        )

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        # Cheapest first: looking for weights costs a few stat calls, importing torch seconds.
        import importlib.util

        from .files import find_model_files

        try:
            find_model_files(options.model_dir, options.codec_dir, effective_version(options))
        except MissingModelError as exc:
            return str(exc)
        if importlib.util.find_spec("torch") is None:
            return "PyTorch is not installed"
        import torch

        if options.device != "cpu" and not torch.cuda.is_available():
            return "no CUDA GPU"
        return None

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        from .voices import check_voices, load_reference

        used = {t.speaker for t in script.turns}
        check_voices(voices, used)
        if self._version() == "v1.0":
            from .v1.engine import check_v1_voices

            self._reference_seconds = check_v1_voices(voices, used)
            self._model_files()
            self._check_memory(script)
            return
        reference = load_reference(voices, used)
        if reference is None and self.options.version == "v0.7":
            raise SynthesisError(
                'moss-ttsd v0.7 cannot speak without a reference voice; pass --voice S1=ref.wav:"exact transcript" '
                "for each speaker (or use --set synthesize.moss-ttsd.version=v0.5)"
            )
        self._reference_seconds = reference.seconds if reference is not None else 0.0
        self._model_files()
        self._check_memory(script)

    # ── lifecycle ───────────────────────────────────────────────────────────
    def load(self) -> None:
        from .runtime import load_runtime

        files, o = self._model_files(), self.options
        if self._version() == "v1.0":
            from .v1.runtime import load_v1_runtime

            self.runtime = load_v1_runtime(files.model_dir, files.codec_dir, self._resolved_device(), o.dtype, o.attention)
            return
        self.runtime = load_runtime(
            files.model_dir,
            files.codec_dir,
            version=o.version,
            device=self._resolved_device(),
            dtype=o.dtype,
            attention=o.attention,
        )

    def close(self) -> None:
        self.runtime = None
        self._references.clear()
        if self._device and self._device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

    # ── rendering ───────────────────────────────────────────────────────────
    def synthesize_block(self, block: Block) -> BlockAudio:
        if self._version() == "v1.0":
            from .v1.engine import render_block

            return render_block(self._runtime(), block, self._v1_sampling(), self.options.seed + block.index, self._max_frames(block))
        prompt = self._prompt(block)
        result = self._runtime().generate(
            [self.runtime.prompt_rows(prompt, _script_text(block))], self._generation(block)
        )
        return self._finish(block, result.codes[0], prompt.reference)

    def synthesize_blocks(self, blocks: Sequence[Block]) -> Iterator[tuple[int, BlockAudio]]:
        """Independent blocks, ``batch`` at a time in one left-padded generation."""
        size = max(int(self.options.batch), 1)
        if self._version() == "v1.0":
            from .v1.engine import render_blocks

            yield from render_blocks(self._runtime(), blocks, self._v1_sampling(), self.options.seed, size,
                                     lambda group: self._max_frames(group[0], group))  # fmt: skip
            return
        for first in range(0, len(blocks), size):
            group = blocks[first : first + size]
            prompts = [self._prompt(b) for b in group]
            items = [
                self._runtime().prompt_rows(p, _script_text(b)) for p, b in zip(prompts, group, strict=True)
            ]
            result = self.runtime.generate(items, self._generation(group[0], group))
            for row, (block, prompt) in enumerate(zip(group, prompts, strict=True)):
                yield first + row, self._finish(block, result.codes[row], prompt.reference)

    def iter_synthesize(self, block: Block) -> Iterator[Audio]:
        """Stream one block: float32 audio pieces (every ~6.8 s of speech) at the codec rate,
        seamless against :meth:`synthesize_block` (v0.7; same seed gives the same samples)."""
        if self._version() == "v1.0":
            from .v1.engine import stream_block

            for piece in stream_block(self._runtime(), block, self._v1_sampling(), self.options.seed + block.index,
                                      self._max_frames(block)):  # fmt: skip
                yield Audio(piece, self.runtime.sample_rate)
            return
        from .streaming import stream_audio

        prompt = self._prompt(block)
        item = self._runtime().prompt_rows(prompt, _script_text(block))
        for piece in stream_audio(self.runtime, item, self._generation(block), prompt.reference):
            yield Audio(piece, self.runtime.sample_rate)

    # ── helpers ─────────────────────────────────────────────────────────────
    def _runtime(self) -> Any:
        if self.runtime is None:
            self.load()
        return self.runtime

    def _prompt(self, block: Block) -> Any:
        from .voices import block_prompt, load_reference

        # Every block gets the same references (all speakers), so timbre and decode stay stable.
        speakers = sorted(block.voices)
        key = tuple(block.voices[s].key for s in speakers)
        if key not in self._references:
            self._references[key] = load_reference(block.voices, speakers)
        reference = self._references[key]
        if reference is None and self.options.version == "v0.7":
            raise SynthesisError(
                'moss-ttsd v0.7 needs a reference voice; pass --voice S1=ref.wav:"exact transcript"'
            )
        return block_prompt(reference, block.prompt, self.options.silence_pad)

    def _generation(self, block: Block, group: Sequence[Block] = ()) -> Any:
        from .generate import GenerationConfig
        from .sampling import SamplingSettings

        o = self.options
        temperature, top_p, penalty = self._sampling_values()
        sampling = SamplingSettings.uniform(
            8,
            do_sample=o.sample,
            temperature=temperature,
            top_k=o.top_k,
            top_p=top_p,
            repetition_penalty=penalty,
        )
        return GenerationConfig(
            max_new_tokens=self._max_frames(block, group), sampling=sampling, seed=o.seed + block.index, compile=o.compile
        )

    def _sampling_values(self) -> tuple[float, float, float]:
        """Temperature, top-p and repetition penalty, the version's defaults where 0."""
        o = self.options
        defaults = SAMPLING_DEFAULTS[self._version()]
        return (o.temperature or defaults[0], o.top_p or defaults[1], o.repetition_penalty or defaults[2])

    def _v1_sampling(self) -> Any:
        from .v1.generate import Sampling

        temperature, top_p, penalty = self._sampling_values()
        t = temperature if self.options.sample else 0.0
        return Sampling(audio_temperature=t, audio_top_p=top_p, audio_top_k=self.options.top_k,
                        audio_repetition_penalty=penalty, text_temperature=1.5 if self.options.sample else 0.0)  # fmt: skip

    def _max_frames(self, block: Block, group: Sequence[Block] = ()) -> int:
        longest = max((_block_seconds(b) for b in (group or (block,))), default=0.0)
        return self.options.max_new_tokens or math.ceil((2 * longest + MARGIN_SECONDS) * FRAME_RATE)

    def _finish(self, block: Block, codes: Any, reference: Any) -> BlockAudio:
        samples = self.runtime.decode(codes, reference)
        rate = self.runtime.sample_rate
        return BlockAudio(Audio(samples, rate), estimate_turn_spans(samples, rate, block.turns))

    def _model_files(self) -> Any:
        if self._files is None:
            from .files import find_model_files

            o = self.options
            self._files = find_model_files(o.model_dir, o.codec_dir, self._version())
        return self._files

    def _resolved_device(self) -> str:
        if self._device is None:
            self._device = resolve_device(self.options.device)
        return self._device

    def _version(self) -> str:
        return effective_version(self.options)

    def _rate(self) -> int:
        if self._sample_rate is None and self._version() == "v1.0":
            self._sample_rate = DEFAULT_RATE["v1.0"]
        if self._sample_rate is None:
            from .files import codec_sample_rate

            try:
                rate = codec_sample_rate(self._model_files().codec_dir)
            except MissingModelError:
                rate = None
            self._sample_rate = rate or DEFAULT_RATE[self._version()]
        return self._sample_rate

    def _memory(self) -> tuple[Any, int] | None:
        """(memory model, free bytes) on a CUDA device, else ``None``."""
        import json

        from .memory import free_device_bytes, memory_model

        free = free_device_bytes(self._resolved_device())
        if free is None:
            return None
        config = json.loads(
            (self._model_files().model_dir / "config.json").read_text(encoding="utf-8")
        )
        if self._version() == "v1.0":
            from .v1.engine import v1_memory_model

            return v1_memory_model(config, self._model_files().codec_dir, self.options.dtype), free
        return memory_model(config, self.options.dtype), free

    def _prompt_seconds(self) -> float:
        return self._reference_seconds + self.options.carry_seconds + self.options.silence_pad

    def _max_seconds(self) -> float:
        o = self.options
        limit = TRAINED_SECONDS[self._version()] - self._prompt_seconds()
        if o.max_new_tokens:
            limit = min(limit, o.max_new_tokens / FRAME_RATE)
        memory = self._memory() if self._has_weights() and self._device_is_cuda() else None
        if memory is not None:
            model, free = memory
            # The static KV cache holds prompt + 2 x block + 10 s of margin (see _generation).
            fits = (
                model.max_seconds(free * MEMORY_HEADROOM, max(o.batch, 1))
                - self._prompt_seconds()
                - MARGIN_SECONDS
            )
            limit = min(limit, fits / 2)
        return max(limit, 1.0)

    def _has_weights(self) -> bool:
        """Whether the weights are there (without them there is no memory to plan, and
        ``capabilities()`` stays cheap: no torch import)."""
        try:
            self._model_files()
        except MissingModelError:
            return False
        return True

    def _device_is_cuda(self) -> bool:
        try:
            return self._resolved_device().startswith("cuda")
        except SynthesisError:
            return False

    def _check_memory(self, script: Script) -> None:
        """Refuse when even the longest single turn (blocks never split a turn) cannot fit."""
        memory = self._memory() if self._device_is_cuda() else None
        if memory is None:
            return
        model, free = memory
        longest = max(estimate_seconds(t.text, script.language) for t in script.turns)
        need = model.bytes_for(
            self._prompt_seconds() + 2 * longest + MARGIN_SECONDS, max(self.options.batch, 1)
        )
        if need > free * MEMORY_HEADROOM:
            raise SynthesisError(
                f"moss-ttsd needs about {need / 1e9:.1f} GB on {self._device} but {free / 1e9:.1f} GB are free; "
                "free the GPU, use shorter references or turns, dtype=bf16, batch=1, or another --synth"
            )


def effective_version(options: Any) -> str:
    """``v1.0`` when asked for or when ``model_dir`` holds a v1.0 checkpoint, else ``version``."""
    if options.version == "v1.0":
        return "v1.0"
    if options.model_dir:
        from .v1.files import is_v1_folder

        if is_v1_folder(options.model_dir):
            return "v1.0"
    return options.version


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``; ``cuda`` without a GPU is an error."""
    return _resolve_device(device, "moss-ttsd")


def _script_text(block: Block) -> str:
    from .voices import tagged

    return tagged(block.turns)


def _block_seconds(block: Block) -> float:
    return sum(estimate_seconds(t.text, block.language) for t in block.turns)
