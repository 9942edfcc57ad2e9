"""Prompt audio and transcript for one MOSS-TTSD call.

MOSS-TTSD clones by continuation: the prompt audio is spoken first, its exact transcript
comes first in the text, and the model goes on from there.  Two ways to give references:

* per speaker: ``--voice S1=a.wav:"text a" --voice S2=b.wav:"text b"``; the audio is S1's clip
  then S2's (16 kHz mono, no gap) and the text ``[S1]text a[S2]text b`` (reference Format 1);
* one shared two-speaker clip whose transcript is tagged, e.g.
  ``--voice S1=pair.wav:"[S1]Hi.[S2]Hello."`` (reference Format 2); give the same value to S2 as
  well when the engine requires a reference for every speaker.

A carried prompt (the previous block's tail and its turns) is appended after the references,
so the model continues the conversation where the last block stopped while the references
keep anchoring the timbre.  ``silence`` seconds of zeros end the prompt audio (the
reference's ``silence_duration``: it stops the model from continuing a cut-off word).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from podcast import InputError, SynthesisError, Turn, Voice

if TYPE_CHECKING:
    import numpy as np

    from podcast import Prompt

__all__ = ["PromptAudio", "Reference", "block_prompt", "load_reference", "tagged"]

PROMPT_RATE = 16000
_TAGGED = re.compile(r"\[S\d+\]")


@dataclass(frozen=True, slots=True)
class Reference:
    """The speakers' reference voices: 16 kHz mono float32 ``audio`` ``(n,)`` and its tagged
    transcript ``text`` (``[S1]…[S2]…``)."""

    audio: np.ndarray
    text: str

    @property
    def seconds(self) -> float:
        return self.audio.shape[0] / PROMPT_RATE


@dataclass(frozen=True, slots=True)
class PromptAudio:
    """Everything the model continues from: 16 kHz mono ``audio`` ``(n,)`` (may be empty) and
    the tagged ``text`` spoken in it; ``reference`` is the voices alone (for the v0.7 decode)."""

    audio: np.ndarray
    text: str
    reference: Reference | None

    @property
    def seconds(self) -> float:
        return self.audio.shape[0] / PROMPT_RATE


def tagged(turns: Iterable[Turn]) -> str:
    """``[S1]text[S2]text…`` of ``turns``."""
    return "".join(f"[{t.speaker}]{t.text}" for t in turns)


def is_shared(voice: Voice) -> bool:
    """Whether ``voice`` is a shared multi-speaker reference (tagged transcript)."""
    return voice.ref_audio is not None and bool(_TAGGED.match((voice.ref_text or "").strip()))


def reference_plan(voices: Mapping[str, Voice], speakers: Iterable[str]) -> list[tuple[str, Voice]]:
    """Which voices make the reference, in order: one shared clip, else one clip per speaker
    (sorted S1, S2, …) that has reference audio."""
    ordered = sorted(set(speakers), key=lambda s: int(s[1:]) if s[1:].isdigit() else 0)
    shared = next((voices[s] for s in ordered if s in voices and is_shared(voices[s])), None)
    if shared is not None:
        return [("", shared)]
    return [(s, voices[s]) for s in ordered if s in voices and voices[s].ref_audio is not None]


def check_voices(voices: Mapping[str, Voice], speakers: Iterable[str]) -> None:
    """Refuse references that cannot work: a missing file or transcript."""
    for speaker, voice in reference_plan(voices, speakers):
        who = speaker or "the shared reference"
        if voice.ref_audio is not None and not voice.ref_audio.is_file():
            raise SynthesisError(f"reference audio for {who} not found: {voice.ref_audio}")
        if not (voice.ref_text or "").strip():
            raise SynthesisError(
                f'moss-ttsd needs the exact transcript of the reference for {who}; pass --voice {speaker or "S1"}=ref.wav:"transcript"'
            )


def load_reference(voices: Mapping[str, Voice], speakers: Iterable[str]) -> Reference | None:
    """Read and join the reference clips (16 kHz mono) with their transcripts, or ``None``."""
    import numpy as np

    plan = reference_plan(voices, speakers)
    if not plan:
        return None
    clips, texts = [], []
    for speaker, voice in plan:
        clips.append(_read_16k(voice))
        text = (voice.ref_text or "").strip()
        texts.append(text if not speaker else f"[{speaker}]{text}")
    return Reference(np.concatenate(clips).astype(np.float32), "".join(texts))


def _read_16k(voice: Voice) -> np.ndarray:
    from podcast.audio import read_audio, resample, to_mono

    try:
        samples, rate = read_audio(voice.ref_audio)
    except InputError as exc:
        raise SynthesisError(f"cannot use reference audio: {exc}") from None
    return to_mono(resample(samples, rate, PROMPT_RATE))


def block_prompt(
    reference: Reference | None, carried: Prompt | None, silence: float
) -> PromptAudio:
    """The prompt of one block: references, then the carried tail, then ``silence`` seconds."""
    import numpy as np

    from podcast.audio import resample, to_mono

    parts, text = [], ""
    if reference is not None:
        parts.append(reference.audio)
        text = reference.text
    if carried is not None and carried.audio.samples.shape[-1]:
        rate = carried.audio.sample_rate
        parts.append(to_mono(resample(carried.audio.samples, rate, PROMPT_RATE)))
        text += tagged(carried.turns)
    if parts and silence > 0:
        parts.append(np.zeros(int(round(silence * PROMPT_RATE)), dtype=np.float32))
    audio = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, dtype=np.float32)
    return PromptAudio(audio, text, reference)
