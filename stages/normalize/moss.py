"""Faithful re-implementations of MOSS-TTSD's ``normalize_text`` (v0.5, v0.7, v1.0).

Each version is described by a :class:`MossRules` value and run by one engine,
:func:`moss_normalize`.  The output must equal the reference byte for byte, quirks
included (see ``docs/moss_ttsd.md`` §2): ``[2021]`` becomes a speaker tag, same-speaker
turns are glued together without a space, ``\\r`` survives, v1.0 deletes curly quotes.
Python's ``re`` semantics (``\\d``, ``\\s`` and ``\\b`` are Unicode-aware) are part of the
behaviour, so the patterns below deliberately keep them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["MOSS_V0_5", "MOSS_V0_7", "MOSS_V1_0", "MossRules", "moss_normalize", "split_tagged"]

# `[12]` → `[S12]` (any Unicode digit, as in the reference).
_NUMERIC_TAG = re.compile(r"\[(\d+)\]")
# v0.5 only: brackets that are not a speaker tag lose their brackets (content stays).
_NON_TAG_BRACKETS = re.compile(r"\[(?!S\d+\])([^\]]*)\]")
# Split before every tag, keeping the tag at the start of its segment.
_TAG_SPLIT = re.compile(r"(?=\[S\d+\])")
_TAG_HEAD = re.compile(r"^(\[S\d+\])\s*(.*)")
_HA_ZH = re.compile(r"哈{2,}")
_HA_EN = re.compile(r"\b(ha(\s*ha)+)\b", re.IGNORECASE)
_PUNCT_RUN = re.compile(r"([，。？！,.?!])[，。？！,.?!]+")
_CURLY_SINGLE = str.maketrans({"‘": "'", "’": "'"})

_BASE_REMOVAL = '【】《》（）『』「」"-“”～~'
_BASE_INTERNAL = (("；", "，"), (";", ","), ("：", "，"), (":", ","), ("、", "，"))
_V05_EXTRA_INTERNAL = (("！", "，"), ("!", ","), ("？", "，"), ("?", ","))
# v1.0 maps these (in this order, after `——`/`……`) to a full-width comma.
_V10_DASHES = ("...", "⸺", "―", "—", "…")


@dataclass(frozen=True, slots=True)
class MossRules:
    """One version of the reference normalizer, as data.

    ``removal`` is the set of deleted characters, ``internal`` the single-character
    punctuation map, ``dashes`` extra strings turned into ``，`` (v1.0), ``collapse`` the
    v1.0 punctuation-run rule, ``unwrap`` the v0.5 bracket stripping, ``merge`` the
    v0.7+ same-speaker merge.
    """

    version: str
    removal: str
    internal: tuple[tuple[str, str], ...]
    laugh_zh: str
    laugh_en: str
    dashes: tuple[str, ...] = ()
    collapse: bool = False
    unwrap: bool = False
    merge: bool = True
    _delete: dict[int, None] = field(init=False, repr=False, compare=False)
    _internal: dict[int, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_delete", str.maketrans("", "", self.removal))
        object.__setattr__(self, "_internal", str.maketrans(dict(self.internal)))


MOSS_V0_5 = MossRules(
    "v0.5",
    removal=_BASE_REMOVAL,
    internal=_BASE_INTERNAL + _V05_EXTRA_INTERNAL,
    laugh_zh="(笑)",
    laugh_en="(laughs)",
    unwrap=True,
    merge=False,
)
MOSS_V0_7 = MossRules(
    "v0.7",
    removal=_BASE_REMOVAL + "_",
    internal=_BASE_INTERNAL,
    laugh_zh="[笑]",
    laugh_en="[laugh]",
)
MOSS_V1_0 = MossRules(
    "v1.0",
    removal=_BASE_REMOVAL + "_‘’",
    internal=_BASE_INTERNAL,
    laugh_zh="[笑]",
    laugh_en="[laugh]",
    dashes=_V10_DASHES,
    collapse=True,
)


def split_tagged(text: str) -> list[tuple[str, str]]:
    """Split MOSS text into ``(tag, content)`` pairs exactly as the reference does.

    Segments are stripped and empty ones dropped; text before the first tag gets the tag
    ``""``; whitespace right after a tag is consumed.
    """
    pairs = []
    for segment in _TAG_SPLIT.split(text):
        segment = segment.strip()
        if not segment:
            continue
        head = _TAG_HEAD.match(segment)
        pairs.append((head.group(1), head.group(2)) if head else ("", segment))
    return pairs


def _clean_content(content: str, rules: MossRules) -> str:
    """Steps 4.3-4.9 of the reference for one segment's content."""
    content = content.translate(rules._delete)
    content = _HA_ZH.sub(rules.laugh_zh, content)
    content = _HA_EN.sub(rules.laugh_en, content)
    content = content.replace("——", "，").replace("……", "，")
    for dash in rules.dashes:
        content = content.replace(dash, "，")
    content = content.translate(rules._internal).strip()
    if rules.collapse:
        content = _PUNCT_RUN.sub(r"\1", content)
    return _keep_final_period(content)


def _keep_final_period(content: str) -> str:
    """Final `，`/`,` become `。`/`.`; every `。` before the last character becomes `，`."""
    if len(content) <= 1:
        return content
    last = content[-1]
    last = "。" if last == "，" else "." if last == "," else last
    return content[:-1].replace("。", "，") + last


def _merge(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join consecutive segments that share a non-empty tag (plain concatenation)."""
    merged: list[tuple[str, str]] = []
    for tag, content in pairs:
        if merged and tag and merged[-1][0] == tag:
            merged[-1] = (tag, merged[-1][1] + content)
        else:
            merged.append((tag, content))
    return merged


def moss_normalize(text: str, rules: MossRules) -> str:
    """Normalize a whole MOSS script (``[S1]…[S2]…``) exactly like ``rules.version``."""
    text = _NUMERIC_TAG.sub(r"[S\1]", text)
    if rules.unwrap:
        text = _NON_TAG_BRACKETS.sub(r"\1", text)
    pairs = [
        (tag, _clean_content(content, rules))
        for tag, content in split_tagged(text.replace("\n", " "))
    ]
    if rules.merge:
        pairs = _merge(pairs)
    return "".join(f"{tag}{content}".strip() for tag, content in pairs).translate(_CURLY_SINGLE)
