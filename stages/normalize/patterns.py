"""The verbalizer's token grammar: one master pattern and its gate, compiled at import.

``MASTER`` lists every token kind as a named alternative (the first that matches at a
position wins).  ``GATE`` matches at every position where a ``MASTER`` match can start;
scanning with it first is ~10x faster, because ``MASTER``'s alternatives begin with
lookbehinds, which defeat the regex engine's quick rejection of impossible positions.
(Its word alternative starts only where a word starts: every ``MASTER`` token that begins
with a letter does, or lies inside a run the gate scans from its start.)
"""

from __future__ import annotations

import re

from .tables import (
    ABBREVIATIONS,
    BARE_CURRENCY_WORDS,
    CURRENCY_SIGNS,
    CURRENCY_WORDS,
    FILE_EXTENSIONS,
    PER_UNITS,
    RATE_UNITS,
    SCALES,
    TOP_LEVEL_DOMAINS,
    UNITS,
)

__all__ = ["GATE", "MASTER"]

def _alt(words: object) -> str:
    """Regex alternation of ``words``, longest first so ``km`` wins over ``k``."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[arg-type]


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)"
_UNIT_SPACED = _alt([*(u for u in UNITS if len(u) > 1 and u[0] != "°"), *RATE_UNITS])
_UNIT_TIGHT = _alt(u for u in UNITS if len(u) == 1 or u[0] == "°")
_PER = "/(?:" + _alt(PER_UNITS) + ")"
# A unit, maybe a rate (km/s, m/s, GB/s); a one-letter unit needs no space only as a rate.
_UNIT = rf"\s?(?:{_UNIT_SPACED})(?:{_PER})?|\s?(?:{_UNIT_TIGHT}){_PER}|(?:{_UNIT_TIGHT})"
_SCALE_EN = _alt(s for s in SCALES if s.isascii())
_SIGN = _alt(s for s in CURRENCY_SIGNS if not s.isalpha())
_CODE = _alt(s for s in CURRENCY_SIGNS if s.isalpha())
_CURRENCY_WORD = _alt(CURRENCY_WORDS)
_BARE_CURRENCY_WORD = _alt(BARE_CURRENCY_WORDS)
_ABBREV = _alt(ABBREVIATIONS)
_L, _R = r"(?<![A-Za-z\d])", r"(?![A-Za-z\d])"


_RUN = r"(?:[A-Za-z]++|\d++(?:\.\d++)?)"
# A name made of Latin letters and digits (GPT-4o, Qwen2.5-7B, COVID-19, H200, 5G, MP3s):
# runs of letters and of digits, maybe joined by hyphens, with at least one of each.
# Possessive quantifiers: a run is never split, so a failed match costs one pass.
_NAME = (
    rf"{_L}(?=(?:[A-Za-z]++-?)*+\d)(?=(?:\d++(?:\.\d++)?-?)*+[A-Za-z]){_RUN}(?:-?{_RUN})*+{_R}"
)
# A name written in CamelCase (LightSail, PowerPoint, GitHub): capitalised parts of three or
# more letters each, read as separate words; McDonald, iPhone and LaTeX do not match.
_CAMEL = r"[A-Z][a-z]{2,}(?:[A-Z][a-z]{2,})+"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)+"

MASTER = re.compile(
    rf"""
    (?P<email>[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)
  | (?P<url>(?:https?://|www\.)[A-Za-z0-9\-._~/?#@!$&'*+,;=%:]+
      | (?<![A-Za-z0-9_@.\-/]){_HOST}(?:{_alt(TOP_LEVEL_DOMAINS)})(?![A-Za-z0-9])
        (?:/[A-Za-z0-9\-._~/?#@!$&'*+=%:]*)?)
  | (?P<file>(?<![A-Za-z0-9_@.\-/])(?=[A-Za-z0-9_-]*+\.[A-Za-z])(?P<fname>[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)
      \.(?P<fext>{_alt(FILE_EXTENSIONS)}|{_alt(e.upper() for e in FILE_EXTENSIONS)})(?![A-Za-z0-9]))
  | (?P<iso>(?<![\d.])(?P<iy>\d{{4}})(?P<isep>[-/.])(?P<im>\d{{1,2}})(?P=isep)(?P<id>\d{{1,2}})(?![\d]))
  | (?P<mdy>(?<![\d.])(?P<um>\d{{1,2}})/(?P<ud>\d{{1,2}})/(?P<uy>\d{{4}})(?!\d))
  | (?P<mdate>{_L}(?P<mm>{_MONTH})\.?\s(?P<md>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s(?P<my>\d{{4}}))?{_R})
  | (?P<dmonth>{_L}(?P<dd>\d{{1,2}})(?:st|nd|rd|th)?\s(?P<dm>{_MONTH})\.?(?:,?\s(?P<dy>\d{{4}}))?{_R})
  | (?P<time>(?<![\d:.])(?P<th>[01]?\d|2[0-3])[:：](?P<tm>[0-5]\d)(?:[:：](?P<ts>[0-5]\d))?(?![\d:])
      (?:\s?(?P<tap>[AaPp])\.?[Mm]{_R}\.?)?)
  | (?P<clock>(?<![\d.]){_L}(?P<ch>1[0-2]|0?[1-9])\s?(?P<cap>[AaPp])\.?[Mm]{_R}\.?)
  | (?P<money>(?=[-$€£¥￥₹₩A-Z])(?P<mneg>(?<![A-Za-z\d])-)?(?P<cur>{_SIGN}|{_L}(?:{_CODE})(?=\s?-?\d))
      \s?(?P<mneg2>-)?(?P<mamt>{_NUM})(?:\s?[-–—~～]\s?(?:{_SIGN})?(?P<mto>{_NUM}))?
      (?:\s?(?P<mscale>{_SCALE_EN})(?![A-Za-z])|(?P<mzscale>万|亿))?
      (?:\s?(?P<mword>{_CURRENCY_WORD})(?![A-Za-z]))?(?:(?P<mper>{_PER})(?![A-Za-z]))?)
  | (?P<phone>(?<![\w+])(?:\+\d{{1,3}}[\s-]?)?(?:\(\d{{3}}\)\s?|\d{{3}}[-.\s])\d{{3}}[-.\s]\d{{4}}(?!\d)
      | (?<!\d)1[3-9]\d{{9}}(?!\d))
  | (?P<range>(?<![\d.,])(?P<r1>{_NUM})(?P<rp1>\s?%)?\s?(?P<rdash>[-–—~～])\s?(?P<r2>{_NUM})(?!\.?\d)(?P<rp2>\s?%)?
      (?:(?P<runit>{_UNIT})(?![A-Za-z])|\s?(?P<rword>{_BARE_CURRENCY_WORD})(?![A-Za-z]))?)
  | (?P<pct>(?P<pneg>(?<![A-Za-z\d])-)?(?<![\d.,])(?P<pnum>{_NUM})\s?%)
  | (?P<decade>(?<![\d.])(?P<dec>(?:1\d|20)\d0|'?[1-9]0)s{_R})
  | (?P<ord>(?<![\d.]){_L}(?P<on>\d+)(?:st|nd|rd|th){_R})
  | (?P<frac>(?<![\d/.])(?P<fa>\d{{1,3}})/(?P<fb>\d{{1,3}})(?![\d/]))
  | (?P<ratio>(?<![\d:.])(?P<ra>\d+)[:：](?P<rb>\d+)(?![\d:]))
  | (?P<version>{_L}[vV](?P<ver>\d+(?:\.\d+)+){_R}|(?<![\d.])(?P<dots>\d+(?:\.\d+){{2,}})(?!\.?\d))
  | (?P<num>(?P<neg>(?<![A-Za-z\d-])-)?(?<![A-Za-z\d.,])(?P<n>{_NUM})
      (?:(?P<unit>{_UNIT})(?![A-Za-z])|(?P<scale>[kKMB]|\s?(?:thousand|million|billion|trillion|bn|mn))(?![A-Za-z]))?
      (?:(?P<nzscale>万|亿)?\s?(?P<nword>{_BARE_CURRENCY_WORD})(?![A-Za-z])(?:(?P<nper>{_PER})(?![A-Za-z]))?)?
      (?![A-Za-z\d]))
  | (?P<name>{_NAME})
  | (?P<dotted>{_L}(?:[A-Z]\.){{2,}}(?![A-Za-z]))
  | (?P<abbr>{_L}(?P<ab>{_ABBREV}|e\.g|i\.e|a\.k\.a)\.)
  | (?P<acro>{_L}(?P<ac>[A-Z]{{2,10}})(?P<acs>s|'s)?{_R})
  | (?P<camel>{_L}{_CAMEL}(?:'s)?{_R})
  | (?P<sym>(?<=[\s\d])[&+=×<>](?=[\s\d])|&|\#(?=\d))
    """,
    re.VERBOSE,
)
GATE = re.compile(
    r"[0-9$€£¥￥₹₩+#&=×<>@%'(\-]|(?:e\.g|i\.e|a\.k\.a)\."
    rf"|(?:{_ABBREV})\.|{_MONTH}|[A-Z][A-Z.]|US\$|{_CAMEL}"
    r"|(?<![A-Za-z\d])[A-Za-z][A-Za-z0-9._%+-]*(?:@|\d|\.[A-Za-z]{2}|://)"
)
