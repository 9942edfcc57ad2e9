"""``espeak``: the embedded CPU synthesizer (espeak-ng through the espeakng-loader wheel).

Formant synthesis in-process via ctypes: English and Mandarin, no model download, no
system package.  Robotic but intelligible and instant, so the main command works on a
fresh machine with no key, no GPU and no network.  One clip per turn; S1 and S2 get clearly
different voices (variant and pitch).  Output: 22 050 Hz mono float32.
"""

from __future__ import annotations

import ctypes
import os
import signal
import threading
import warnings
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
    """The process-wide espeak-ng instance (it may be initialised only once).

    espeak-ng keeps state from one utterance to the next (the phase of the glottal wave,
    pitch flutter, the random generator of its noise sources), so the same text would come out
    a few hundred samples longer or shorter depending on what this process said before: a
    clip rendered again after a resume would not match the one an uninterrupted run makes.
    So this process only initialises the library and never speaks: every clip is rendered
    by a forked child that starts from that pristine state with the random seeds fixed, and
    sends its samples back through a pipe.  The same text, voice and settings give the same
    samples in any order, in any process.  (Where ``fork`` does not exist, clips are rendered
    in process, seeds fixed.)  A Ctrl-C lands in the parent, which is waiting on the pipe, not
    in an espeak callback; the child ignores it and is killed, and no clip is cut short.
    """

    _lock = threading.Lock()
    _instance: ClassVar[_Library | None] = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0)
        if self.rate <= 0:
            raise SynthesisError("espeak-ng failed to initialise; reinstall espeakng-loader")
        self.libc = ctypes.CDLL(None)

    @classmethod
    def get(cls) -> _Library:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> Any:
        """Synthesize ``text``; returns int16 samples at ``self.rate`` Hz."""
        import numpy as np

        request = (text, voice, rate, pitch, pitch_range)
        with self._lock:
            reply = self._forked(request) if hasattr(os, "fork") else self._render(request)
        if reply.startswith(b"E"):
            raise SynthesisError(reply[1:].decode("utf-8", "replace"))
        return np.frombuffer(reply[1:], dtype=np.int16).copy()

    def _render(self, request: tuple[str, str, int, int, int]) -> bytes:
        """``b"O"`` + the int16 samples of ``request``, or ``b"E"`` + a message."""
        text, voice, rate, pitch, pitch_range = request
        self.libc.srand(0)
        if hasattr(self.lib, "espeak_ng_SetRandSeed"):
            self.lib.espeak_ng_SetRandSeed(0)
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            return f"Eespeak-ng has no voice {voice!r}; try en-us or cmn".encode()
        for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range)):
            self.lib.espeak_SetParameter(param, value, 0)
        chunks: list[bytes] = []

        def collect(wav: Any, count: int, _events: Any) -> int:
            if count > 0:
                chunks.append(ctypes.string_at(wav, count * 2))
            return 0

        callback = _CALLBACK(collect)  # referenced until the synthesis returns
        self.lib.espeak_SetSynthCallback(callback)
        data = text.encode("utf-8") + b"\0"
        status = self.lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if status != 0:
            return f"Eespeak-ng failed on a turn (status {status})".encode()
        return b"O" + b"".join(chunks)

    def _forked(self, request: tuple[str, str, int, int, int]) -> bytes:
        """:meth:`_render` in a child forked from the pristine library (see the class doc)."""
        read_end, write_end = os.pipe()
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads: see _child
                pid = os.fork()
            if pid == 0:
                os.close(read_end)
                _child(self, request, write_end)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        os.close(write_end)
        try:
            with os.fdopen(read_end, "rb") as pipe:
                reply = pipe.read()
        except BaseException:  # Ctrl-C while waiting: the child's clip is dropped, never kept
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        _, status = os.waitpid(pid, 0)
        if status != 0 or not reply:
            return f"Eespeak-ng's render process failed (wait status {status})".encode()
        return reply

    def phonemes(self, text: str, voice: str) -> str:
        """IPA phonemes of ``text`` (stress marks kept, punctuation dropped), clause by clause
        joined with spaces; the G2P of neural engines that read espeak-ng's IPA.  Runs in this
        process: it only reads the dictionaries and selects a voice, which every forked render
        sets again, so clips stay the same."""
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


def _child(library: _Library, request: tuple[str, str, int, int, int], pipe: int) -> None:
    """The forked renderer: ignores Ctrl-C (the parent decides), renders, writes, exits
    without running any of the parent's exit handlers.  It touches no lock another thread of
    the parent could hold: only ctypes calls and the pipe."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        reply = library._render(request)
        view = memoryview(reply)
        while view:
            view = view[os.write(pipe, view) :]
        code = 0
    finally:
        os._exit(code)

def phonemize(text: str, voice: str = "en-us") -> str:
    """IPA phonemes of ``text`` from the embedded espeak-ng (see :meth:`_Library.phonemes`)."""
    return _Library.get().phonemes(text, voice)


class EspeakEngine(TurnEngine):
    """Embedded espeak-ng (English, Mandarin): CPU, offline, no cloning."""

    name: ClassVar[str] = "espeak"
    version: ClassVar[str] = "2"  # 2: clips independent of what the process rendered before
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
