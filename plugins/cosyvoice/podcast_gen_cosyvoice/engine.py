"""The ``cosyvoice`` turn engine: CosyVoice 2 zero-shot cloning, per host, offline.

Each host needs a reference clip (``--voice S1=ref.wav:transcript``). With its exact transcript
the engine runs zero-shot; without one, cross-lingual mode (no transcript needed). A speaking
style in words (``[speakers.S1] style = "..."``, or ``{...}`` at the start of a turn) switches
that turn to instruct mode. The prompt of a host (speech tokens, mel, speaker embedding) is
computed once and used for every one of its turns. Several turns are rendered together: one LM
run per sentence group, then the flow and the vocoder on all of them in batches.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from podcast import (
    Audio,
    Capabilities,
    MissingModelError,
    Script,
    SynthesisError,
    Turn,
    TurnEngine,
    Voice,
    find_weights,
    option,
)

REPOS = ("FunAudioLLM/CosyVoice2-0.5B", "iic/CosyVoice2-0.5B")
LANGUAGES = frozenset({"en", "zh", "ja", "ko", "yue"})
SAMPLE_RATE = 24000
_TURN_STYLE = re.compile(r"^\s*\{([^{}]+)\}\s*")
_END_OF_PROMPT = re.compile(r"<?\|endofprompt\|>?")


@dataclass(frozen=True, slots=True)
class CosyVoiceOptions:
    """Options of the CosyVoice engine."""

    model_dir: str = option("", "CosyVoice2-0.5B folder; empty = search the model folder and the HF cache")
    device: str = option("auto", "auto, cpu, cuda or cuda:N")
    sampling: str = option("ras", "ras (the reference sampler) or greedy")
    style: str = option("", "speaking style in words for hosts without their own (empty = plain cloning)")
    batch_frames: int = option(6000, "mel frames per flow/vocoder batch (lower it to save memory)")
    threads: int = option(0, "CPU threads for torch (0 = its default)")


def _missing(folder: Any) -> list[str]:
    from .config import open_folder

    try:
        open_folder(folder)
    except MissingModelError as exc:
        return [str(exc).rsplit(" lacks ", 1)[-1].split(" (")[0]]
    return []


def split_style(text: str, style: str) -> tuple[str, str]:
    """(instruction, text) of one turn: a ``{style}`` or ``...<|endofprompt|>`` prefix wins
    over the host's style."""
    match = _TURN_STYLE.match(text)
    if match:
        return match.group(1).strip(), text[match.end() :]
    parts = _END_OF_PROMPT.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip():
        return parts[0].strip(), parts[1]
    return style, text


class CosyVoiceEngine(TurnEngine[CosyVoiceOptions]):
    """CosyVoice 2 (FunAudioLLM): zero-shot, cross-lingual and instruct, 24 kHz, native and offline."""

    name: ClassVar[str] = "cosyvoice"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = CosyVoiceOptions

    def __init__(self, options: CosyVoiceOptions | None = None, context: Any = None) -> None:
        super().__init__(options, context)
        self._model: Any = None
        self._voices: dict[str, Any] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            LANGUAGES, SAMPLE_RATE, max_speakers=10, cloning=True, needs_reference=True,
            device="cpu" if self.options.device == "cpu" else "auto", licence="Apache-2.0",
            weights_licence="Apache-2.0", commercial_ok=True, normalizer="podcast", rank=30,
        )  # fmt: skip

    @classmethod
    def unavailable(cls, options: CosyVoiceOptions) -> str | None:
        try:
            cls._folder(options)
        except MissingModelError as exc:
            return str(exc)
        if options.sampling not in ("ras", "greedy"):
            return f"cosyvoice: sampling must be ras or greedy, not {options.sampling!r}"
        return None

    @staticmethod
    def _folder(options: CosyVoiceOptions, search: Sequence[Any] = ()) -> Any:
        return find_weights(options.model_dir, list(REPOS), _missing, what="CosyVoice2-0.5B model",
                            option="synthesize.cosyvoice.model_dir", search=list(search))  # fmt: skip

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        if self.options.sampling not in ("ras", "greedy"):
            raise SynthesisError(f"cosyvoice: sampling must be ras or greedy, not {self.options.sampling!r}")
        used = sorted({t.speaker for t in script.turns}, key=lambda s: int(s[1:]) if s[1:].isdigit() else 0)
        for speaker in used:
            voice = voices.get(speaker, Voice())
            if voice.ref_audio is None:
                raise SynthesisError(
                    f"cosyvoice clones a reference voice: give {speaker} one with --voice {speaker}=ref.wav:transcript"
                )
            self._read(voice.ref_audio)

    @staticmethod
    def _read(path: Any) -> tuple[Any, int]:
        from podcast.audio import read_audio, to_mono

        samples, rate = read_audio(path)
        if rate < 16000:
            raise SynthesisError(f"cosyvoice: reference {path} is {rate} Hz; it needs at least 16 kHz")
        if samples.shape[-1] / rate > 30:
            raise SynthesisError(f"cosyvoice: reference {path} is longer than 30 s; trim it to 3-15 s of clean speech")
        return to_mono(samples), rate

    def load(self) -> None:
        from podcast import resolve_device

        from .model import CosyVoice2

        device = self.options.device if self.options.device != "auto" else self.context.device
        if self.options.threads > 0:
            import torch

            torch.set_num_threads(self.options.threads)
        folder = self._folder(self.options, [self.context.model_dir])
        self._model = CosyVoice2(folder, resolve_device(device, self.name))

    def close(self) -> None:
        self._model = None
        self._voices.clear()

    def _prompt(self, voice: Voice) -> Any:
        key = voice.key
        if key not in self._voices:
            samples, rate = self._read(voice.ref_audio)
            self._voices[key] = self._model.voice(samples, rate, voice.ref_text or "")
        return self._voices[key]

    def _seed(self, turn: Turn) -> int:
        """A per-turn seed: the same run seed and turn give the same audio, alone or in a batch."""
        return (self.context.seed * 1_000_003 + zlib.crc32(f"{turn.speaker}\0{turn.text}".encode())) % 2**62

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        return next(iter(self.synthesize_turns([(turn, voice)], language)))[1]

    def synthesize_turns(self, turns: Sequence[tuple[Turn, Voice]], language: str) -> Iterator[tuple[int, Audio]]:
        """All turns' sentence groups through the LM, then the flow and vocoder in batches."""
        import torch

        from .model import Segment, join

        model, greedy = self._model, self.options.sampling == "greedy"
        plan: list[list[Segment]] = []
        for done, (turn, voice) in enumerate(turns):
            prompt = self._prompt(voice)
            style, text = split_style(turn.text, voice.style or self.options.style)
            seed = self._seed(turn)
            gen = torch.Generator(device=model.device).manual_seed(seed)  # the LM samples on its device
            segments = [Segment(model.speech_tokens(part, prompt, style, greedy=greedy, generator=gen), prompt, seed + k)
                        for k, part in enumerate(model.segments(text))]  # fmt: skip
            plan.append([s for s in segments if s.tokens])
            self.context.progress(done + 1, len(turns), "speech tokens")
        everything = [s for segments in plan for s in segments]
        if everything:
            model.render(everything, self.options.batch_frames)
        for position, segments in enumerate(plan):
            wav = join([s.wav for s in segments])
            if wav.size == 0:
                raise SynthesisError(f"cosyvoice produced no speech for turn {position + 1}: {turns[position][0].text[:40]!r}")
            yield position, Audio(wav, SAMPLE_RATE)
