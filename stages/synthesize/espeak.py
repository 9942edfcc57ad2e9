"""``espeak``: the embedded CPU synthesizer (espeak-ng through the espeakng-loader wheel).

Formant synthesis in-process via ctypes: English and Mandarin, no model download, no
system package.  Robotic but intelligible and instant, so the main command works on a
fresh machine with no key, no GPU and no network.  One clip per turn; S1 and S2 get clearly
different voices (variant and pitch).  Output: 22 050 Hz mono float32.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from podcast import Audio, Capabilities, SynthesisError, Turn, TurnEngine, Voice, option

__all__ = ["EspeakEngine", "phonemize"]

AUDIO_OUTPUT_SYNCHRONOUS = 2
CHARS_UTF8 = 1
POS_CHARACTER = 1
PARAM_RATE, PARAM_PITCH, PARAM_RANGE = 1, 3, 4
PHONEMES_IPA = 0x02
BASE_VOICE = {"en": "en-us", "zh": "cmn"}
# (variant, pitch) per speaker slot: a low male and a higher female voice, then more.
SLOTS = (("m3", 40), ("f2", 62), ("m1", 30), ("f4", 75))

_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)


@dataclass(frozen=True, slots=True)
class EspeakOptions:
    """Options of the espeak synthesizer."""

    rate: int = option(165, "speaking rate in words per minute (80-450)")
    zh_rate: int = option(150, "speaking rate for Mandarin")
    pitch_range: int = option(60, "pitch variation 0-100 (0 = monotone)")


class _Library:
    """The process-wide espeak-ng instance (it may be initialised only once)."""

    _lock = threading.Lock()
    _instance: ClassVar[_Library | None] = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.rate <= 0:
            raise SynthesisError("espeak-ng failed to initialise; reinstall espeakng-loader")
        self.chunks: list[Any] = []
        self._callback = _CALLBACK(self._collect)  # keep a reference: ctypes does not
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Library:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        import numpy as np

        if count > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> Any:
        """Synthesize ``text``; returns int16 samples at ``self.rate`` Hz."""
        import numpy as np

        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SynthesisError(f"espeak-ng has no voice {voice!r}; try en-us or cmn")
            for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range)):
                self.lib.espeak_SetParameter(param, value, 0)
            self.chunks = []
            data = text.encode("utf-8") + b"\0"
            status = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            if status != 0:
                raise SynthesisError(f"espeak-ng failed on a turn (status {status})")
            chunks, self.chunks = self.chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    def phonemes(self, text: str, voice: str) -> str:
        """IPA phonemes of ``text`` (stress marks kept, punctuation dropped), clause by clause
        joined with spaces; the G2P of neural engines that read espeak-ng's IPA."""
        self.lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        data = ctypes.create_string_buffer(text.encode("utf-8"))
        pointer = ctypes.c_void_p(ctypes.addressof(data))
        clauses = []
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise SynthesisError(f"espeak-ng has no voice {voice!r}; try en-us or cmn")
            while pointer.value:
                out = self.lib.espeak_TextToPhonemes(ctypes.byref(pointer), CHARS_UTF8, PHONEMES_IPA)
                if out:
                    clauses.append(out.decode("utf-8").strip())
        return " ".join(c for c in clauses if c)


def phonemize(text: str, voice: str = "en-us") -> str:
    """IPA phonemes of ``text`` from the embedded espeak-ng (see :meth:`_Library.phonemes`)."""
    return _Library.get().phonemes(text, voice)


class EspeakEngine(TurnEngine):
    """Embedded espeak-ng (English, Mandarin): CPU, offline, no cloning."""

    name: ClassVar[str] = "espeak"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = EspeakOptions

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=22050,
            max_speakers=len(SLOTS),
            presets=("en-us", "en-gb", "cmn"),
            licence="GPL-3.0-or-later",
            commercial_ok=True,
            normalizer="podcast",
            rank=10,
        )

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        import numpy as np

        library = _Library.get()
        name, pitch = self._voice(turn.speaker, voice, language)
        rate = self.options.zh_rate if language == "zh" else self.options.rate
        samples = library.speak(turn.text, name, rate, pitch, self.options.pitch_range)
        if samples.size == 0:
            raise SynthesisError(f"espeak-ng produced no audio for turn {turn.text[:40]!r}")
        return Audio((samples.astype(np.float32) / 32768.0), library.rate)

    @staticmethod
    def _voice(speaker: str, voice: Voice, language: str) -> tuple[str, int]:
        slot = (int(speaker[1:]) - 1) % len(SLOTS) if speaker[1:].isdigit() else 0
        variant, pitch = SLOTS[slot]
        if voice.preset:
            return voice.preset, pitch
        return f"{BASE_VOICE.get(language, 'en-us')}+{variant}", pitch
