"""Extractive helpers for the offline writer: sentence splitting and key-sentence scoring.

The scorer is a small TF-style ranking: a sentence scores the mean document frequency of its
content words (stop words removed; for Chinese, character bigrams), with a bonus for early
position and a penalty for very short or very long sentences.  Deterministic.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

__all__ = ["document_terms", "key_sentences", "key_sentences_within", "split_sentences", "top_term"]

_EN_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_ZH_SPLIT = re.compile(r"(?<=[。！？!?；])")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "more",
        "most",
        "no",
        "not",
        "of",
        "on",
        "one",
        "or",
        "our",
        "out",
        "over",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "to",
        "too",
        "up",
        "us",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
        "also",
        "about",
        "after",
        "all",
        "any",
        "because",
        "before",
        "between",
        "both",
        "each",
        "few",
        "many",
        "may",
        "might",
        "much",
        "must",
        "only",
        "other",
        "same",
        "should",
        "through",
        "under",
        "until",
    ]
)
MIN_CHARS = {"en": 30, "zh": 10}
MAX_CHARS = {"en": 320, "zh": 120}


def split_sentences(text: str, language: str) -> list[str]:
    """Split ``text`` into sentences (``zh`` on 。！？; ``en`` on . ! ? before a capital)."""
    pattern = _ZH_SPLIT if language == "zh" else _EN_SPLIT
    sentences = []
    for paragraph in re.split(r"\n\s*\n|\n(?=[-*•] )", text):
        flat = " ".join(paragraph.split())
        sentences += [s.strip() for s in pattern.split(flat) if s.strip()]
    return sentences


def _terms(sentence: str, language: str) -> list[str]:
    if language == "zh":
        han = _HAN.findall(sentence)
        return ["".join(pair) for pair in zip(han, han[1:], strict=False)]
    return [w for w in (m.lower() for m in _WORD.findall(sentence)) if w not in _STOP]


def _score(sentence: str, position: int, freq: Counter[str], language: str) -> float:
    terms = _terms(sentence, language)
    if not terms:
        return 0.0
    base = sum(freq[t] for t in terms) / len(terms)
    length = len(sentence)
    if length < MIN_CHARS[language] or length > MAX_CHARS[language]:
        base *= 0.4
    return base * (1.0 + 0.5 / (1 + position))


def key_sentences(
    sentences: Sequence[str], count: int, language: str, context: Counter[str] | None = None
) -> list[str]:
    """The ``count`` best sentences, returned in their original order."""
    if count <= 0 or not sentences:
        return []
    freq = _freq(sentences, language, context)
    ranked = sorted(range(len(sentences)), key=lambda i: -_score(sentences[i], i, freq, language))
    return [sentences[i] for i in sorted(ranked[:count])]


def document_terms(texts: Sequence[str], language: str) -> Counter[str]:
    """Term frequencies over a whole document (context for per-section scoring)."""
    return Counter(t for text in texts for t in _terms(text, language))


def key_sentences_within(
    sentences: Sequence[str],
    budget: int,
    language: str,
    measure: Callable[[str], int],
    context: Counter[str] | None = None,
) -> list[str]:
    """The best sentences whose total ``measure`` stays within ``budget`` (always at least
    one), returned in their original order."""
    freq = _freq(sentences, language, context)
    order = sorted(range(len(sentences)), key=lambda i: -_score(sentences[i], i, freq, language))
    chosen, used = set(), 0
    for index in order:
        size = measure(sentences[index])
        if chosen and used + size > budget:
            continue
        chosen.add(index)
        used += size
    return [sentences[i] for i in sorted(chosen)]


def _freq(sentences: Sequence[str], language: str, context: Counter[str] | None) -> Counter[str]:
    freq = Counter(t for s in sentences for t in _terms(s, language))
    if context:
        freq.update({k: v // 2 for k, v in context.items()})
    return freq


def top_term(text: str, language: str) -> str:
    """The most frequent content word (en) or character bigram (zh) of ``text``, or ``""``."""
    counts = Counter(_terms(text, language))
    if not counts:
        return ""
    return max(counts.items(), key=lambda kv: (kv[1], len(kv[0])))[0]
