"""Upper-case words: said as a word (NASA, IKAROS) or spelled letter by letter (FBI, NHK).

One rule for every turn and both languages, so the same word is always read the same way:

1. the user lexicon comes first (it replaces its terms before the verbalizer runs);
2. :data:`~.tables.INITIALISMS` are spelled and :data:`~.tables.WORD_ACRONYMS` said as
   words, whatever the rule below would say;
3. two- and three-letter words are spelled (AI, CEO, RTX), except the short English words
   of :data:`~.tables.COMMON_WORDS` (``This is NOT a drill``) and, in a turn written in
   capitals, any three-letter word that is pronounceable (``WE HAD FUN``);
4. longer words are said as words when they are pronounceable: every vowel group has at
   most two letters and is not ``AA``, ``II`` or ``UU`` (``Y`` counts as a vowel unless a
   vowel follows it), and the consonants around them form an English onset, coda or
   coda+onset (``IKAROS``, ``UNESCO``, ``JAXA``, ``CERN``); otherwise they are spelled
   (``HTTP``, ``ESPN``, ``IEEE``, ``OECD``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .tables import COMMON_WORDS, CONSONANTS, ENGLISH_CODAS, ENGLISH_ONSETS, INITIALISMS, WORD_ACRONYMS

__all__ = ["pronounceable", "spelled"]

_ONSETS = ENGLISH_ONSETS | {"", *CONSONANTS}
_CODAS = ENGLISH_CODAS | {"", *CONSONANTS}
_RUNS = re.compile(r"[AEIOU]+|[^AEIOU]+")
_DOUBLED = re.compile(r"(?<=.)([^AEIOU])\1")  # a doubled consonant is one sound (not first)
_ODD_VOWELS = frozenset({"AA", "II", "UU"})  # NCAA, WWII: letters, not a vowel sound


def _vowel_marked(word: str) -> str:
    """``word`` with each vowel-like ``Y`` written as ``I`` (``GYM`` → ``GIM``)."""
    chars = list(word)
    for i, c in enumerate(chars):
        if c == "Y" and i and (i + 1 == len(chars) or chars[i + 1] not in "AEIOU"):
            chars[i] = "I"
    return "".join(chars)


def _medial(cluster: str) -> bool:
    return any(cluster[:i] in _CODAS and cluster[i:] in _ONSETS for i in range(len(cluster) + 1))


@lru_cache(maxsize=4096)
def pronounceable(word: str) -> bool:
    """Whether upper-case ``word`` reads as an English-like word (IKAROS yes, HTTP no)."""
    runs = _RUNS.findall(_DOUBLED.sub(r"\1", _vowel_marked(word.upper())))
    vowels = [r for r in runs if r[0] in "AEIOU"]
    if not vowels or any(len(v) > 2 or v in _ODD_VOWELS for v in vowels):
        return False
    consonants = [(i, r) for i, r in enumerate(runs) if r[0] not in "AEIOU"]
    for i, run in consonants:
        if i == 0:
            ok = run in _ONSETS
        elif i == len(runs) - 1:
            ok = run in _CODAS
        else:
            ok = _medial(run)
        if not ok:
            return False
    return True


def spelled(word: str, shouting: bool = False) -> bool:
    """Whether upper-case ``word`` is read letter by letter (rules in the module docstring).

    ``shouting``: the turn is written in capitals, so short words are more likely words.
    """
    if word in WORD_ACRONYMS:
        return False
    if word in INITIALISMS:
        return not (shouting and word in COMMON_WORDS)
    if word in COMMON_WORDS:
        return False
    if len(word) <= 2:
        return True
    if len(word) == 3 and not shouting:
        return True
    return not pronounceable(word)
