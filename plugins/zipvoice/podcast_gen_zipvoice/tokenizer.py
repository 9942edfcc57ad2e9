"""ZipVoice-Dialog's text front end: ``tokens.txt``, segmentation into Chinese, English,
``<pinyin>`` and ``[tag]`` parts, and their phone tokens.

* Chinese: cn2an numbers -> jieba words -> pypinyin TONE3 (tone sandhi, neutral tone 5), each
  syllable split into ``initial + "0"`` and its final.
* English: abbreviation and number normaliser (:mod:`.english`), then espeak-ng en-us IPA
  phonemes per clause with the clause's punctuation, the clauses glued without a separator.
* ``<ni3>``: one pinyin syllable; ``[S1]`` and any other ``[...]``: one token as written.

Tokens missing from ``tokens.txt`` are dropped (the reference does the same silently; here they
are reported in :attr:`Tokenized.dropped` so the engine can keep them from reaching users).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .english import normalize_english, phonemize_english

__all__ = ["DialogTokenizer", "Tokenized", "read_token_table", "segment_text"]

_PART = re.compile(r"[<[].*?[>\]]|.")
_BRACKETED = re.compile(r"([<[].*?[>\]])")
_TAG_SPACE = re.compile(r"\s*(\[S[12]\])\s*")
_PUNCTUATION_MAP = (
    ("，", ","),
    ("。", "."),
    ("！", "!"),
    ("？", "?"),
    ("；", ";"),
    ("：", ":"),
    ("、", ","),
    ("‘", "'"),
    ("“", '"'),
    ("”", '"'),
    ("’", "'"),
    ("⋯", "…"),
    ("···", "…"),
    ("・・・", "…"),
    ("...", "…"),
)


def read_token_table(path: Path) -> dict[str, int]:
    """``token<TAB>id`` lines; only trailing whitespace is stripped (the space token is ``" "``)."""
    table: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip().split("\t")
            if len(fields) < 2:
                raise ValueError(f"{path}:{number}: expected 'token<TAB>id'")
            if fields[0] in table:
                raise ValueError(f"{path}:{number}: token {fields[0]!r} appears twice")
            table[fields[0]] = int(fields[1])
    return table


def preprocess(text: str) -> str:
    """Whitespace around ``[S1]``/``[S2]`` removed, full-width punctuation mapped to ASCII."""
    text = _TAG_SPACE.sub(r"\1", text)
    for old, new in _PUNCTUATION_MAP:
        text = text.replace(old, new)
    return text


def _kind(part: str) -> str:
    if ("\u4e00" <= part <= "\u9fa5") or (part.startswith("<") and part.endswith(">")):
        return "zh"
    if ("A" <= part <= "Z") or ("a" <= part <= "z"):
        return "en"
    return "other"


def segment_text(text: str) -> list[tuple[str, str]]:
    """Split preprocessed text into (string, kind) with kind zh, en, pinyin, tag or other.

    Characters that are neither Chinese nor ASCII letters join the running segment; a leading
    run of them takes the kind of what follows.
    """
    parts = _PART.findall(text)
    if not parts:
        return []
    merged: list[tuple[str, str]] = []
    current, kind = parts[0], _kind(parts[0])
    for part in parts[1:]:
        part_kind = _kind(part)
        if kind == "other":
            current, kind = current + part, part_kind
        elif part_kind in (kind, "other"):
            current += part
        else:
            merged.append((current, kind))
            current, kind = part, part_kind
    merged.append((current, kind))
    out: list[tuple[str, str]] = []
    for seg, seg_kind in merged:
        for piece in _BRACKETED.split(seg):
            if not piece:
                continue
            if piece.startswith("<") and piece.endswith(">"):
                out.append((piece, "pinyin"))
            elif piece.startswith("[") and piece.endswith("]"):
                out.append((piece, "tag"))
            else:
                out.append((piece, seg_kind))
    return out


def _is_syllable(text: str) -> bool:
    return text[:-1].isalpha() and text[-1:] in ("1", "2", "3", "4", "5")


def split_syllable(syllable: str) -> list[str]:
    """``hao3`` -> ``["h0", "ao3"]``; a syllable without an initial gives only its final."""
    from pypinyin.contrib.tone_convert import to_finals_tone3, to_initials

    initial = to_initials(syllable, strict=False)
    final = to_finals_tone3(syllable, strict=False, neutral_tone_with_five=True)
    return ([initial + "0"] if initial else []) + ([final] if final else [])


@cache
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def chinese_tokens(text: str) -> list[str]:
    import cn2an
    from pypinyin import Style, lazy_pinyin

    text = cn2an.transform(text, "an2cn")
    words = list(_jieba().cut(text))
    syllables = lazy_pinyin(words, style=Style.TONE3, tone_sandhi=True, neutral_tone_with_five=True)
    tokens: list[str] = []
    for item in syllables:
        tokens.extend(split_syllable(item) if _is_syllable(item) else [item])
    return tokens


def pinyin_tokens(text: str) -> list[str]:
    """``<ni3>`` -> ``["n0", "i3"]``; anything that is not one toned syllable gives nothing."""
    inner = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    if not inner or not _is_syllable(inner):
        logging.getLogger(__name__).warning("<%s> is not a toned pinyin syllable; skipped", inner)
        return []
    return split_syllable(inner)


@dataclass(frozen=True, slots=True)
class Tokenized:
    tokens: list[str]
    ids: list[int]
    dropped: list[str]


class DialogTokenizer:
    """Text -> phone tokens -> ids with a model folder's ``tokens.txt``."""

    def __init__(self, table: dict[str, int]) -> None:
        missing = [t for t in ("_", "[S1]", "[S2]") if t not in table]
        if missing:
            raise ValueError(f"tokens.txt lacks {', '.join(missing)}")
        self.table = table
        self.pad_id = table["_"]
        self.spk_a_id = table["[S1]"]
        self.spk_b_id = table["[S2]"]
        self.vocab_size = len(table)

    @classmethod
    def from_file(cls, path: Path) -> DialogTokenizer:
        return cls(read_token_table(path))

    def tokens(self, text: str) -> list[str]:
        """String tokens of ``text`` (before the id lookup)."""
        out: list[str] = []
        for seg, kind in segment_text(preprocess(text)):
            if kind == "zh":
                out += chinese_tokens(seg)
            elif kind == "en":
                out += phonemize_english(normalize_english(seg))
            elif kind == "pinyin":
                out += pinyin_tokens(seg)
            elif kind == "tag":
                out.append(seg)
        return out

    def ids(self, tokens: list[str]) -> list[int]:
        return [self.table[t] for t in tokens if t in self.table]

    def tokenize(self, text: str) -> Tokenized:
        tokens = self.tokens(text)
        return Tokenized(tokens, self.ids(tokens), [t for t in tokens if t not in self.table])
