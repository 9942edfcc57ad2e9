"""Extractive helpers for the offline writer: sentences, terms, key phrases and centrality.

* :func:`split_sentences` splits at sentence ends but not after abbreviations (``Dr.``,
  ``e.g.``, ``U.S.``), inside decimals (``3.5``) or after an ellipsis followed by lower case,
  keeps closing quotes with their sentence, splits Chinese at 。！？；, and repairs sentences
  glued without a space (``propellant.The idea`` is two sentences).
* :func:`key_sentences_within` picks a section's sentences within a length budget (a TF-style
  score with a bonus for early position).
* :func:`central_sentences` ranks sentences by TextRank over TF-IDF vectors (cosine
  similarity to the nearest neighbours, damping 0.85): the summary's sentences.
* :func:`key_phrases` ranks a text's noun-ish phrases (names, and the words that follow a
  determiner) by TF-IDF against the other sections: the terms the host asks about.

Everything is deterministic: ties break by position.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence

__all__ = [
    "central_sentences",
    "key_phrases",
    "key_sentences_within",
    "paragraphs",
    "split_sentences",
    "terms",
]

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_STOP = frozenset(
    "a an and are as at be been but by can could did do does for from had has have he her his how i if in into "
    "is it its just more most no not of on one or our out over so some such than that the their them then there "
    "these they this those to too up us very was we were what when where which while who will with would you "
    "your also about after all any because before between both each few many may might much must only other "
    "same should through under until itself own even still yet like well being".split()
)
# Words after which a period does not end a sentence (lower-cased, without the period).
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt vs etc cf al fig figs eq no nos vol pp approx ca inc ltd co corp dept est gen "
    "col lt sgt capt rev gov sen rep jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# Sentence starters after which an initialism ("the U.S. The next…") did end the sentence.
_STARTERS = frozenset("the a an it this that these those in on at after before but and so we they he she i".split())
# A sentence end followed directly by the next sentence's capitalised word: a lost space.
_GLUED = re.compile(r"(?<=[a-z\d)\]%])([.!?]+[\"'’”)]*)(?=[A-Z][a-z]|[A-Z]{2,}\b)")
_EN_END = re.compile(r"(?:\.{3}|…|[.!?])+[\"'’”)\]]*\s+(?=[\"'‘“(\[]?[A-Z0-9])")
_ZH_END = re.compile(r"[。！？!?；;]+[”’」』）)]*")
_PARAGRAPH = re.compile(r"\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)]) )")
_LIST_MARK = re.compile(r"^(?:[-*•]|\d+[.)]) +")
MIN_CHARS = {"en": 30, "zh": 10}
MAX_CHARS = {"en": 320, "zh": 120}
DAMPING = 0.85
ITERATIONS = 60
GRAPH_LIMIT = 300
NEIGHBOURS = 24


def paragraphs(text: str) -> list[str]:
    """``text``'s paragraphs (blank lines and list items separate them), whitespace folded."""
    folded = (_LIST_MARK.sub("", " ".join(p.split())) for p in _PARAGRAPH.split(text))
    return [p for p in folded if p]


def split_sentences(text: str, language: str) -> list[str]:
    """``text``'s sentences, paragraph by paragraph (see the module docstring)."""
    sentences: list[str] = []
    for paragraph in paragraphs(text):
        paragraph = _GLUED.sub(r"\1 ", paragraph)
        pieces = _split_zh(paragraph) if language == "zh" else _split_en(paragraph)
        sentences += [p.strip() for p in pieces if p.strip()]
    return sentences


def _split_zh(paragraph: str) -> list[str]:
    pieces, start = [], 0
    for match in _ZH_END.finditer(paragraph):
        pieces.append(paragraph[start : match.end()])
        start = match.end()
    return [*pieces, paragraph[start:]]


def _split_en(paragraph: str) -> list[str]:
    pieces, start = [], 0
    for match in _EN_END.finditer(paragraph):
        if _ends_sentence(paragraph[start : match.start() + 1], paragraph[match.end() :]):
            pieces.append(paragraph[start : match.end()])
            start = match.end()
    return [*pieces, paragraph[start:]]


def _ends_sentence(before: str, after: str) -> bool:
    """Whether the period at the end of ``before`` ends a sentence (``after`` follows it)."""
    if not before.endswith("."):
        return True  # ! ? …
    last = before.rsplit(None, 1)[-1].lstrip("\"'‘“([").rstrip(".")
    if last.lower() in _ABBREVIATIONS:
        return False
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?", last + "."):  # e.g. / i.e. / U.S. / J.
        if last.islower() or len(last) == 1:  # e.g., i.e., a.m.: mid-sentence; "J." an initial
            return False
        return after.split(None, 1)[0].lower() in _STARTERS if after.split() else True
    return True


def terms(sentence: str, language: str) -> list[str]:
    """Content terms: lower-cased words less stop words, plurals folded (en); Han bigrams (zh)."""
    if language == "zh":
        han = _HAN.findall(sentence)
        return ["".join(pair) for pair in zip(han, han[1:], strict=False)]
    return [_stem(w) for w in (m.lower() for m in _WORD.findall(sentence)) if w not in _STOP and len(w) > 1]


def _stem(word: str) -> str:
    word = word.removesuffix("'s").removesuffix("’s")
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


# ── picking a section's sentences ───────────────────────────────────────────────


def _score(sentence: str, position: int, freq: Counter[str], language: str) -> float:
    found = terms(sentence, language)
    if not found:
        return 0.0
    base = sum(freq[t] for t in found) / len(found)
    if not MIN_CHARS[language] <= len(sentence) <= MAX_CHARS[language]:
        base *= 0.4
    return base * (1.0 + 0.5 / (1 + position))


def key_sentences_within(
    sentences: Sequence[str],
    budget: int,
    language: str,
    measure: Callable[[str], int],
    context: Counter[str] | None = None,
) -> list[int]:
    """Indices (in order) of the best sentences whose total ``measure`` stays within
    ``budget``; always at least one."""
    freq = Counter(t for s in sentences for t in terms(s, language))
    if context:
        freq.update({k: v // 2 for k, v in context.items()})
    order = sorted(range(len(sentences)), key=lambda i: (-_score(sentences[i], i, freq, language), i))
    chosen: set[int] = set()
    used = 0
    for index in order:
        size = measure(sentences[index])
        if chosen and used + size > budget:
            continue
        chosen.add(index)
        used += size
    return sorted(chosen)


# ── centrality (the summary) ────────────────────────────────────────────────────


def _vectors(sentences: Sequence[str], language: str) -> list[dict[str, float]]:
    counts = [Counter(terms(s, language)) for s in sentences]
    df = Counter(t for c in counts for t in c)
    n = len(sentences)
    vectors = []
    for c in counts:
        v = {t: k * math.log(1 + n / df[t]) for t, k in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({t: x / norm for t, x in v.items()})
    return vectors


def _similarities(vectors: Sequence[dict[str, float]]) -> list[dict[int, float]]:
    """Each sentence's cosine similarity to every other one it shares a term with (sparse,
    through an inverted index)."""
    postings: dict[str, list[tuple[int, float]]] = {}
    for index, vector in enumerate(vectors):
        for term, weight in vector.items():
            postings.setdefault(term, []).append((index, weight))
    similar: list[dict[int, float]] = [{} for _ in vectors]
    for index, vector in enumerate(vectors):
        row = similar[index]
        for term, weight in vector.items():
            for other, other_weight in postings[term]:
                if other != index:
                    row[other] = row.get(other, 0.0) + weight * other_weight
    return similar


def centrality(sentences: Sequence[str], language: str) -> list[float]:
    """TextRank score of each sentence: PageRank over the graph that links each sentence to
    its ``NEIGHBOURS`` most similar ones (TF-IDF cosine similarity as weights)."""
    similar = _similarities(_vectors(sentences, language))
    incoming: list[list[tuple[int, float]]] = [[] for _ in similar]
    for source, row in enumerate(similar):
        nearest = sorted(row.items(), key=lambda item: (-item[1], item[0]))[:NEIGHBOURS]
        total = sum(weight for _, weight in nearest)
        for target, weight in sorted(nearest):
            incoming[target].append((source, weight / total))
    scores = [1.0] * len(similar)
    for _ in range(ITERATIONS):
        previous = scores
        scores = [(1 - DAMPING) + DAMPING * sum(w * previous[j] for j, w in edges) for edges in incoming]
        if max((abs(a - b) for a, b in zip(scores, previous, strict=True)), default=0.0) < 1e-7:
            break
    return scores


def central_sentences(sentences: Sequence[str], count: int, language: str) -> list[int]:
    """Indices of the ``count`` most central sentences of usable length, most central first.
    A long document's graph is limited to the ``GRAPH_LIMIT`` sentences closest to the
    document's centroid (TextRank is quadratic)."""
    usable = [i for i, s in enumerate(sentences) if MIN_CHARS[language] <= len(s) <= MAX_CHARS[language]]
    usable = usable or list(range(len(sentences)))
    if len(usable) > GRAPH_LIMIT:
        vectors = _vectors([sentences[i] for i in usable], language)
        centroid: Counter[str] = Counter()
        for vector in vectors:
            centroid.update(vector)
        closeness = [sum(w * centroid[t] for t, w in v.items()) for v in vectors]
        best = sorted(range(len(usable)), key=lambda k: (-closeness[k], k))[:GRAPH_LIMIT]
        usable = [usable[k] for k in sorted(best)]
    scores = centrality([sentences[i] for i in usable], language)
    ranked = sorted(range(len(usable)), key=lambda k: (-scores[k], k))
    return [usable[k] for k in ranked[: max(0, count)]]


# ── key phrases (what the host asks about) ──────────────────────────────────────

_DETERMINERS = frozenset("a an the this these those its their our his her every each".split())
_NOT_NOUN = re.compile(r"(?:ly|ed|ing)$")
_EN_PHRASE_STOP = _STOP | frozenset(
    "same first last next new other way kind part lot thing things against within around across along among "
    "behind beyond during without toward towards upon onto off near via per whether".split()
)
_ZH_COMMON = frozenset(
    "人们 逐渐 不同 开始 已经 成为 一种 可以 常常 很快 后来 直接 一直 不仅 更多 最初 如今 因此 所以 但是 虽然 还是 以后 之后 "
    "传到 流行 各有 今天 时候 出现 进入 变成 方法 之一 一起 一样 起来 没有 不是 非常 可能 需要 通过".split()
)
_ZH_EDGE = frozenset("的了是在和与也都就把被从而又很更最这那其之以及或对为着过吗呢吧啊并所等个")
_TOKEN = re.compile(r"[A-Za-z0-9][\w'’./-]*[\w]|[A-Za-z0-9]|[^\sA-Za-z0-9]")


def _is_word(token: str) -> bool:
    """A plain word (letters, an apostrophe or hyphen, a possessive): not code or a path."""
    return bool(re.fullmatch(r"[A-Za-z]+(?:[-'’][A-Za-z]+)*", token))


def _is_name(word: str) -> bool:
    """ALL CAPS (IKAROS) or a capital inside (LightSail): a name wherever it stands."""
    return len(word) > 1 and word[0].isupper() and any(c.isupper() for c in word[1:])


def _en_candidates(text: str, pool: str, names: frozenset[str]) -> list[str]:
    """Noun-ish phrases of ``text`` in order of appearance: runs of capitalised words (a
    sentence's first word only when it is known as a name), split at possessives; a word
    after a determiner that is not always followed by another content word ("the film has",
    not "the tiny push"); two words after a determiner that ``pool`` says at least twice."""
    found: list[str] = []
    for sentence in split_sentences(text, "en"):
        words = _TOKEN.findall(sentence)
        run: list[str] = []
        for i, word in enumerate([*words, "."]):
            capital = (word[0].isupper() and _is_word(word)) or (run and word.isdigit() and len(word) < 4)
            if capital and (i or _is_name(word) or word.removesuffix("'s") in names) and word.lower() not in _STOP:
                run.append(word)
                if not word.endswith(("'s", "’s")):
                    continue
            if run:
                article = "the " if i > len(run) and words[i - len(run) - 1].lower() == "the" else ""
                found.append(article + " ".join(run).removesuffix("'s").removesuffix("’s"))
                run = []
        for i, word in enumerate(words[:-1]):
            if word.lower() in _DETERMINERS and _content(words[i + 1]):
                pair = f"{words[i + 1]} {words[i + 2]}" if i + 2 < len(words) and _content(words[i + 2]) else ""
                found.append(f"the {pair}" if pair and _count(pair, pool, "en") > 1 else f"the {words[i + 1]}")
    modifiers = _modifiers(pool)
    return [p for p in found if p.removeprefix("the ") not in modifiers]


def _content(word: str) -> bool:
    return word.isalpha() and word[0].islower() and word not in _EN_PHRASE_STOP and not _NOT_NOUN.search(word)


@functools.lru_cache(maxsize=4)  # the same document for each of its sections
def _modifiers(pool: str) -> frozenset[str]:
    """Words that, after a determiner, are always followed by another content word."""
    heads: set[str] = set()
    mods: set[str] = set()
    for sentence in split_sentences(pool, "en"):
        words = [*_TOKEN.findall(sentence), "."]
        for i, word in enumerate(words[:-2]):
            if word.lower() in _DETERMINERS and _content(words[i + 1]):
                follows = words[i + 2].isalpha() and words[i + 2][0].islower() and words[i + 2] not in _STOP
                (mods if follows else heads).add(words[i + 1])
    return frozenset(mods - heads)


@functools.lru_cache(maxsize=4)
def capitalised_names(text: str) -> frozenset[str]:
    """Words written with a capital somewhere other than a sentence's start (names)."""
    names = set()
    for sentence in split_sentences(text, "en"):
        for word in _TOKEN.findall(sentence)[1:]:
            if word[0].isupper():
                names.add(word.removesuffix("'s").removesuffix("’s"))
    return frozenset(names)


@functools.lru_cache(maxsize=4)
def _grams(pool: str) -> Counter[str]:
    grams: Counter[str] = Counter()
    for run in re.findall(r"[\u4e00-\u9fff]+", pool):
        for size in (2, 3, 4):
            grams.update(run[i : i + size] for i in range(len(run) - size + 1))
    return grams


def _zh_candidates(text: str, pool: str) -> list[str]:
    """Book titles (《茶经》) and Han strings of two to four characters that recur in ``pool``
    (the whole document) and occur in ``text``; only maximal ones (not inside a longer string
    that recurs as often)."""
    pooled = _grams(pool)
    found = {
        g: pooled[g]
        for g in _grams(text)
        if pooled[g] >= 2 and g[0] not in _ZH_EDGE and g[-1] not in _ZH_EDGE and g not in _ZH_COMMON
    }
    # A string is not maximal when one character more on either side recurs as often.
    covered = {sub for h, c in found.items() if len(h) > 2 for sub in (h[1:], h[:-1]) if found.get(sub, 0) <= c}
    maximal = [g for g in found if g not in covered]
    return re.findall(r"《[^》]{1,20}》", text) + sorted(maximal, key=text.find)


def _count(phrase: str, text: str, language: str) -> int:
    core = phrase.removeprefix("the ")
    if language == "zh":
        return text.count(core)
    return len(re.findall(rf"(?<![\w./-]){re.escape(core)}(?:e?s)?(?![\w/-])", text, flags=re.I))


def key_phrases(text: str, others: Sequence[str], language: str) -> list[str]:
    """``text``'s noun-ish phrases that it says at least twice (or book titles), most
    distinctive first: how often ``text`` says them times the inverse of how many of
    ``others`` (the other sections) do."""
    pool = "\n".join([text, *others])
    if language == "zh":
        found = _zh_candidates(text, pool)
    else:
        found = _en_candidates(text, pool, capitalised_names(pool))
    order = {p: i for i, p in reversed(list(enumerate(found)))}

    def weight(phrase: str) -> float:
        count = _count(phrase, text, language)
        seen = sum(_count(phrase, o, language) > 0 for o in others)
        long = len(phrase) > 3 if language == "zh" else " " in phrase.removeprefix("the ")
        return count * math.log(1 + (1 + len(others)) / (1 + seen)) * (1.3 if long else 1.0)

    kept = [p for p in order if _count(p, text, language) > 1 or p.startswith("《")]
    return sorted(kept, key=lambda p: (-weight(p), order[p]))
