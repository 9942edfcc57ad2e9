"""How English and Chinese say numbers, money, dates, times, units and symbols.

Two readers share one interface (:class:`Reader`); the verbalizer picks one per token
from the surrounding script, so ``2021年`` in an English turn is still read in Chinese.
Inputs are ASCII strings already cut out by the verbalizer's patterns.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from . import numbers as n
from .tables import CURRENCIES, MONTHS, PER_UNITS, RATE_UNITS, SCALES, UNITS

__all__ = ["EN", "ZH", "ChineseReader", "EnglishReader", "Reader"]

_EN_FRACTION_NAMES = {2: ("half", "halves"), 4: ("quarter", "quarters")}
_ZH_PHONE_DIGITS = str.maketrans("0123456789", "零幺二三四五六七八九")


def _plain(number: str) -> str:
    """Drop thousands separators: ``"1,234.5"`` → ``"1234.5"``."""
    return number.replace(",", "")


def _is_one(number: str) -> bool:
    return _plain(number) in ("1", "1.0", "-1")


def _rate(unit: str) -> tuple[str, str | None]:
    """``"km/s"`` → ``("km", "s")``, ``"mph"`` → ``("mi", "h")``, ``"kg"`` → ``("kg", None)``."""
    if unit in RATE_UNITS:
        return RATE_UNITS[unit]
    base, _, per = unit.partition("/")
    return base, per or None


class EnglishReader:
    """English readings (American style: no "and", no commas)."""

    zh = False
    pause = ", "

    def number(self, number: str) -> str:
        """Cardinal or decimal, sign included."""
        return n.en_decimal(_plain(number))

    def digits(self, digits: str) -> str:
        return n.en_digits(digits)

    def ordinal(self, digits: str) -> str:
        return n.en_ordinal(digits)

    def year(self, digits: str) -> str:
        return n.en_year(digits)

    def pair(self, digits: str) -> str:
        return n.en_pair(digits)

    def percent(self, number: str) -> str:
        return f"{self.number(number)} percent"

    def fraction(self, top: str, bottom: str) -> str:
        numerator, denominator = int(top), int(bottom)
        if denominator == 0 or denominator > 100:
            return f"{self.number(top)} over {self.number(bottom)}"
        if denominator == 1:
            return f"{self.number(top)} over one"
        singular, plural = _EN_FRACTION_NAMES.get(denominator, (None, None))
        if singular is None:
            singular = n.en_ordinal(bottom)
            plural = singular + "s"
        return f"{self.number(top)} {singular if numerator == 1 else plural}"

    def ratio(self, left: str, right: str) -> str:
        return f"{self.number(left)} to {self.number(right)}"

    def range_word(self) -> str:
        return " to "

    def unit(self, number: str, spoken: str, unit: str) -> str:
        base, per = _rate(unit)
        singular, plural, _ = UNITS[base]
        return self.per(f"{spoken} {singular if _is_one(number) else plural}", per)

    def per(self, spoken: str, per: str | None) -> str:
        """``five kilometers`` + ``s`` → ``five kilometers per second``."""
        return f"{spoken} per {PER_UNITS[per][0]}" if per else spoken

    def scaled(self, number: str, scale: str) -> str:
        return f"{self.number(number)} {SCALES[scale][0]}"

    def money(self, code: str, amount: str, scale: str | None, per: str | None = None) -> str:
        """``("USD", "-3.50", None, "month")`` → ``minus three dollars fifty per month``."""
        plain = _plain(amount)
        sign = "minus " if plain.startswith("-") else ""
        return self.per(sign + self._amount(code, plain.lstrip("-"), scale), per)

    def _amount(self, code: str, plain: str, scale: str | None) -> str:
        one, many, minor, _ = CURRENCIES[code]
        if scale in _ZH_SCALE_FACTORS:  # 1.5万元 → fifteen thousand yuan
            value = Decimal(plain) * _ZH_SCALE_FACTORS[scale]
            if value == value.to_integral_value():
                return f"{n.en_cardinal(str(int(value)))} {many}"
        if scale:
            return f"{self.number(plain)} {SCALES[scale][0]} {many}"
        whole, _, cents = plain.partition(".")
        if len(cents) != 2:
            return f"{self.number(plain)} {one if _is_one(plain) else many}"
        major = f"{n.en_cardinal(whole)} {one if whole == '1' else many}"
        if int(cents) == 0:
            return major
        if int(whole) == 0:
            return f"{n.en_cardinal(cents)} {minor}"
        return f"{major} {n.en_cardinal(cents)}"

    def time(self, hour: str, minute: str, second: str | None, meridiem: str | None) -> str:
        spoken = n.en_cardinal(hour)
        if int(minute):
            spoken += " " + (
                f"oh {n.en_cardinal(minute)}" if minute[0] == "0" else n.en_cardinal(minute)
            )
        elif not meridiem:
            spoken += " o'clock"
        if second and int(second):
            spoken += f" and {n.en_cardinal(second)} seconds"
        return f"{spoken} {meridiem[0].lower()} m" if meridiem else spoken

    def date(self, year: str | None, month: int, day: int | None) -> str:
        spoken = MONTHS[month - 1]
        if day:
            spoken += " " + n.en_ordinal(str(day))
        if year:
            spoken += (", " if day else " ") + n.en_year(year)
        return spoken

    def decade(self, digits: str) -> str:
        words = (n.en_year(digits) if len(digits) == 4 else n.en_cardinal(digits)).split(" ")
        last = words[-1]
        words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
        return " ".join(words)

    def phone(self, groups: list[str]) -> str:
        return ", ".join(n.en_digits(g) for g in groups)

    def letters(self, letters: str) -> str:
        return " ".join(letters)


class ChineseReader:
    """Mandarin readings: 两 for quantities, digit-by-digit years, 百分之, 分之, 比."""

    zh = True
    pause = "，"

    def number(self, number: str) -> str:
        return n.zh_decimal(_plain(number))

    def digits(self, digits: str) -> str:
        return n.zh_digits(digits)

    def ordinal(self, digits: str) -> str:
        return "第" + n.zh_cardinal(digits)

    def year(self, digits: str) -> str:
        return n.zh_year(digits)

    def pair(self, digits: str) -> str:
        return n.zh_cardinal(digits)

    def percent(self, number: str) -> str:
        sign = "负" if number.startswith("-") else ""
        return f"{sign}百分之{self.number(number.lstrip('-'))}"

    def fraction(self, top: str, bottom: str) -> str:
        return f"{self.number(bottom)}分之{self.number(top)}"

    def ratio(self, left: str, right: str) -> str:
        return f"{self.number(left)}比{self.number(right)}"

    def range_word(self) -> str:
        return "到"

    def unit(self, number: str, spoken: str, unit: str) -> str:
        base, per = _rate(unit)
        return self.per(spoken + UNITS[base][2], per)

    def per(self, spoken: str, per: str | None) -> str:
        """``五公里`` + ``s`` → ``每秒五公里``."""
        return f"每{PER_UNITS[per][1]}{spoken}" if per else spoken

    def scaled(self, number: str, scale: str) -> str:
        """``5M`` → 五百万 (computed exactly, so 3.5 billion → 三十五亿); 万 and 亿 stay as
        written (1.5万 → 一点五万)."""
        if scale in _ZH_SCALE_FACTORS:
            return self.number(number) + scale
        factor = _EN_SCALE_FACTORS[SCALES[scale][0]]
        try:
            value = Decimal(_plain(number)) * factor
        except InvalidOperation:
            return self.number(number) + SCALES[scale][1]
        if value == value.to_integral_value():
            return n.zh_cardinal(str(int(value)))
        return self.number(number) + SCALES[scale][1]

    def money(self, code: str, amount: str, scale: str | None, per: str | None = None) -> str:
        """``("CNY", "-1250", None, None)`` → ``负一千二百五十元``."""
        plain = _plain(amount)
        sign = "负" if plain.startswith("-") else ""
        plain = plain.lstrip("-")
        if "." in plain:
            plain = plain.rstrip("0").rstrip(".")
        spoken = self.scaled(plain, scale) if scale else self.number(plain)
        return self.per(sign + spoken + CURRENCIES[code][3], per)

    def time(self, hour: str, minute: str, second: str | None, meridiem: str | None) -> str:
        prefix = {"a": "上午", "p": "下午"}.get(meridiem[0].lower(), "") if meridiem else ""
        spoken = prefix + ("两" if int(hour) == 2 else n.zh_cardinal(hour)) + "点"
        if int(minute):
            spoken += ("零" if minute[0] == "0" else "") + n.zh_cardinal(minute) + "分"
        if second and int(second):
            spoken += n.zh_cardinal(second) + "秒"
        return spoken

    def date(self, year: str | None, month: int, day: int | None) -> str:
        spoken = f"{n.zh_year(year)}年" if year else ""
        spoken += n.zh_cardinal(str(month)) + "月"
        return spoken + (n.zh_cardinal(str(day)) + "日" if day else "")

    def decade(self, digits: str) -> str:
        return (n.zh_cardinal(digits[-2:]) if len(digits) == 2 else n.zh_year(digits)) + "年代"

    def phone(self, groups: list[str]) -> str:
        return "，".join(g.translate(_ZH_PHONE_DIGITS) for g in groups)

    def letters(self, letters: str) -> str:
        return " ".join(letters)


_ZH_SCALE_FACTORS = {"万": 10**4, "亿": 10**8}
_EN_SCALE_FACTORS = {
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
    "ten thousand": 10**4,
    "hundred million": 10**8,
}

Reader = EnglishReader | ChineseReader
EN = EnglishReader()
ZH = ChineseReader()
