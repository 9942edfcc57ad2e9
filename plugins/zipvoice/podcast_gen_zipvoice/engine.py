"""``zipvoice-dialog`` and ``zipvoice-dialog-stereo``: ZipVoice-Dialog as podcast dialogue engines.

Voices: ``--voice S1=a.wav:"what a says" --voice S2=b.wav:"what b says"`` (one clip per host),
or one shared two-host clip whose transcript is tagged, ``--voice S1=both.wav:"[S1]hi[S2]hello"``
(given to either host). The previous block's tail, when the pipeline carries one, replaces the
references as the prompt so the voices continue across the episode.

Reference quirks kept away from users (each is explained where it is handled):

* the model tells the hosts apart only by the parity of the running count of speaker tags, not
  by which tag it is: an odd number of tags in the prompt transcript, or two consecutive tags of
  the same host, would swap the voices (:func:`dialogue_text`, :func:`prompt_for`);
* symbols missing from ``tokens.txt`` (``…``, stray tags) are silently dropped by the reference:
  ellipses become commas, bracketed tags are removed, and anything still dropped is logged
  (:func:`clean_text`);
* non-verbal tags such as ``[LAUGHS]`` exist in ``tokens.txt`` but the maintainers say they
  control nothing, so they are removed rather than spoken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from podcast import (
    Audio,
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    DialogueOptions,
    MissingModelError,
    SynthesisError,
    find_weights,
    option,
)

__all__ = ["ZipVoiceDialogEngine", "ZipVoiceDialogStereoEngine"]

REPO = "k2-fsa/ZipVoice"
VOCOS_REPO = "charactr/vocos-mel-24khz"
RATE = 24000
_SPEAKERS = ("S1", "S2")
_TAGS = re.compile(r"\[(S[12])\]")
_BRACKETED = re.compile(r"\[[^\]]*\]")
_ELLIPSIS = re.compile(r"…|⋯|\.{3,}|···|・・・")


@dataclass(frozen=True, slots=True)
class ZipVoiceOptions(DialogueOptions):
    """Options of the ZipVoice-Dialog engines."""

    block_seconds: float = option(90.0, "longest block (seconds of speech) per engine call")
    model_dir: str = option("", "model folder (model.pt, model.json, tokens.txt); empty = search the model folder and HF cache")
    vocos_dir: str = option("", "Vocos folder (config.yaml, pytorch_model.bin); empty = search for charactr/vocos-mel-24khz")
    checkpoint: str = option("", "checkpoint file name in model_dir (default model.pt, else model.safetensors)")
    num_step: int = option(16, "flow-matching steps (8 is about twice as fast)")
    guidance_scale: float = option(1.5, "classifier-free guidance scale")
    t_shift: float = option(0.5, "time shift of the step grid (smaller = more steps near the noise)")
    speed: float = option(1.0, "speaking speed (duration = prompt pace / speed)")
    device: str = option("auto", "auto, cpu, cuda or cuda:N")


@dataclass(frozen=True, slots=True)
class ZipVoiceStereoOptions(ZipVoiceOptions):
    """Options of the ZipVoice-Dialog-Stereo engine."""

    width: float = option(1.0, "stereo width: 1 = each host on its own channel, 0.5 = panned, 0 = mono")


def clean_text(text: str) -> str:
    """Text with nothing the reference would silently drop: ellipses become commas (a pause
    the tokenizer keeps), bracketed tags (non-verbal tags control nothing; speaker tags are the
    engine's to place) are removed, whitespace is collapsed."""
    text = _ELLIPSIS.sub(",", text)
    text = _BRACKETED.sub(" ", text)
    return " ".join(text.split())


def merged_turns(turns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """Consecutive turns of one host joined: the model switches voice at EVERY tag (parity),
    so a host must never get two tags in a row."""
    out: list[tuple[str, str]] = []
    for speaker, text in turns:
        text = clean_text(text)
        if not text:
            continue
        if out and out[-1][0] == speaker:
            out[-1] = (speaker, f"{out[-1][1]} {text}")
        else:
            out.append((speaker, text))
    return out


def dialogue_text(prompt_speakers: Sequence[str], turns: Sequence[tuple[str, str]]) -> str:
    """The text for the model, tagged so each host gets the voice it has in the prompt.

    Tags only count: the speaker embedding of a segment is the parity of the running tag count
    (prompt included). With ``P`` prompt segments alternating from host ``first``, text
    segment ``i`` gets count ``P + i``; when that parity does not match the host's parity in
    the prompt, one empty leading segment shifts every count by one. Tags alternate from
    ``[S1]`` so the reference's chunking (at ``[S1]`` only) cuts at the same host every time.
    """
    segments = merged_turns(turns)
    if not segments:
        raise SynthesisError("a block has no speakable text")
    n_prompt = len(prompt_speakers)
    parity_of = {spk: (j + 1) % 2 for j, spk in enumerate(prompt_speakers)}
    first = segments[0][0]
    pieces: list[str] = []
    if (n_prompt + 1) % 2 != parity_of[first]:
        pieces.append("")  # empty segment: shifts the parity of every following tag
    pieces += [text for _, text in segments]
    return "".join(f"[S{1 + i % 2}]{text}" for i, text in enumerate(pieces))


def prompt_transcript(turns: Sequence[tuple[str, str]]) -> tuple[str, list[str]]:
    """Tagged transcript of prompt turns (merged, alternating from ``[S1]``) and the speaker of
    each segment."""
    segments = merged_turns(turns)
    text = "".join(f"[S{1 + i % 2}]{t}" for i, (_, t) in enumerate(segments))
    return text, [s for s, _ in segments]


def _shared_turns(ref_text: str) -> list[tuple[str, str]]:
    parts = _TAGS.split(ref_text)
    if parts[0].strip():
        raise SynthesisError("a shared two-host reference transcript must start with a speaker tag ([S1] or [S2])")
    return [(parts[i], parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def is_shared(ref_text: str | None) -> bool:
    return bool(ref_text and _TAGS.search(ref_text))


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """Prompt audio clips (in order), their tagged transcript and the host of each segment."""

    clips: tuple[Any, ...]
    transcript: str
    speakers: tuple[str, ...]


class ZipVoiceDialogEngine(DialogueEngine[ZipVoiceOptions]):
    """ZipVoice-Dialog (k2-fsa, 123M): both hosts in one pass, zh + en, clones from a prompt (CPU ok)."""

    name: ClassVar[str] = "zipvoice-dialog"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = ZipVoiceOptions
    variant: ClassVar[str] = "zipvoice_dialog"
    channels: ClassVar[int] = 1

    def __init__(self, options: Any = None, context: Any = None) -> None:
        super().__init__(options, context)
        self.synth: Any = None
        self._prompts: dict[Any, Any] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=RATE,
            dialogue_native=True,
            max_speakers=2,
            cloning=True,
            needs_ref_text=True,
            needs_reference=True,
            max_seconds_per_call=float(self.options.block_seconds),
            max_chars_per_call=int(self.options.block_seconds * 16),
            channels=self._channels(),
            device="cpu" if self.options.device == "cpu" else "auto",
            licence="Apache-2.0",
            weights_licence="unknown",
            commercial_ok=None,
            normalizer="podcast",
            rank=30,
        )

    def _channels(self) -> int:
        return self.channels

    # ── weights ─────────────────────────────────────────────────────────────
    @classmethod
    def _folders(cls, options: Any, search: Sequence[Path] = ()) -> tuple[Path, Path]:
        from .folders import model_files_missing

        checkpoint = options.checkpoint or None

        def lacking(folder: Path) -> list[str]:
            for candidate in (folder, folder / cls.variant):
                if not model_files_missing(candidate, checkpoint):
                    return []
            return model_files_missing(folder, checkpoint)

        found = find_weights(options.model_dir, [REPO], lacking, what=f"ZipVoice-Dialog ({cls.variant}) model",
                             option=f"synthesize.{cls.name}.model_dir", search=search)  # fmt: skip
        model_dir = found if not model_files_missing(found, checkpoint) else found / cls.variant
        vocos = find_weights(options.vocos_dir, [VOCOS_REPO], ["config.yaml", "pytorch_model.bin"],
                             what="Vocos vocoder", option=f"synthesize.{cls.name}.vocos_dir",
                             search=[model_dir, model_dir.parent, *search])  # fmt: skip
        return model_dir, vocos

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        try:
            cls._folders(options)
        except MissingModelError as exc:
            return str(exc)
        return None

    def check(self, script: Any, voices: Mapping[str, Any]) -> None:
        speakers = sorted({t.speaker for t in script.turns})
        if len(speakers) > 2 or any(s not in _SPEAKERS for s in speakers):
            raise SynthesisError(f"{self.name} speaks two hosts, S1 and S2; the script has {', '.join(speakers)}")
        for spk in speakers:
            voice = voices.get(spk)
            if voice is None or voice.ref_audio is None:
                if any(v.ref_audio and is_shared(v.ref_text) for v in voices.values()):
                    continue
                raise SynthesisError(f'{self.name} clones voices: pass --voice {spk}=ref.wav:"exact transcript"')
            if not Path(voice.ref_audio).is_file():
                raise SynthesisError(f"voice file for {spk} not found: {voice.ref_audio}")
            if not (voice.ref_text or "").strip():
                raise SynthesisError(f'{self.name} needs the transcript of {spk}\'s reference: --voice {spk}=ref.wav:"what is said"')
        self._folders(self.options, [self.context.model_dir])

    def load(self) -> None:
        if self.synth is not None:
            return
        import torch

        from podcast import resolve_device

        from .pipeline import load_synthesizer

        model_dir, vocos_dir = self._folders(self.options, [self.context.model_dir])
        device = resolve_device(self.options.device if self.options.device != "auto" else self.context.device, self.name)
        self.synth = load_synthesizer(model_dir, vocos_dir, checkpoint=self.options.checkpoint or None, device=device)
        if self.synth.stereo != (self.channels == 2):
            kind = "Stereo" if self.synth.stereo else "mono"
            raise MissingModelError(f"{model_dir} holds the {kind} ZipVoice-Dialog; use --synth "
                                    f"{'zipvoice-dialog-stereo' if self.synth.stereo else 'zipvoice-dialog'}")  # fmt: skip
        del torch

    def close(self) -> None:
        self.synth = None
        self._prompts.clear()

    # ── rendering ───────────────────────────────────────────────────────────
    def synthesize_block(self, block: Block) -> BlockAudio:
        import numpy as np
        import torch

        from podcast import estimate_turn_spans

        from .pipeline import GenerationSettings

        self.load()
        spec = self._prompt_spec(block)
        prepared = self._prepare(spec)
        turns = [(t.speaker, t.text) for t in block.turns]
        text = dialogue_text(spec.speakers, turns)
        settings = GenerationSettings(
            num_step=int(self.options.num_step),
            guidance_scale=float(self.options.guidance_scale),
            t_shift=float(self.options.t_shift),
            speed=float(self.options.speed),
        )
        generator = torch.Generator().manual_seed(int(self.context.seed) + block.index)
        dropped = self.synth.tokenizer.tokenize(text).dropped
        if dropped:
            self.context.log.debug("%s: symbols not in tokens.txt skipped: %s", self.name, " ".join(sorted(set(dropped))))
        wav = self.synth.generate(
            spec.transcript, prepared, text, settings, noise=lambda _k, shape: torch.randn(shape, generator=generator)
        )
        if wav.shape[-1] == 0:
            raise SynthesisError(f"{self.name} produced no audio for block {block.index}")
        out = self._layout(wav)
        mono = out if out.ndim == 1 else out.mean(axis=0)
        return BlockAudio(Audio(out.astype(np.float32), RATE), estimate_turn_spans(mono, RATE, block.turns))

    def _layout(self, wav: Any) -> Any:
        return wav[0]

    def _prompt_spec(self, block: Block) -> PromptSpec:
        """The carried tail when it holds both hosts (voices continue), else the references."""
        import numpy as np

        from podcast.audio import resample

        carried = block.prompt
        if carried is not None:
            turns = [(t.speaker, t.text) for t in carried.turns]
            transcript, speakers = prompt_transcript(turns)
            needed = {t.speaker for t in block.turns}
            if needed <= set(speakers) and transcript:
                audio = np.asarray(carried.audio.samples, dtype=np.float32)
                audio = resample(audio, carried.audio.sample_rate, RATE)
                return PromptSpec((audio,), transcript, tuple(speakers))
        return self._reference_spec(block)

    def _reference_spec(self, block: Block) -> PromptSpec:
        from podcast.audio import read_audio, resample

        voices = block.voices
        shared = next((v for s in _SPEAKERS if (v := voices.get(s)) and v.ref_audio and is_shared(v.ref_text)), None)
        if shared is not None:
            transcript, speakers = prompt_transcript(_shared_turns(shared.ref_text))
            audio, rate = read_audio(Path(shared.ref_audio))
            return PromptSpec((resample(audio, rate, RATE),), transcript, tuple(speakers))
        # One clip per host, ordered so the block's first host comes first (no parity shift);
        # the Stereo model puts the prompt's first host on the left, so there S1 always leads.
        first = block.turns[0].speaker if block.turns and self.channels == 1 else "S1"
        order = [first] + [s for s in _SPEAKERS if s != first and s in voices]
        clips, turns = [], []
        for spk in order:
            voice = voices.get(spk)
            if voice is None or voice.ref_audio is None or not (voice.ref_text or "").strip():
                raise SynthesisError(f'{self.name} needs a reference for {spk}: --voice {spk}=ref.wav:"exact transcript"')
            audio, rate = read_audio(Path(voice.ref_audio))
            clips.append(resample(audio, rate, RATE))
            turns.append((spk, voice.ref_text))
        transcript, speakers = prompt_transcript(turns)
        return PromptSpec(tuple(clips), transcript, tuple(speakers))

    def _prepare(self, spec: PromptSpec) -> Any:
        key = (spec.transcript, tuple(hash(c.tobytes()) for c in spec.clips))
        if key not in self._prompts:
            if len(self._prompts) > 8:
                self._prompts.clear()
            try:
                self._prompts[key] = self.synth.prepare_prompt(list(spec.clips))
            except ValueError as exc:
                raise SynthesisError(f"{self.name}: {exc}") from exc
        return self._prompts[key]


class ZipVoiceDialogStereoEngine(ZipVoiceDialogEngine):
    """ZipVoice-Dialog-Stereo: one host per channel (S1 left, S2 right)."""

    name: ClassVar[str] = "zipvoice-dialog-stereo"
    Options: ClassVar[type] = ZipVoiceStereoOptions
    variant: ClassVar[str] = "zipvoice_dialog_stereo"
    channels: ClassVar[int] = 2

    def _channels(self) -> int:
        return 1 if float(self.options.width) <= 0 else 2

    def _layout(self, wav: Any) -> Any:
        """Per-host channels (the model puts the prompt's first host on the left) mixed by
        ``width``: 1 keeps them apart, 0 sums them to mono."""
        import numpy as np

        width = min(max(float(self.options.width), 0.0), 1.0)
        if width <= 0:
            return wav.sum(axis=0)
        keep, cross = (1 + width) / 2, (1 - width) / 2
        return np.stack([keep * wav[0] + cross * wav[1], cross * wav[0] + keep * wav[1]])
