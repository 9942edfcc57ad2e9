"""Text side of CosyVoice 2: the Qwen2 tokenizer with its 17 added specials, the reference's own
normalisation rules (without an external TN engine) and its splitting of long text into LM runs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

SPECIAL_TOKENS = (
    "<|endofprompt|>", "[breath]", "<strong>", "</strong>", "[noise]", "[laughter]", "[cough]", "[clucking]",
    "[accent]", "[quick_breath]", "<laughter>", "</laughter>", "[hissing]", "[sigh]", "[vocalized-noise]",
    "[lipsmack]", "[mn]",
)  # fmt: skip
END_OF_PROMPT = "<|endofprompt|>"
_CHINESE = re.compile(r"[\u4e00-\u9fff]+")
ZH_STOPS = ("。", "？", "！", "；", "：", "、", ".", "?", "!", ";")
EN_STOPS = (".", "?", "!", ";", ":")


class Tokenizer:
    """``encode(text) -> ids``: the folder's Qwen2 tokenizer, no BOS/EOS, specials as single ids."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        extra = ["<|im_start|>", "<|im_end|>", *SPECIAL_TOKENS]
        self._tok.add_special_tokens(
            {"eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>", "additional_special_tokens": extra}
        )

    def encode(self, text: str) -> list[int]:
        return list(self._tok([text])["input_ids"][0])

    def id_of(self, token: str) -> int:
        return int(self._tok.convert_tokens_to_ids(token))


def contains_chinese(text: str) -> bool:
    return bool(_CHINESE.search(text))


def _spell_numbers(text: str) -> str:
    """Every run of digits in English words, as the reference's ``inflect`` call writes them."""
    from num2words import num2words

    def words(match: re.Match[str]) -> str:
        try:
            return num2words(int(match.group(0)))
        except (ValueError, OverflowError, NotImplementedError):
            return match.group(0)

    return re.sub(r"\d+", words, text)


def _drop_blanks(text: str) -> str:
    """Remove each space unless both neighbours are non-space ASCII."""
    out = []
    for i, c in enumerate(text):
        if c == " ":
            before, after = text[i - 1], text[i + 1] if i + 1 < len(text) else " "
            if not (after.isascii() and after != " " and before.isascii() and before != " "):
                continue
        out.append(c)
    return "".join(out)


def _only_symbols(text: str) -> bool:
    return all(unicodedata.category(c)[0] in "PS" for c in text)


def split_sentences(text: str, length: Callable[[str], int], stops: tuple[str, ...], end: str,
                    max_len: int = 80, min_len: int = 60, merge_len: int = 20) -> list[str]:  # fmt: skip
    """Sentences grouped into segments of at most ``max_len`` units (kept whole past ``min_len``);
    a last segment under ``merge_len`` is glued to the one before."""
    if text[-1] not in stops:
        text += end
    sentences: list[str] = []
    start = 0
    for i, c in enumerate(text):
        if c not in stops:
            continue
        if i > start:
            sentences.append(text[start:i] + c)
        if i + 1 < len(text) and text[i + 1] in ('"', "”"):
            sentences[-1] += text[i + 1]
            start = i + 2
        else:
            start = i + 1
    segments: list[str] = []
    current = ""
    for sentence in sentences:
        if length(current + sentence) > max_len and length(current) > min_len:
            segments.append(current)
            current = ""
        current += sentence
    if current:
        if length(current) < merge_len and segments:
            segments[-1] += current
        else:
            segments.append(current)
    return segments


def normalize(text: str, encode: Callable[[str], list[int]], *, split: bool = True) -> list[str] | str:
    """The reference's ``text_normalize`` without an external TN engine.

    Text with ``<|...|>`` markup is returned unchanged and unsplit. Chinese text: blanks between
    non-ASCII characters removed, ²/³ spelled, brackets dropped, split by characters; other
    text: digits spelled in English, split by tokenizer tokens.
    """
    if ("<|" in text and "|>" in text) or not text:
        return [text] if split else text
    text = text.strip()
    if contains_chinese(text):
        text = _drop_blanks(text.replace("\n", ""))
        text = text.replace("²", "平方").replace("³", "立方").replace(".", "。").replace(" - ", "，")
        for old in ("（", "）", "【", "】", "`"):
            text = text.replace(old, "")
        text = re.sub(r"[，,、]+$", "。", text.replace("——", " "))
        segments = split_sentences(text, len, ZH_STOPS, "。")
    else:
        text = _spell_numbers(text)
        segments = split_sentences(text, lambda s: len(encode(s)), EN_STOPS, ".")
    if not split:
        return text
    return [s for s in segments if not _only_symbols(s)]
