"""Text → Kokoro phonemes: English through espeak-ng, Mandarin through misaki's ``ZHG2P``.

A turn is cut into language spans first (:func:`language_spans`): runs of Latin letters are
English, runs of Han characters Mandarin, and everything else (spaces, digits, punctuation)
joins the span before it — or the next one, for digits written straight before Han (``2024年``)
and for a turn's leading neutral characters.  Each span is phonemized by its own G2P and the
results are joined, so ``我们用 GPU 训练`` reads the acronym in English and the rest in Mandarin
with one voice in one model call.

English phonemes come from the embedded espeak-ng (espeakng-loader) in IPA with stress,
with the punctuation the model knows put back between the clauses, and a few symbols espeak
uses and Kokoro's v1.0 vocabulary lacks mapped onto the ones it has.  Mandarin uses
``misaki.zh.ZHG2P`` (the v1.0 path: jieba, pypinyin, cn2an); jieba keeps its prefix-dictionary
cache in the engine's cache folder, never in the system temp dir.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from pathlib import Path

__all__ = ["MandarinG2P", "english_phonemes", "language_spans", "split_sentences"]

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
# Punctuation Kokoro's vocabulary knows, and how other marks map onto it.
PUNCTUATION = ';:,.!?—…"()“”'
PUNCT_SPLIT = re.compile(r'(\s*[;:,.!?—…"()“”]+\s*)')
SYMBOLS = str.maketrans({"ʲ": "j", "r": "ɹ", "x": "k", "ɬ": "l"})
LANGUAGE_FLAG = re.compile(r"\([a-z-]+\)")
ASCII_PUNCT = str.maketrans({"，": ",", "。": ".", "！": "!", "？": "?", "；": ";", "：": ":", "、": ",", "…": "…"})
SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def language_spans(text: str, default: str) -> list[tuple[str, str]]:
    """Cut ``text`` into ``(language, text)`` spans, ``"en"`` or ``"zh"``, in order.

    ``default`` is the language of a text with neither Latin nor Han letters.
    """
    marks = [_language_of(c) for c in text]
    first = next((m for m in marks if m), default)
    current, start, spans = first, 0, []
    for i, mark in enumerate(marks):
        if mark is None or mark == current:
            continue
        cut = _cut_before(text, start, i) if mark == "zh" else i
        if cut > start:
            spans.append((current, text[start:cut]))
        current, start = mark, cut
    spans.append((current, text[start:]))
    return [(lang, part) for lang, part in spans if part.strip()]


def _language_of(char: str) -> str | None:
    if HAN.match(char):
        return "zh"
    if LATIN.match(char):
        return "en"
    return None


def _cut_before(text: str, start: int, han: int) -> int:
    """Where a Han span starting at ``han`` really begins: digits written right before it
    (``2024年``) belong to it."""
    cut = han
    while cut > start and text[cut - 1].isdigit():
        cut -= 1
    return cut


def english_phonemes(text: str, phonemize: Callable[[str, str], str], voice: str = "en-us") -> str:
    """IPA for English ``text`` with Kokoro's punctuation kept between clauses.

    ``phonemize(text, voice)`` is espeak-ng's text-to-IPA (punctuation dropped); this puts the
    marks back the way the model was trained: attached to the word before, then a space.
    """
    out: list[str] = []
    for piece in PUNCT_SPLIT.split(text.translate(ASCII_PUNCT)):
        if not piece.strip():
            continue
        if PUNCT_SPLIT.fullmatch(piece):
            marks = "".join(c for c in piece if c in PUNCTUATION)
            out.append(marks + " ")
            continue
        ipa = LANGUAGE_FLAG.sub("", phonemize(piece, voice)).translate(SYMBOLS)
        if ipa.strip():
            if out and not out[-1].endswith(" "):
                out.append(" ")
            out.append(ipa.strip())
    return "".join(out).strip()


class MandarinG2P:
    """misaki's ``ZHG2P`` (v1.0 path), built on first use; thread-safe."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._g2p = None
        self._lock = threading.Lock()

    def __call__(self, text: str) -> str:
        with self._lock:
            if self._g2p is None:
                self._g2p = self._build()
            phonemes, _ = self._g2p(text)
        return phonemes

    def _build(self):  # type: ignore[no-untyped-def]
        import logging

        import jieba

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        jieba.setLogLevel(logging.WARNING)
        jieba.dt.tmp_dir = str(self.cache_dir)
        jieba.dt.cache_file = str(self.cache_dir / "jieba.cache")
        from misaki.zh import ZHG2P

        return ZHG2P()


def split_sentences(phonemes: str, limit: int) -> list[str]:
    """Phoneme strings of at most ``limit`` symbols: sentences, long ones cut at clause marks,
    then at spaces; short neighbours are not merged (one model call per sentence)."""
    pieces: list[str] = []
    for sentence in SENTENCE_END.split(phonemes.strip()):
        pieces.extend(_fit(sentence.strip(), limit))
    return [p for p in pieces if p.strip()]


def _fit(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    for pattern in (r"(?<=[,;:—])\s+", r"\s+"):
        parts = re.split(pattern, text)
        if len(parts) > 1:
            return _pack(parts, limit)
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(parts: list[str], limit: int) -> list[str]:
    """Greedily join ``parts`` with spaces into pieces of at most ``limit`` (splitting any
    part that alone is longer)."""
    out: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + 1 + len(part) > limit:
            out.append(current)
            current = ""
        if len(part) > limit:
            out.extend(_fit(part, limit))
            continue
        current = f"{current} {part}" if current else part
    if current:
        out.append(current)
    return out
