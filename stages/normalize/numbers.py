"""Number readers for English (num2words) and Chinese (cn2an), cached.

Both libraries are imported on first use only (cn2an alone costs ~0.2 s at import), and
every reader is memoised because podcast scripts repeat the same few numbers.  Inputs are
ASCII digit strings (the verbalizer folds full-width and other Unicode digits first).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "en_cardinal",
    "en_decimal",
    "en_digits",
    "en_ordinal",
    "en_pair",
    "en_year",
    "zh_cardinal",
    "zh_decimal",
    "zh_digits",
    "zh_year",
]

_EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_DIGIT_TABLE = str.maketrans("0123456789", _ZH_DIGITS)
# num2words writes British "one thousand, two hundred and thirty-four"; podcasts say it
# the American way without "and" and without commas.
_EN_AND = re.compile(r",| and(?= )")
_CACHE = 8192


def _num2words(value: int | float, to: str = "cardinal") -> str:
    from num2words import num2words

    return " ".join(_EN_AND.sub("", num2words(value, lang="en", to=to)).split())


_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_GROUPS = ("", " thousand", " million", " billion", " trillion", " quadrillion")


def _below_thousand(value: int) -> str:
    hundreds, rest = divmod(value, 100)
    words = [_ONES[hundreds] + " hundred"] if hundreds else []
    if rest:
        tens, ones = divmod(rest, 10)
        words.append(
            _ONES[rest] if rest < 20 else _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
        )
    return " ".join(words)


@lru_cache(maxsize=_CACHE)
def en_cardinal(digits: str) -> str:
    """``"1234"`` → ``"one thousand two hundred thirty-four"`` (``-`` prefix → ``minus``).

    Hand-rolled because it is the hot path (num2words costs ~60 µs a call); the tests
    check it against num2words' wording.  Beyond quadrillions num2words takes over.
    """
    value = int(digits)
    if value < 0:
        return "minus " + en_cardinal(str(-value))
    if value == 0 or value >= 1000 ** len(_GROUPS):
        return _num2words(value)
    groups, index = [], 0
    while value:
        value, group = divmod(value, 1000)
        if group:
            groups.append(_below_thousand(group) + _GROUPS[index])
        index += 1
    return " ".join(reversed(groups))


@lru_cache(maxsize=_CACHE)
def en_ordinal(digits: str) -> str:
    """``"21"`` → ``"twenty-first"``."""
    return _num2words(int(digits), to="ordinal")


@lru_cache(maxsize=_CACHE)
def en_year(digits: str) -> str:
    """``"2021"`` → ``"twenty twenty-one"``, ``"1905"`` → ``"nineteen oh-five"``."""
    value = int(digits)
    if not 1000 <= value <= 9999:
        return en_cardinal(digits)
    return _num2words(value, to="year")


def en_pair(digits: str) -> str:
    """Model numbers read in pairs like years: ``"4090"`` → ``"forty ninety"``."""
    if len(digits) == 4 and digits[0] != "0" and digits[2] != "0":
        return en_year(digits)
    return en_cardinal(digits)


def en_digits(digits: str) -> str:
    """Digit by digit: ``"007"`` → ``"zero zero seven"``."""
    return " ".join(_EN_DIGITS[int(d)] for d in digits if d.isdigit())


@lru_cache(maxsize=_CACHE)
def en_decimal(number: str) -> str:
    """``"3.14"`` → ``"three point one four"``; integers go to :func:`en_cardinal`."""
    whole, _, frac = number.partition(".")
    sign = "minus " if whole.startswith("-") else ""
    head = en_cardinal(whole.lstrip("-") or "0")
    return f"{sign}{head} point {en_digits(frac)}" if frac else f"{sign}{head}"


_ZH_UNITS = ("", "十", "百", "千")
_ZH_GROUPS = ("", "万", "亿")
_ZH_TWO = re.compile(r"二(?=[千万亿])")


def _zh_group(value: int) -> str:
    """0 < value < 10000 → 千百十 reading; a run of inner zeros is one 零."""
    out: list[str] = []
    zero = False
    for power in (3, 2, 1, 0):
        digit = value // 10**power % 10
        if digit:
            if zero and out:
                out.append("零")
            out.append(_ZH_DIGITS[digit] + _ZH_UNITS[power])
        zero = not digit
    return "".join(out)


def _zh_integer(value: int) -> str:
    """cn2an's "low" reading of ``value`` (< 10¹²), without cn2an's per-call cost.

    The tests check it against cn2an; larger values go to cn2an itself.
    """
    if value >= 10**12:
        import cn2an

        return cn2an.an2cn(str(value), "low")
    if value == 0:
        return "零"
    groups = [value // 10**8, value // 10**4 % 10**4, value % 10**4]
    out: list[str] = []
    for index, group in enumerate(groups):
        if group:
            if out and (group < 1000 or not groups[index - 1]):
                out.append("零")
            out.append(_zh_group(group) + _ZH_GROUPS[2 - index])
    text = "".join(out)
    return text[1:] if text.startswith("一十") else text


@lru_cache(maxsize=_CACHE)
def zh_cardinal(digits: str) -> str:
    """``"2021"`` → ``"两千零二十一"``: cn2an's reading plus the spoken 两 before 千/万/亿
    and 百."""
    text = _ZH_TWO.sub("两", _zh_integer(int(digits)))
    return "两" + text[1:] if text.startswith("二百") else text


def zh_digits(digits: str) -> str:
    """Digit by digit: ``"2021"`` → ``"二零二一"``."""
    return digits.translate(_ZH_DIGIT_TABLE)


zh_year = zh_digits


@lru_cache(maxsize=_CACHE)
def zh_decimal(number: str) -> str:
    """``"3.5"`` → ``"三点五"``, ``"-2"`` → ``"负二"``."""
    whole, _, frac = number.partition(".")
    sign = "负" if whole.startswith("-") else ""
    head = zh_cardinal(whole.lstrip("-") or "0")
    return f"{sign}{head}点{zh_digits(frac)}" if frac else f"{sign}{head}"
