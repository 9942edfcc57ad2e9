"""How the offline writer's borrowed words read inside its own sentences.

* :class:`Casing`: what the document says about a word's capital.  A heading or a sentence's
  first word is lower-cased inside a sentence ("…about missions that flew?") only when it is a
  common word: the document writes it in lower case elsewhere, or it is on a short list of
  common English words; names (IKAROS, LightSail, a word capitalised mid-sentence) keep theirs.
* :func:`split_title`: a title's topic and subtitle (split at its colon), so no colon is read
  inside a sentence.
* :func:`heading_kind`, :func:`definition_subject`, :func:`quantity`: what kind of question a
  heading or a sentence allows.
* :func:`opens_with_connective`, :func:`follows_cause`: which connectives a sentence can take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .extract import capitalised_names

__all__ = [
    "Casing",
    "definition_subject",
    "follows_cause",
    "heading_kind",
    "opens_with_connective",
    "quantity",
    "split_title",
]

# Common English words that may start a sentence or a heading; lower case is safe for them.
COMMON = frozenset(
    """a an the this that these those it its in on at for from with by as after before during when while if so
    but and or what why how who where which there here some many most each every one two three four five six
    seven eight nine ten other another such our their his her we they you i'm over under into about because since
    although though yet still then now today later earlier once first second third last next new old modern early
    future past present more less few several all both either neither no not only even also most much very
    just soon often sometimes never always back up down out off like unlike across along around between
    through without within behind beyond above below near far long short large small big little great high
    low good bad best better worse worst hard easy simple real true common light heavy other different same
    folding building making using getting keeping finding missions mission origins origin history summary
    introduction overview background conclusion conclusions results result methods method discussion
    beginnings beginning idea ideas kinds kind types type parts part steps step how why what people time
    years year world life work way things thing""".split()
)
_GENERIC_HEADINGS = frozenset(
    "introduction overview background summary conclusion conclusions abstract preface foreword "
    "引言 概述 背景 总结 结语 前言".split()
)
_NOT_GERUNDS = frozenset("something nothing everything anything morning evening during".split())
_WH = ("how ", "why ", "what ", "when ", "where ", "who ", "which ")
_EN_CONNECTIVES = re.compile(
    r"^(?:and|but|so|also|yet|still|however|therefore|thus|instead|meanwhile|moreover|furthermore|besides|"
    r"then|finally|first|second|third|in fact|for example|for instance|in short|as a result|on the other hand|"
    r"similarly|likewise|of course|indeed|today|now|later|in the \w+ century|over \w+)\b",
    re.I,
)
_ZH_CONNECTIVES = re.compile(
    r"^(?:但是|但|不过|然而|而且|并且|所以|因此|于是|另外|此外|同时|与此同时|后来|最初|起初|如今|现在|今天|首先|其次|最后|总之|比如|例如|其实|当然)"
)
_ZH_LEAD = re.compile(r"^[^，。！？；]{1,8}，")  # a short lead phrase such as 十七世纪，
# A short adverbial lead ("In the twentieth century, …", "Over weeks and months, …").
_EN_LEAD = re.compile(
    r"^(?:in|on|at|by|for|from|after|before|during|over|under|until|when|while|if|although|though|as|with|"
    r"without|despite|unlike|like|eventually|ultimately|overall|initially|originally|recently|traditionally|"
    r"historically|here|there)\b(?: \S+){0,5}, ",
    re.I,
)
_CAUSE = {"en": re.compile(r"\b(?:because|due to)\b", re.I), "zh": re.compile(r"因为|由于")}
_RESULT = {"en": re.compile(r"\b(?:so|therefore|thus|as a result)\b", re.I), "zh": re.compile(r"所以|因此|因而|于是")}
_DEFINITION = re.compile(r"^((?:A|An|The) )?([a-z][a-z-]*(?: [a-z][a-z-]*){0,2}) (is|are) (?:a|an|the|one) ")
_QUANTITY = re.compile(
    r"\b(?:(?:about|more than|less than|nearly|almost|over|only|just|some) )?(?:a|an|\d[\d,.]*|one|two|three|four|"
    r"five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|a hundred|a thousand|a few|a fifth|a third|a quarter|"
    r"half) (?:[a-z]+ )?(?:percent|times|years|months|weeks|days|hours|minutes|seconds|metres|meters|kilometres|"
    r"kilometers|miles|kilograms|kilogram|grams|tonnes|tons|micrometres|millimetres|degrees|people|"
    r"metre|meter|mile|year)\b(?: (?:across|long|wide|high|thick|old))?"
)
_ZH_QUANTITY = re.compile(r"(?:数|几)?[一二三四五六七八九十百千万亿\d]+(?:多)?(?:年|亿人|万人|人|米|公里|种|倍|天|个月)")


@dataclass(frozen=True, slots=True)
class Casing:
    """Case evidence from one document (English; other languages pass text through)."""

    lower: frozenset[str]
    names: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Casing:
        words = re.findall(r"[A-Za-z][A-Za-z'’-]*", text)
        return cls(frozenset(w for w in words if w.islower()), capitalised_names(text))

    def _common(self, word: str) -> bool | None:
        """True: lower case is right; False: a name; None: the document does not say."""
        bare = word.removesuffix("'s").removesuffix("’s")
        if len(bare) > 1 and any(c.isupper() for c in bare[1:]) or any(c.isdigit() for c in bare) or bare == "I":
            return False
        low = bare.lower()
        if low in self.lower or low.rstrip("s") in self.lower or f"{low}s" in self.lower:
            return True
        if bare in self.names:
            return False
        return True if low in COMMON else None

    def inline(self, phrase: str) -> str:
        """``phrase`` (a heading or subtitle) as written inside a sentence: its capitalised
        words lower-cased unless they are names; a word the document does not know is
        lower-cased too, unless it is a possessive ("Japan's")."""
        words = phrase.split()
        for i, word in enumerate(words):
            verdict = self._common(word) if word[:1].isupper() else False
            if verdict or (verdict is None and not word.endswith(("'s", "’s"))):
                words[i] = word[0].lower() + word[1:]
        return " ".join(words)

    def after_connective(self, sentence: str) -> str | None:
        """``sentence`` ready to follow a connective ("And …"): its first word lower-cased
        when it is a common word, kept when it is a name or not capitalised; ``None`` when
        the document cannot tell (then the connective must stand as its own phrase)."""
        first, _, rest = sentence.partition(" ")
        if not first[:1].isupper():
            return sentence
        verdict = self._common(first.strip("\"'“‘("))
        if verdict is None:
            return None
        return (first[0].lower() + first[1:] if verdict else first) + (f" {rest}" if rest else "")


def split_title(title: str) -> tuple[str, str]:
    """``("Sailing on Sunlight", "How Solar Sails Work")`` from the title with a colon (or a
    full-width colon, or a dash between spaces); ``(title, "")`` without one."""
    for mark in (":", "：", " — ", " – ", " - "):
        head, found, tail = title.partition(mark)
        if found and head.strip() and tail.strip():
            return head.strip(), tail.strip()
    return title.strip(), ""


def heading_kind(heading: str, language: str) -> str:
    """``question`` (ends with ?), ``wh`` (how/why/what …), ``gerund`` (Building a sail),
    ``generic`` (Introduction, Summary…), ``noun`` otherwise, ``none`` for no heading."""
    text = heading.strip()
    if not text:
        return "none"
    if text.endswith(("?", "？")):
        return "question"
    if text.lower().rstrip(".") in _GENERIC_HEADINGS:
        return "generic"
    if language == "zh":
        return "noun"
    first = text.split()[0].lower()
    if text.lower().startswith(_WH):
        return "wh"
    if first.endswith("ing") and len(first) > 5 and first not in _NOT_GERUNDS:
        return "gerund"
    return "noun"


def definition_subject(sentence: str) -> tuple[str, str]:
    """``("a solar sail", "is")`` when ``sentence`` defines something ("A solar sail is a …")."""
    match = _DEFINITION.match(sentence)
    if not match:
        return "", ""
    article = (match.group(1) or "").lower()
    return f"{article}{match.group(2)}", match.group(3)


def quantity(text: str, language: str) -> str:
    """The first quantity ``text`` states ("less than a kilogram", "数十亿人"), or ``""``."""
    match = (_ZH_QUANTITY if language == "zh" else _QUANTITY).search(text)
    return match.group(0) if match else ""


def opens_with_connective(sentence: str, language: str) -> bool:
    """Whether ``sentence`` starts with its own connective or a short lead phrase ("In 2019,"
    or 十七世纪，): another connective in front would stack up."""
    if language == "zh":
        return bool(_ZH_CONNECTIVES.match(sentence) or _ZH_LEAD.match(sentence))
    return bool(_EN_CONNECTIVES.match(sentence) or _EN_LEAD.match(sentence))


def follows_cause(previous: str, sentence: str, language: str) -> bool:
    """Whether ``sentence`` may take a result connective (所以, "That's why"): the sentence
    just before it in the source gives a cause and it does not say its own result word."""
    cause, result = _CAUSE.get(language, _CAUSE["en"]), _RESULT.get(language, _RESULT["en"])
    return bool(previous and cause.search(previous) and not result.search(sentence[:12]))

