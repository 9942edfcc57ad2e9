"""English for ZipVoice: the reference's abbreviation/number normaliser and espeak-ng phonemes.

Phonemes come from the espeak-ng library of the ``espeakng-loader`` wheel (pure ctypes, one
wheel for every Python), in IPA, one clause at a time. Each clause's phonemes are decomposed
(NFD) into code points, and the clause's closing punctuation is appended as piper-phonemize
does: ``. ? !`` alone, ``, : ;`` followed by a space, nothing for any other end. Clauses are
concatenated without a separator, like the reference.
"""

from __future__ import annotations

import ctypes
import re
import threading
import unicodedata
from functools import cache
from typing import Any

__all__ = ["normalize_english", "phonemize_english"]

_ABBREVIATIONS = [
    (re.compile(rf"\b{short}\b", re.IGNORECASE), long)
    for short, long in (
        ("mrs", "misess"),
        ("mr", "mister"),
        ("dr", "doctor"),
        ("st", "saint"),
        ("co", "company"),
        ("jr", "junior"),
        ("maj", "major"),
        ("gen", "general"),
        ("drs", "doctors"),
        ("rev", "reverend"),
        ("lt", "lieutenant"),
        ("hon", "honorable"),
        ("sgt", "sergeant"),
        ("capt", "captain"),
        ("esq", "esquire"),
        ("ltd", "limited"),
        ("col", "colonel"),
        ("ft", "fort"),
        ("etc", "et cetera"),
        ("btw", "by the way"),
    )
]
_COMMA_NUMBER = re.compile(r"([0-9][0-9\,]+[0-9])")
_DECIMAL = re.compile(r"([0-9]+\.[0-9]+)")
_PERCENT = re.compile(r"([0-9\.\,]*[0-9]+%)")
_POUNDS = re.compile(r"£([0-9\,]*[0-9]+)")
_DOLLARS = re.compile(r"\$([0-9\.\,]*[0-9]+)")
_FRACTION = re.compile(r"([0-9]+)/([0-9]+)")
_ORDINAL = re.compile(r"[0-9]+(st|nd|rd|th)")
_NUMBER = re.compile(r"[0-9]+")


@cache
def _inflect() -> Any:
    import inflect

    return inflect.engine()


def _words(n: int | str, **kw: Any) -> str:
    return str(_inflect().number_to_words(n, **kw))


def _dollars(m: re.Match[str]) -> str:
    parts = m.group(1).split(".")
    if len(parts) > 2:
        return f" {m.group(1)} dollars "
    dollars = int(parts[0]) if parts[0] else 0
    cents = int(parts[1]) if len(parts) > 1 and parts[1] else 0
    d_unit = "dollar" if dollars == 1 else "dollars"
    c_unit = "cent" if cents == 1 else "cents"
    if dollars and cents:
        return f" {dollars} {d_unit}, {cents} {c_unit} "
    if dollars:
        return f" {dollars} {d_unit} "
    if cents:
        return f" {cents} {c_unit} "
    return " zero dollars "


def _fraction(m: re.Match[str]) -> str:
    num, den = int(m.group(1)), int(m.group(2))
    if num == 1 and den == 2:
        return " one half "
    if num == 1 and den == 4:
        return " one quarter "
    if den == 2:
        return f" {_words(num)} halves "
    if den == 4:
        return f" {_words(num)} quarters "
    return f" {_words(num)} {_inflect().ordinal(_words(den))} "


def _number(m: re.Match[str]) -> str:
    n = int(m.group(0))
    if 1000 < n < 3000:  # read as a year
        if n == 2000:
            return " two thousand "
        if 2000 < n < 2010:
            return f" two thousand {_words(n % 100)} "
        if n % 100 == 0:
            return f" {_words(n // 100)} hundred "
        return " " + _words(n, andword="", zero="oh", group=2).replace(", ", " ") + " "
    return f" {_words(n, andword='')} "


def normalize_english(text: str) -> str:
    """Abbreviations spelled out, then currencies, fractions, decimals, percentages, ordinals
    and numbers read as words (years 1001-2999 in pairs)."""
    for pattern, long in _ABBREVIATIONS:
        text = pattern.sub(long, text)
    text = _COMMA_NUMBER.sub(lambda m: m.group(1).replace(",", ""), text)
    text = _POUNDS.sub(r"\1 pounds", text)
    text = _DOLLARS.sub(_dollars, text)
    text = _FRACTION.sub(_fraction, text)
    text = _DECIMAL.sub(lambda m: m.group(1).replace(".", " point "), text)
    text = _PERCENT.sub(lambda m: m.group(1).replace("%", " percent "), text)
    text = _ORDINAL.sub(lambda m: f" {_words(m.group(0))} ", text)
    return _NUMBER.sub(_number, text)


# espeak-ng constants (speak_lib.h)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_CLAUSE_ENDS = {".": ".", "?": "?", "!": "!", ",": ", ", ":": ": ", ";": "; "}
# Characters that can end an espeak clause; only those in _CLAUSE_ENDS add a token.
_TERMINATOR = re.compile(r"[.?!,:;…\u2026\u3002\uff01\uff1f\uff0c\uff1a\uff1b]")


class _Espeak:
    """The process's espeak-ng library, used for phonemes only."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        if lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, 0) <= 0:
            raise RuntimeError("espeak-ng failed to initialise; reinstall espeakng-loader")
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        self.lib = lib
        self.voice: str | None = None

    def clauses(self, text: str, voice: str) -> list[tuple[str, str]]:
        """(IPA phonemes, source text) of each clause espeak reads in ``text``."""
        data = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(data, len(data))
        base = ctypes.addressof(buffer)
        pointer = ctypes.c_void_p(base)
        out: list[tuple[str, str]] = []
        with self._lock:
            if self.voice != voice:
                if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise RuntimeError(f"espeak-ng has no voice {voice!r}")
                self.voice = voice
            while pointer.value:
                start = pointer.value - base
                phonemes = self.lib.espeak_TextToPhonemes(ctypes.byref(pointer), _CHARS_UTF8, _PHONEMES_IPA)
                end = (pointer.value - base) if pointer.value else len(data) - 1
                source = data[start:end].decode("utf-8", errors="ignore")
                out.append(((phonemes or b"").decode("utf-8"), source))
        return out


@cache
def _espeak() -> _Espeak:
    return _Espeak()


def _clause_end(source: str) -> str:
    """The token(s) for a clause's end. espeak advances its text pointer a few characters past
    the clause (it reads ahead into the next word), so the terminator is the last clause
    punctuation in the consumed text, not its last character."""
    found = _TERMINATOR.findall(source)
    return _CLAUSE_ENDS.get(found[-1], "") if found else ""


def phonemize_english(text: str, voice: str = "en-us") -> list[str]:
    """IPA code points of ``text`` with clause punctuation (see the module docstring)."""
    tokens: list[str] = []
    for phonemes, source in _espeak().clauses(text, voice):
        tokens.extend(unicodedata.normalize("NFD", phonemes))
        tokens.extend(_clause_end(source))
    return tokens
