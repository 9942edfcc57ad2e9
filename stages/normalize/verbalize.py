"""Spell out what a speech engine cannot read: numbers, money, dates, times, units, URLs,
e-mail addresses, abbreviations and acronyms, in English or Chinese.

One master regular expression (compiled at import) finds every token in a single pass;
a handler per token kind renders it with the reader of the token's *context*: the
turn's script when the turn is written in one script, otherwise the mix of Chinese
characters and Latin words around the token (so ``2021年`` in an English turn still becomes
``二零二一年`` and ``$5`` in an English clause of a Chinese turn becomes ``five dollars``).
Names made of Latin letters and digits are read the same way in both languages (see
``_name``): ``GPT-4o`` → ``G P T four o``, never ``G P T 四o``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .acronyms import spelled
from .patterns import GATE as _GATE
from .patterns import MASTER as _MASTER
from .readers import EN, ZH, Reader
from .tables import (
    ABBREVIATIONS,
    CLASSIFIERS,
    COMMON_WORDS,
    CURRENCY_SIGNS,
    CURRENCY_WORDS,
    INITIALISMS,
    MONTHS,
)

__all__ = ["fold_digits", "verbalize"]

# Full-width ASCII and common non-Latin decimal digits → ASCII, so one set of patterns works.
_FOLD = {0xFF10 + i: 0x30 + i for i in range(10)}
_FOLD.update({0xFF21 + i: 0x41 + i for i in range(26)})
_FOLD.update({0xFF41 + i: 0x61 + i for i in range(26)})
_FOLD.update({base + i: 0x30 + i for base in (0x0660, 0x06F0, 0x0966, 0x09E6) for i in range(10)})
_FOLD.update({0xFF05: 0x25, 0xFF04: 0x24, 0xFF0B: 0x2B, 0xFF1D: 0x3D})

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAS_CJK = re.compile(f"[{_CJK}]")
_HAS_LATIN = re.compile(r"[A-Za-z]")
_CJK_CHARS = re.compile(f"[{_CJK}]")
_LATIN_WORDS = re.compile(r"[A-Za-z]+")
_LATIN_LETTERS = re.compile(r"[A-Za-z]")
_WINDOW = 12


_SENTENCE_START = re.compile(r"\s+[A-Z\"“]|\s*$")
_CAPITALISED_NEXT = re.compile(r"\s+[A-Z]")
_DIGIT_CUE = re.compile(
    r"(?:\b(?:code|number|no|id|pin|room|flight|zip|model|phone|tel)|#)\s*$", re.IGNORECASE
)
_YEAR_CUE = re.compile(
    r"\b(?:in|since|by|from|until|till|during|of|year|years|early|late|mid|around|before|after|circa|c|fall|spring|summer|winter)\s+$",
    re.IGNORECASE,
)
_COUNT_NEXT = re.compile(
    r"\s+(?:people|persons|users|employees|students|items|units|words|times|copies|pages|votes|"
    r"cars|dollars|euros|yuan|miles|meters|kilometers|points|tokens|parameters|samples|files|lines|"
    r"customers|members|jobs|stars|steps|rows|images|hours|minutes|seconds|days|weeks|months|"
    r"calories|troops|soldiers|cases|deaths|votes|homes|sites|servers|GPUs)\b"
)
_ZH_YEAR_BLOCK = re.compile(r"年(?:代|前|后|來|来|内|间|里|左右|多|半|以|了|的时间)")
_LEFTOVER_DIGITS = re.compile(r"\d+")
# dot, at, dash, underscore
_WEB_WORDS = {False: (" dot ", " at ", " dash ", " underscore "), True: ("点", "艾特", "杠", "下划线")}
_HOST_END = re.compile(r"[/?#:]")
_WEB_RUNS = re.compile(r"\d+|[A-Za-z]+")
_CAPS_WORD = re.compile(r"(?<![A-Za-z])[A-Z]{2,3}(?![A-Za-z])")
_CAMEL_JOINT = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NAME_RUNS = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?")
# A number after a Latin word and a space is part of a name (iPhone 15, RTX 4090) ...
_LATIN_WORD_BEFORE = re.compile(r"[A-Za-z][A-Za-z\d]*[ ]$")
# ... unless a Chinese measure word or scale follows it (GPU 8个, GPU 5万).
_COUNTED = CLASSIFIERS | frozenset("月日号元万亿")
_VERSION_WORD_BEFORE = re.compile(r"\bversion\s$", re.IGNORECASE)
_MAY_END_SENTENCE = frozenset(
    {"et cetera", "Incorporated", "Limited", "Corporation", "Junior", "Senior", "Drive", "Street"}
)
_MODEL_BEFORE = re.compile(r"[A-Z][A-Za-z]*\s$")
_ROMAN = {"II": 2, "III": 3, "IV": 4, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "XI": 11, "XII": 12}
_SYMBOLS = {
    "&": (" and ", "和"),
    "+": (" plus ", "加"),
    "=": (" equals ", "等于"),
    "×": (" times ", "乘"),
    "<": (" less than ", "小于"),
    ">": (" greater than ", "大于"),
    "#": ("number ", ""),
}


_FOLDABLE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")


def fold_digits(text: str) -> str:
    """Full-width letters/digits/%$+= and Arabic-Indic/Devanagari/Bengali digits → ASCII."""
    return text.translate(_FOLD) if _FOLDABLE.search(text) else text


class _Turn:
    """Verbalizes one turn; holds the text and the context decision for its tokens."""

    __slots__ = ("_shouting", "default", "mixed", "text")

    def __init__(self, text: str, language: str) -> None:
        self.text = text
        has_cjk, has_latin = bool(_HAS_CJK.search(text)), bool(_HAS_LATIN.search(text))
        self.mixed = has_cjk and has_latin
        self.default: Reader = ZH if (has_cjk or (language == "zh" and not has_latin)) else EN
        self._shouting: bool | None = None

    def shouting(self) -> bool:
        """An upper-case turn ("THIS IS BIG NEWS") is emphasis, not a row of acronyms: most
        letters are capitals and some capital word is a short English word ("IS")."""
        if self._shouting is None:
            letters = _LATIN_LETTERS.findall(self.text)
            upper = sum(c.isupper() for c in letters)
            self._shouting = (
                len(letters) >= 8
                and upper > 0.7 * len(letters)
                and any(w in COMMON_WORDS for w in _CAPS_WORD.findall(self.text))
            )
        return self._shouting

    def reader(self, start: int, end: int) -> Reader:
        """Chinese or English, from the script around ``text[start:end]``."""
        if not self.mixed:
            return self.default
        if _CJK_CHARS.match(self.text[start - 1 : start] if start else "") or _CJK_CHARS.match(
            self.text[end : end + 1]
        ):
            return ZH  # a number glued to a Chinese character (3个, 第2) is read in Chinese
        around = self.text[max(0, start - _WINDOW) : start] + " " + self.text[end : end + _WINDOW]
        cjk = len(_CJK_CHARS.findall(around))
        latin = len(_LATIN_WORDS.findall(around))
        if cjk * 0.5 == latin:
            return self.default
        return ZH if cjk * 0.5 > latin else EN

    def run(self) -> str:
        text = self._scan()
        return _LEFTOVER_DIGITS.sub(
            lambda m: self.reader(m.start(), m.end()).number(m.group()), text
        )

    def _scan(self) -> str:
        """``_MASTER.sub(self._dispatch, text)``, trying ``_MASTER`` only at gate positions."""
        text, out, pos, last = self.text, [], 0, 0
        search, match = _GATE.search, _MASTER.match
        while (gate := search(text, pos)) is not None:
            start = gate.start()
            m = match(text, start)
            if m is None:
                pos = start + 1
                continue
            out += (text[last:start], self._dispatch(m))
            last = pos = m.end()
        out.append(text[last:])
        return "".join(out)

    def _dispatch(self, m: re.Match[str]) -> str:
        kind = m.lastgroup
        reader = self.reader(m.start(), m.end())
        if reader.zh and kind == "num" and self.names_number(m):
            reader = EN
        return _HANDLERS[kind](self, m, reader)  # type: ignore[index]

    def names_number(self, m: re.Match[str]) -> bool:
        """A plain number that is part of a Latin name (``iPhone 15``, ``RTX 4090``)."""
        start = m.start()
        return (
            self.text[start - 1 : start] == " "  # cheap test first: most numbers fail it
            and not (m["unit"] or m["scale"] or m["neg"] or m["nword"])
            and self.after(m, 1) not in _COUNTED
            and _LATIN_WORD_BEFORE.search(self.before(m)) is not None
        )

    # ── context helpers ─────────────────────────────────────────────────────
    def before(self, m: re.Match[str], size: int = 24) -> str:
        return self.text[max(0, m.start() - size) : m.start()]

    def after(self, m: re.Match[str], size: int = 24) -> str:
        return self.text[m.end() : m.end() + size]

    def keep_period(self, m: re.Match[str]) -> str:
        """A token that swallowed a sentence-final period gives it back."""
        if m.group().endswith(".") and _SENTENCE_START.match(self.after(m)):
            return "."
        return ""


Handler = Callable[[_Turn, "re.Match[str]", Reader], str]


def _email(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """``john.doe@example.org`` → ``john dot doe at example dot org`` (zh: 点, 艾特)."""
    user, _, host = m.group().partition("@")
    return _spell_parts(user, r) + _WEB_WORDS[r.zh][1] + _spell_parts(host, r)


def _url(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """The host only: scheme, ``www.``, port, path, query and fragment are not said
    (``https://www.example.org/a/b?x=1`` → ``example dot org``)."""
    raw = m.group()
    url = raw.rstrip(".,;:!?'\")")
    body = re.sub(r"^(?:https?://)?(?:[^/@]*@)?(?:www\.)?", "", url)
    host = _HOST_END.split(body, maxsplit=1)[0]
    return _spell_parts(host, r) + raw[len(url) :]


def _file(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """``report.pdf`` → ``report dot P D F``: the ending as an upper-case word would be read."""
    ext = m["fext"]
    if any(c.isdigit() for c in ext):
        spoken = _name_reading(ext.upper(), t)
    else:
        spoken = r.letters(ext.upper()) if spelled(ext.upper()) else ext
    return _spell_parts(m["fname"], r) + _WEB_WORDS[r.zh][0] + spoken


def _spell_parts(text: str, r: Reader) -> str:
    """``john.smith-2`` → ``john dot smith dash two``: words kept (upper-case ones by the
    acronym rule: ``BBC.co.uk`` → ``B B C dot co dot uk``), digits read one by one."""
    dot, _, dash, underscore = _WEB_WORDS[r.zh]
    pieces = []
    for piece in text.split("."):
        piece = _WEB_RUNS.sub(lambda d: " " + _web_run(d.group(), r) + " ", piece)
        piece = piece.replace("-", dash).replace("_", underscore)
        pieces.append(" ".join(piece.split()))
    return dot.join(pieces)


def _web_run(run: str, r: Reader) -> str:
    if run[0].isdigit():
        return r.digits(run)
    return r.letters(run) if len(run) > 1 and run.isupper() and spelled(run) else run


def _iso(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return _date(r, m["iy"], m["im"], m["id"]) or r.digits(m["iy"]) + " " + r.number(
        m["im"]
    ) + " " + r.number(m["id"])


def _mdy(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return _date(r, m["uy"], m["um"], m["ud"]) or r.fraction(m["um"], m["ud"]) + " " + r.year(
        m["uy"]
    )


def _date(r: Reader, year: str | None, month: str, day: str | None) -> str:
    mo, dd = int(month), int(day) if day else None
    if not 1 <= mo <= 12 or (dd is not None and not 1 <= dd <= 31):
        return ""
    return r.date(year, mo, dd)


def _month_index(name: str) -> int:
    return next(i for i, full in enumerate(MONTHS) if full.startswith(name[:3])) + 1


def _mdate(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.date(m["my"], _month_index(m["mm"]), int(m["md"]))


def _dmonth(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.date(m["dy"], _month_index(m["dm"]), int(m["dd"]))


def _time(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.time(m["th"], m["tm"], m["ts"], m["tap"]) + t.keep_period(m)


def _clock(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.time(m["ch"], "00", None, m["cap"]) + t.keep_period(m)


def _money(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """``¥1,250元``, ``$5 dollars``, ``-$30``, ``US$5/month``: the currency is said once.

    A word after the amount that names the sign's currency is the same thing written twice
    and is not said again; after ``¥`` a yen word makes it yen.  A word of another currency
    stays as written (``$5 euros`` → ``five dollars euros``)."""
    code, word, per = CURRENCY_SIGNS[m["cur"]], m["mword"], m["mper"]
    kept = ""
    if word:
        named = CURRENCY_WORDS[word]
        if named == code or (m["cur"] in "¥￥" and named == "JPY"):
            code = named
        else:
            start = m.start("mword") - m.string[m.start("mword") - 1].isspace()
            kept, per = m.string[start : m.end()], None
    negative = "-" if (m["mneg"] or m["mneg2"]) else ""
    scale = (m["mscale"] and m["mscale"].strip()) or m["mzscale"]
    return _say_money(r, code, negative + m["mamt"], m["mto"], scale, per) + kept


def _say_money(
    r: Reader, code: str, amount: str, to: str | None, scale: str | None, per: str | None
) -> str:
    """An amount or a range of money (``five to ten dollars``, ``五到十美元``), maybe a rate
    (``per`` is the ``/month`` after it)."""
    per = per and per[1:]
    if not to:
        return r.money(code, amount, scale, per)
    if r.zh:
        low = r.scaled(amount, scale) if scale else r.number(amount)
    elif scale or "." not in amount + to:
        low = r.number(amount)
    else:  # $3.50-$4.50: three dollars fifty to four dollars fifty
        low = r.money(code, amount, None)
    return r.per(low + r.range_word() + r.money(code, to, scale), per)


def _phone(t: _Turn, m: re.Match[str], r: Reader) -> str:
    raw = m.group()
    plus = "plus " if raw.startswith("+") and not r.zh else ""
    return plus + r.phone(re.findall(r"\d+", raw))


def _range(t: _Turn, m: re.Match[str], r: Reader) -> str:
    left, right = m["r1"], m["r2"]
    if m["rdash"] == "-" and not float(left.replace(",", "")) < float(right.replace(",", "")):
        return _read_number(t, m, r, left) + " " + _read_number(t, m, r, right)
    if m["rword"]:  # 5-10元, 5-10 USD
        return _say_money(r, CURRENCY_WORDS[m["rword"]], left, right, None, None)
    percent = bool(m["rp2"] or m["rp1"])
    if percent and r.zh:
        return r.percent(left) + r.range_word() + r.percent(right)
    words = _read_number(t, m, r, left) + r.range_word() + _read_number(t, m, r, right)
    if m["runit"]:
        return r.unit(right, words, m["runit"].strip())
    return words + (" percent" if percent else "")


def _read_number(t: _Turn, m: re.Match[str], r: Reader, number: str) -> str:
    """A range end: years stay years (1990-1995), everything else is a plain number."""
    if not r.zh and len(number) == 4 and number.isdigit() and 1100 <= int(number) <= 2099:
        return r.year(number)
    return r.number(number)


def _pct(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.percent(("-" if m["pneg"] else "") + m["pnum"])


def _decade(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.decade(m["dec"].lstrip("'"))


def _ordinal(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.ordinal(m["on"])


def _fraction(t: _Turn, m: re.Match[str], r: Reader) -> str:
    top, bottom = m["fa"], m["fb"]
    if top == bottom or (top, bottom) == ("24", "7"):
        return r.number(top) + ("" if r.zh else " ") + r.number(bottom)
    return r.fraction(top, bottom)


def _ratio(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.ratio(m["ra"], m["rb"])


def _version(t: _Turn, m: re.Match[str], r: Reader) -> str:
    parts = (m["ver"] or m["dots"]).split(".")
    joiner = "点" if r.zh else " point "
    head = ("V" if r.zh else "version ") if m["ver"] else ""
    if head and not r.zh and _VERSION_WORD_BEFORE.search(t.before(m, 9)):
        head = ""  # "version v2.1" is not "version version two point one"
    return head + joiner.join(r.number(p) for p in parts)


def _num(t: _Turn, m: re.Match[str], r: Reader) -> str:
    number = ("-" if m["neg"] else "") + m["n"]
    unit, scale, word = m["unit"], m["scale"], m["nword"]
    if word and not unit:  # 1,250元, 1.5万元, 100 USD
        scale = (scale and scale.strip()) or m["nzscale"]
        return _say_money(r, CURRENCY_WORDS[word], number, None, scale, m["nper"])
    if word:  # 5 m USD: a unit, then a word that is not said as money
        return _num_plain(t, m, r, number, unit, None) + m.string[m.end("unit") : m.end()]
    return _num_plain(t, m, r, number, unit, scale)


def _num_plain(
    t: _Turn, m: re.Match[str], r: Reader, number: str, unit: str | None, scale: str | None
) -> str:
    if scale:
        return r.scaled(number, scale.strip())
    spoken = _plain_number(t, m, r, number)
    return r.unit(number, spoken, unit.strip()) if unit else spoken


def _plain_number(t: _Turn, m: re.Match[str], r: Reader, number: str) -> str:
    digits = number.lstrip("-")
    if "," in digits or "." in digits:
        return r.number(number)
    if number[0] != "-" and (
        (len(digits) > 1 and digits[0] == "0")
        or len(digits) > 9
        or (len(digits) > 2 and _DIGIT_CUE.search(t.before(m)))
    ):
        return r.digits(digits)
    after = t.after(m, 4)
    if r.zh:
        return _zh_number(t, m, number, after)
    if len(digits) == 4 and number[0] != "-":
        if _looks_like_year(t, m, int(digits)):
            return r.year(digits)
        if _MODEL_BEFORE.search(t.before(m, 8)):
            return r.pair(digits)
    return r.number(number)


def _zh_number(t: _Turn, m: re.Match[str], number: str, after: str) -> str:
    digits = number.lstrip("-")
    if after.startswith("年") and not _ZH_YEAR_BLOCK.match(after):
        if len(digits) == 4 or (len(digits) == 2 and digits[0] >= "5"):
            return ZH.year(digits)
    if digits == "2" and after[:1] in CLASSIFIERS and not t.before(m, 1).endswith("第"):
        return "负两" if number[0] == "-" else "两"
    return ZH.number(number)


def _looks_like_year(t: _Turn, m: re.Match[str], value: int) -> bool:
    if not 1100 <= value <= 2099:
        return False
    if _YEAR_CUE.search(t.before(m)):
        return True
    return not _COUNT_NEXT.match(t.after(m))


def _name(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """A name of Latin letters and digits is read in English in both languages, so no
    Chinese numeral lands inside a Latin word: ``GPT-4o`` → ``G P T four o``, ``H200`` →
    ``H two hundred``, ``Qwen2.5-7B`` → ``Qwen two point five seven B``, ``COVID-19`` →
    ``COVID nineteen``, ``5G`` → ``five G``, ``MP3s`` → ``M P threes``."""
    return _name_reading(m.group(), t)


def _name_reading(token: str, t: _Turn) -> str:
    runs = _NAME_RUNS.findall(token)
    plural = len(runs) > 1 and runs[-1] == "s" and runs[-2][0].isdigit()
    if plural:
        runs.pop()
    pieces: list[str] = []
    for run in runs:
        pieces.append(_name_digits(run, bool(pieces)) if run[0].isdigit() else _name_letters(run, t))
    if plural:
        last = pieces[-1]
        pieces[-1] = last[:-1] + "ies" if last.endswith("y") else last + ("es" if last[-1] in "sx" else "s")
    return " ".join(pieces)


def _name_digits(run: str, after_letters: bool) -> str:
    """Digits in a name, in English: ``4090`` after letters in pairs (forty ninety), long or
    zero-led runs digit by digit, decimals with ``point``."""
    if "." in run:
        return EN.number(run)
    if len(run) > 4 or (len(run) > 1 and run[0] == "0"):
        return EN.digits(run)
    return EN.pair(run) if after_letters and len(run) == 4 else EN.number(run)


def _name_letters(run: str, t: _Turn) -> str:
    """Letters in a name: capitals by the acronym rule (``GPT`` spelled, ``COVID`` said),
    lower- and mixed-case words kept unless very short or a known initialism (``mp``)."""
    if run.isupper():
        return EN.letters(run) if spelled(run, t.shouting()) else run
    return EN.letters(run) if len(run) <= 2 or run.upper() in INITIALISMS else run


def _dotted(t: _Turn, m: re.Match[str], r: Reader) -> str:
    return r.letters(m.group().replace(".", "")) + t.keep_period(m)


def _abbr(t: _Turn, m: re.Match[str], r: Reader) -> str:
    key = m["ab"]
    nxt = t.after(m)
    if key in ("No", "no") and not re.match(r"\s?\d", nxt):
        return m.group()
    if key in ("e.g", "i.e", "a.k.a"):
        return {"e.g": "for example", "i.e": "that is", "a.k.a": "also known as"}[key]
    spoken = ABBREVIATIONS[key]
    if key in ("Dr", "St") and not _CAPITALISED_NEXT.match(nxt):
        spoken = "Drive" if key == "Dr" else "Street"
    return spoken + (t.keep_period(m) if spoken in _MAY_END_SENTENCE else "")


def _acronym(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """An upper-case word: said or spelled by one rule for every turn (see ``acronyms.py``);
    a plural or possessive ending stays (``GPUs`` → ``G P Us``, ``NASA's``)."""
    word, suffix = m["ac"], m["acs"] or ""
    if word in _ROMAN and not suffix and re.search(r"[A-Z][a-z]+\s$", t.before(m)):
        return r.number(str(_ROMAN[word]))
    if not spelled(word, t.shouting()):
        return m.group()
    return r.letters(word) + suffix


def _camel(t: _Turn, m: re.Match[str], r: Reader) -> str:
    """``LightSail`` → ``Light Sail``: a CamelCase name is said as its words, so the
    synthesizer's G2P sees words it knows."""
    return _CAMEL_JOINT.sub(" ", m.group())


def _symbol(t: _Turn, m: re.Match[str], r: Reader) -> str:
    en, zh = _SYMBOLS[m.group()]
    return zh if r.zh else en


_HANDLERS: dict[str, Handler] = {
    "email": _email,
    "url": _url,
    "file": _file,
    "iso": _iso,
    "mdy": _mdy,
    "mdate": _mdate,
    "dmonth": _dmonth,
    "time": _time,
    "clock": _clock,
    "money": _money,
    "phone": _phone,
    "range": _range,
    "pct": _pct,
    "decade": _decade,
    "ord": _ordinal,
    "frac": _fraction,
    "ratio": _ratio,
    "version": _version,
    "num": _num,
    "name": _name,
    "dotted": _dotted,
    "abbr": _abbr,
    "acro": _acronym,
    "camel": _camel,
    "sym": _symbol,
}


def verbalize(text: str, language: str) -> str:
    """Spell out numbers, symbols, abbreviations and acronyms of one turn (no speaker tags).

    ``language`` (``en`` or ``zh``) decides only where the text itself does not: a turn
    written in Chinese characters is read in Chinese, a Latin-only turn in English.
    """
    text = fold_digits(text)
    if not _GATE.search(text):
        return text
    return _Turn(text, language).run()
