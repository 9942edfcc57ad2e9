"""Splitting a long turn into pieces the model speaks well (about 30 s of speech or less).

Spark-TTS has no chunking of its own: a whole text goes into one prompt, and past roughly 30 s
of speech the model skips words, speeds up or falls silent. Pieces end at sentence boundaries;
a sentence longer than the limit splits at clause punctuation, then between words.
"""

from __future__ import annotations

import re

from podcast import estimate_seconds

_SENTENCE = re.compile(r"(?<=[.!?;…])\s+|(?<=[。！？；])")
_CLAUSE = re.compile(r"(?<=[,:，、：])\s*")


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    return [p for p in (s.strip() for s in pattern.split(text)) if p]


def _words(text: str, language: str, limit: float) -> list[str]:
    """Cut a clause with no punctuation: at spaces, or every N characters for CJK."""
    if " " not in text.strip():
        size = max(int(len(text) * limit / max(estimate_seconds(text, language), 1e-6)), 1)
        return [text[i : i + size] for i in range(0, len(text), size)]
    return _pack(text.split(), language, limit, " ")


def _pack(parts: list[str], language: str, limit: float, joiner: str) -> list[str]:
    chunks: list[str] = []
    for part in parts:
        candidate = f"{chunks[-1]}{joiner}{part}" if chunks else part
        if chunks and estimate_seconds(candidate, language) <= limit:
            chunks[-1] = candidate
        else:
            chunks.append(part)
    return chunks


def _small(sentence: str, language: str, limit: float) -> list[str]:
    if estimate_seconds(sentence, language) <= limit:
        return [sentence]
    out: list[str] = []
    for clause in _pieces(sentence, _CLAUSE):
        out += [clause] if estimate_seconds(clause, language) <= limit else _words(clause, language, limit)
    return out


def split_turn(text: str, language: str, limit: float) -> list[str]:
    """Consecutive pieces of ``text``, each estimated at most ``limit`` seconds of speech."""
    parts = [piece for sentence in _pieces(text, _SENTENCE) for piece in _small(sentence, language, limit)]
    joiner = "" if language == "zh" else " "
    return _pack(parts, language, limit, joiner) or [text.strip() or text]
