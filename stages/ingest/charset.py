"""Turning bytes into text: byte-order marks, declared charsets, then detection.

Order for HTML (WHATWG-like): BOM, the HTTP ``Content-Type`` charset, a ``<meta>`` charset
in the first 64 KB, then charset-normalizer.  Plain text files: BOM, strict UTF-8, then
charset-normalizer with a GB18030 check for Chinese text (short GBK files are often
mistaken for a Cyrillic or Latin code page).
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_html", "decode_text", "looks_binary", "normalize_charset", "utf16_without_bom"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Labels that browsers treat as a superset encoding (WHATWG "Encoding" standard).
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
}
_META = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_META_WINDOW = 65536


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label, widened to its superset; None if unknown."""
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    label = _SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _bom_codec(data: bytes) -> str | None:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    return None


def utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``utf-16-be`` when the NUL bytes of ``head`` sit in every other byte
    (ASCII and Latin text encoded as UTF-16 without a byte-order mark), else ``None``."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even, odd = head[0 : pairs * 2 : 2], head[1 : pairs * 2 : 2]
    even_nul, odd_nul = even.count(0) / pairs, odd.count(0) / pairs
    if odd_nul >= 0.3 and even_nul <= 0.05:
        return "utf-16-le"
    if even_nul >= 0.3 and odd_nul <= 0.05:
        return "utf-16-be"
    return None


def looks_binary(head: bytes) -> bool:
    """NUL bytes that are not the pattern of UTF-16 or UTF-32 text."""
    return b"\x00" in head and _bom_codec(head) is None and utf16_without_bom(head) is None


def _try(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best guess, decoded; None when it has no guess."""
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


def _cjk_ratio(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if "\u3400" <= c <= "\u9fff") / len(letters)


def decode_html(data: bytes, header_charset: str | None = None) -> str:
    """Decode an HTML body: BOM, HTTP charset, ``<meta>`` charset, detection, then UTF-8."""
    meta = _META.search(data[:_META_WINDOW])
    candidates = (
        _bom_codec(data),
        normalize_charset(header_charset),
        normalize_charset(meta.group(1).decode("ascii", "ignore")) if meta else None,
    )
    for codec in candidates:
        text = _try(data, codec)
        if text is not None:
            return text.lstrip("\ufeff")
    detected = _try(data, "utf-8") or _detect(data)
    return detected if detected is not None else data.decode("utf-8", "replace")


def decode_text(data: bytes) -> str:
    """Decode a text file: BOM, the NUL pattern of BOM-less UTF-16, strict UTF-8, GB18030
    when it reads as Chinese, detection."""
    for codec in (_bom_codec(data), utf16_without_bom(data[:4096]), "utf-8"):
        text = _try(data, codec)
        if text is not None:
            return text.lstrip("\ufeff")
    gb = _try(data, "gb18030")
    if gb is not None and _cjk_ratio(gb) >= 0.5:
        return gb
    detected = _detect(data)
    if detected is not None:
        return detected
    return gb if gb is not None else data.decode("utf-8", "replace")
