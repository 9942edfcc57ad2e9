"""Spark voices: what a host's :class:`~podcast.Voice` asks for, and saved voice files.

A host sounds like one of:

* a **created** voice: ``spark:female,pitch=high,speed=moderate`` (gender first or as
  ``gender=``; pitch and speed levels very_low, low, moderate, high, very_high; both default to
  moderate). It is drawn once, with the model's voice-creation mode;
* a **saved** voice: the path of a voice file (``*.json``) written by an earlier episode;
* a **cloned** voice: ``Voice.ref_audio`` (with ``ref_text``, its transcript also prompts the
  prosody).

Whatever the source, the engine keeps the host's global token ids in a voice file
(``voices/<speaker>.spark.json`` next to the episode) and renders every turn by cloning from
them, so a host keeps one voice for the whole episode and across episodes that reuse the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from podcast import SynthesisError, Voice

from .prompts import GENDERS, LEVELS

FORMAT = "spark-tts-voice"
PREFIX = "spark:"
DEFAULT_GENDERS = {"S1": "male", "S2": "female"}


@dataclass(frozen=True, slots=True)
class CreateSpec:
    """Attributes of a voice to create."""

    gender: str
    pitch: str = "moderate"
    speed: str = "moderate"

    @property
    def text(self) -> str:
        return f"{PREFIX}{self.gender},pitch={self.pitch},speed={self.speed}"


@dataclass(frozen=True, slots=True)
class SavedVoice:
    """A host's voice as the model conditions on it: its global ids, plus (for references
    with a transcript) the transcript and the reference's semantic ids as a prosody prompt."""

    global_ids: tuple[int, ...]
    source: str
    prompt_text: str | None = None
    semantic_ids: tuple[int, ...] = field(default=())

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "version": 1,
            "source": self.source,
            "global_ids": list(self.global_ids),
            "prompt_text": self.prompt_text,
            "semantic_ids": list(self.semantic_ids),
        }
        return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def parse_spec(preset: str) -> CreateSpec | None:
    """The creation attributes of a ``spark:...`` preset; ``None`` for anything else."""
    if not preset.lower().startswith(PREFIX):
        return None
    values: dict[str, str] = {}
    for index, part in enumerate(p.strip().lower() for p in preset[len(PREFIX) :].split(",")):
        key, sep, value = part.partition("=")
        key, value = (key.strip(), value.strip()) if sep else ("gender" if index == 0 else "", part)
        if key not in {"gender", "pitch", "speed"} or key in values:
            raise SynthesisError(f"spark-tts: cannot read voice {preset!r}: {part!r} is not gender, pitch= or speed=")
        values[key] = value.replace(" ", "_").replace("-", "_")
    spec = CreateSpec(values.get("gender", ""), values.get("pitch", "moderate"), values.get("speed", "moderate"))
    if spec.gender not in GENDERS or spec.pitch not in LEVELS or spec.speed not in LEVELS:
        raise SynthesisError(
            f"spark-tts: cannot read voice {preset!r}: use spark:female|male,pitch=LEVEL,speed=LEVEL "
            f"with LEVEL one of {', '.join(LEVELS)}"
        )
    return spec


def read_voice_file(path: Path) -> SavedVoice:
    """A saved voice; one-line :class:`~podcast.SynthesisError` when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError("not a Spark-TTS voice file")
        ids = tuple(int(i) for i in data["global_ids"])
        semantic = tuple(int(i) for i in data.get("semantic_ids") or ())
        prompt = data.get("prompt_text")
        return SavedVoice(ids, str(data.get("source", path)), prompt if isinstance(prompt, str) else None, semantic)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise SynthesisError(f"spark-tts: cannot use voice file {path}: {exc}") from exc


def write_voice_file(path: Path, voice: SavedVoice) -> None:
    """Write atomically (temp file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(voice.to_json(), encoding="utf-8")
    temp.replace(path)


@dataclass(frozen=True, slots=True)
class VoiceRequest:
    """What one speaker asked for, resolved from its :class:`~podcast.Voice`."""

    speaker: str
    source: str
    create: CreateSpec | None = None
    saved: Path | None = None
    reference: Path | None = None
    reference_text: str | None = None


def request_for(speaker: str, voice: Voice) -> VoiceRequest:
    """Classify ``voice`` (see the module docstring); the default is a created voice (S1 male,
    S2 female, others alternating)."""
    if voice.ref_audio is not None:
        if not Path(voice.ref_audio).is_file():
            raise SynthesisError(f"spark-tts: reference audio {voice.ref_audio} for {speaker} does not exist")
        text = voice.ref_text or None
        return VoiceRequest(speaker, f"ref:{voice.ref_audio}|{text or ''}", reference=Path(voice.ref_audio), reference_text=text)
    preset = (voice.preset or "").strip()
    if not preset:
        gender = DEFAULT_GENDERS.get(speaker, "male" if speaker[1:].isdigit() and int(speaker[1:]) % 2 else "female")
        spec = CreateSpec(gender)
        return VoiceRequest(speaker, spec.text, create=spec)
    bare = preset.split(",", 1)[0].strip().lower() in GENDERS  # ``spark-tts:female,...`` arrives without its prefix
    spec = parse_spec(PREFIX + preset if bare else preset)
    if spec is not None:
        return VoiceRequest(speaker, spec.text, create=spec)
    if preset.lower().endswith(".json"):
        path = Path(preset).expanduser()
        read_voice_file(path)
        return VoiceRequest(speaker, f"file:{path.resolve()}", saved=path)
    raise SynthesisError(
        f"spark-tts: voice {preset!r} for {speaker} is not a Spark voice; use spark:female,pitch=moderate,"
        "speed=moderate, a saved voice file (.json) or a reference wav"
    )
