"""The podcast profile's MOSS pass: MOSS-TTSD v0.7/v1.0 rules applied to one turn, minus
the reference's traps.

The output of :func:`polish` is a fixed point of the reference normalizers (v0.7 and
v1.0) for a tagged turn, so an engine that normalizes again changes nothing, but:

* a bracketed number never survives (the reference turns ``[2021]`` into a speaker tag);
* hyphens and underscores between words become spaces (the reference deletes them:
  ``well-known`` → ``wellknown``, ``twenty-one`` → ``twentyone``);
* curly apostrophes become ASCII (v1.0 deletes them: ``It’s`` → ``Its``);
* dashes and ellipses become a comma of the surrounding script (v1.0 puts ``，`` into
  English);
* literal ``<speaker1>``-style markup is removed instead of reaching the tokenizer.

Spans that must come through untouched (lexicon output, ``<pinyin>`` markup, ``[laugh]``
style events) are swapped for private-use placeholders first and restored last.
"""

from __future__ import annotations

import re
from collections.abc import Callable

__all__ = ["Protected", "polish"]

_PLACEHOLDER_BASE = 0xF0000  # Supplementary Private Use Area-A: never in real scripts.
_PLACEHOLDER = re.compile("[\U000f0000-\U000ffffd]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"

_EVENT = re.compile(rf"\[[A-Za-z{_CJK} ]{{1,24}}\]|<[a-zü]{{1,6}}[1-5]>")
_MARKUP = re.compile(r"</?[A-Za-z][^<>\n]{0,60}>")
_LAUGH_WORDS = re.compile(r"[(\[](?:laughs?|laughter|laughing|笑)[)\]]", re.IGNORECASE)
_PAUSE_HINT = re.compile(r"[—…⸺―–]|\.\.|-\s|\s-|^-")
_HYPHEN_HINT = re.compile(r"[-_‐‑]")
_HA_HINT = re.compile(r"ha", re.IGNORECASE)
_DELETED = '"“”「」『』《》【】〖〗（）()[]<>~～'
_INTERNAL_MAP = {"；": "，", "：": "，", "、": "，", ";": ",", ":": ",", "‘": "", "’": ""}
_SYMBOLS = str.maketrans({**dict.fromkeys(_DELETED, ""), **_INTERNAL_MAP})
_SYMBOL_HINT = re.compile("[" + re.escape(_DELETED + "".join(_INTERNAL_MAP)) + "]")
_WORD_HYPHEN = re.compile(r"(?<=[^\W_])[-_‐‑]+(?=[^\W_])")
_HA_ZH = re.compile(r"哈{2,}")
# The reference's own laughter pattern, so its later pass finds nothing left to change.
_HA_EN = re.compile(r"\b(ha(\s*ha)+)\b", re.IGNORECASE)
_PAUSE = re.compile(r"——+|……+|\.{2,}|[…⸺―—–]+|\s-+\s|\s-+$|^-+\s")
_APOSTROPHE = re.compile(r"(?<=[A-Za-z])[’‘](?=[A-Za-z])")
_STRAY = re.compile(r"[-_‐‑]")
_PUNCT_RUN = re.compile(r"([，。？！,.?!])[，。？！,.?!\s]*[，。？！,.?!]")
_SPACE_BEFORE = re.compile(r"\s+(?=[，。？！,.?!])|(?<=[，。？！])\s+")
_TERMINAL = frozenset("。！？.!?")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_LAST_SCRIPT = re.compile(rf"[A-Za-z{_CJK}]")
_MARKUP_SPANS = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")


class Protected:
    """Swaps spans for single placeholder characters and restores them afterwards."""

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: list[str] = []

    def hide(self, text: str) -> str:
        """Placeholder for ``text`` (use as a lexicon ``wrap`` or a regex replacement)."""
        self.spans.append(text)
        return chr(_PLACEHOLDER_BASE + len(self.spans) - 1)

    def hide_events(self, text: str) -> str:
        text = _MARKUP.sub(lambda m: m.group() if _EVENT.fullmatch(m.group()) else " ", text)
        return _EVENT.sub(lambda m: self.hide(m.group()), text)

    def restore(self, text: str) -> str:
        if not self.spans:
            return text
        return _PLACEHOLDER.sub(lambda m: self.spans[ord(m.group()) - _PLACEHOLDER_BASE], text)


def strip_placeholders(text: str) -> str:
    """Input text must not carry our placeholder characters."""
    return _PLACEHOLDER.sub("", text)


def _pause(text: str) -> Callable[[re.Match[str]], str]:
    def comma(m: re.Match[str]) -> str:
        before = text[max(0, m.start() - 1) : m.start()]
        return "，" if _CJK_CHAR.match(before or "") else ", "

    return comma


def clean(text: str, protect: Protected) -> str:
    """Symbols, laughter, pauses and internal punctuation of one verbalized turn."""
    # The `in` checks skip whole regex passes on the many turns that do not need them.
    if "(" in text or "[" in text:
        text = _LAUGH_WORDS.sub(
            lambda m: protect.hide("[笑]" if "笑" in m.group() else "[laugh]"), text
        )
    if "’" in text or "‘" in text:
        text = _APOSTROPHE.sub("'", text)
    if _PAUSE_HINT.search(text):
        text = _PAUSE.sub(_pause(text), text)
    if _SYMBOL_HINT.search(text):
        text = text.translate(_SYMBOLS)
    if _HYPHEN_HINT.search(text):
        text = _STRAY.sub(" ", _WORD_HYPHEN.sub(" ", text))
    if "哈哈" in text:
        text = _HA_ZH.sub(lambda m: protect.hide("[笑]"), text)
    if _HA_HINT.search(text):
        text = _HA_EN.sub(lambda m: protect.hide("[laugh]"), text)
    text = _PUNCT_RUN.sub(r"\1", text)
    text = _SPACE_BEFORE.sub("", text)
    return " ".join(text.split())


def finish(text: str, zh_default: bool) -> str:
    """Keep only the final period (the MOSS rule) and end every turn with one."""
    text = text.strip()
    if not text:
        return text
    body, last = text[:-1].replace("。", "，"), text[-1]
    if last in "，,":
        return body + ("。" if last == "，" else ".")
    if last in _TERMINAL:
        return body + last
    tail = _LAST_SCRIPT.findall(_MARKUP_SPANS.sub("", text[-60:]))
    zh = _CJK_CHAR.match(tail[-1]) is not None if tail else zh_default
    return body + last + ("。" if zh else ".")


def polish(text: str, protect: Protected, zh_default: bool) -> str:
    """Clean one verbalized turn, restore protected spans, settle the final period."""
    return finish(protect.restore(clean(text, protect)), zh_default)
