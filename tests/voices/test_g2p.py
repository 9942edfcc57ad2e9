"""Kokoro's text → phonemes: language spans, espeak-ng English, misaki Mandarin, sentence chunks."""

from __future__ import annotations

from pathlib import Path

from podcast.stages.synthesize.espeak import phonemize
from podcast.stages.synthesize.kokoro.g2p import MandarinG2P, english_phonemes, language_spans, split_sentences


def test_language_spans_split_mixed_turns() -> None:
    assert language_spans("我们用 GPU 训练模型。", "zh") == [("zh", "我们用 "), ("en", "GPU "), ("zh", "训练模型。")]
    assert language_spans("The word 茶 means tea.", "en") == [("en", "The word "), ("zh", "茶 "), ("en", "means tea.")]
    # digits written straight before Han belong to the Mandarin span
    assert language_spans("In 2024年 it grew", "en") == [("en", "In "), ("zh", "2024年 "), ("en", "it grew")]
    assert language_spans("42!", "zh") == [("zh", "42!")]
    assert language_spans("   ", "en") == []


def test_english_keeps_punctuation_and_stress() -> None:
    ipa = english_phonemes("Hello, world! Is this a test?", phonemize)
    assert ipa.count(",") == 1 and ipa.count("!") == 1 and ipa.endswith("?")
    assert "ˈ" in ipa and "həlˈoʊ," in ipa
    assert "r" not in ipa  # espeak's r is Kokoro's ɹ


def test_mandarin_uses_the_cache_folder_for_jieba(tmp_path: Path) -> None:
    g2p = MandarinG2P(tmp_path / "jieba")
    phonemes = g2p("今天我们聊聊茶。")
    assert "↓" in phonemes or "↗" in phonemes or "→" in phonemes or "↘" in phonemes
    assert phonemes.rstrip().endswith(".")
    assert (tmp_path / "jieba" / "jieba.cache").is_file()


def test_sentences_respect_the_limit() -> None:
    text = "ðɪs ɪz wˈʌn. " + " ".join(["lˈɔŋ wˈɜːd"] * 40) + ", ænd mˈɔːɹ! ʃˈɔːɹt?"
    chunks = split_sentences(text, 60)
    assert chunks[0] == "ðɪs ɪz wˈʌn." and chunks[-1] == "ʃˈɔːɹt?"
    assert all(0 < len(c) <= 60 for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
