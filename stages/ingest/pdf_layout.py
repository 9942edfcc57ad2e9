"""The structure of a PDF's text: lines with their font size and weight, running headers,
footers and page numbers, headings, and paragraphs that cross lines, columns and pages.

pypdf's text extraction reports every piece of text it emits, with its text matrix and font,
to a visitor; :func:`page_lines` turns those reports into :class:`Line` values, so the text
is pypdf's own (its reading order, its word spacing) and one pass over each page suffices.
:func:`layout` then works on lines alone:

- *furniture*: among the three top and three bottom lines of each page, those that repeat
  (digits ignored) on at least half the pages and at least three, and page numbers
  (``3``, ``Page 3``, ``3 / 11``, ``- 3 -``, ``iv``, ``第 3 页``), are dropped;
- *body style*: the font size that sets the most characters;
- *headings*: short lines without closing punctuation set noticeably larger than the body
  (x 1.15) or in bold where the body is not; consecutive lines of one such style form one
  heading.  Styles that recur split the document into sections (the largest first, smaller
  ones while there are at most :data:`MAX_SECTIONS`); the largest one-off heading on page 1
  is the title; other headings stay in the text as paragraphs of their own;
- *paragraphs*: a new one starts after a vertical gap, an indent or a short line that ends a
  sentence; across a page or column break a paragraph goes on unless it ended a sentence
  on a short line and the next line starts with a capital.  Words hyphenated at a line end are joined
  (the hyphen stays where the document also writes the word with one), CJK lines join
  without a space.
"""

from __future__ import annotations

import difflib
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .source import clean_text

__all__ = ["MAX_SECTIONS", "Layout", "Line", "layout", "page_lines"]

MAX_SECTIONS = 40
HEADING_SCALE = 1.15  # a heading is this much larger than the body text (or bold)
HEADING_MAX_WORDS = 20
HEADING_MAX_CHARS = 200
HEADING_MAX_LINES = 3
TITLE_WITHIN = 6  # the title is among the first lines of the first page
FUZZY = 0.85  # how alike two running headers must be to count as one
EDGE_LINES = 3  # lines at the top and at the bottom of a page that may be furniture
PARAGRAPH_GAP = 1.35  # a gap this many line pitches or more starts a paragraph
FULL_SAMPLE = 5  # lines of one size it takes to know how long a full one is
FULL_LINE = 0.9  # a line this long (of a full one) leaves its paragraph open at a break
SHORT_LINE = 0.7  # a line this much shorter than a full line that ends a sentence ends it

_CJK = (
    "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
)
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_SPACE = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")
_SPACES = re.compile(r"[ \t\u00a0]+")
_ROMAN = r"(?:x?c|x?l|l?x{1,3}|l)?(?:ix|iv|v?i{1,3}|v)|(?:x?c|x?l|l?x{1,3}|l)"
_PAGE_NUMBER = re.compile(
    rf"^[\[(\-–—]?\s*(?:(?:page|p\.|pg\.?|seite|página|第)\s*)?(?:\d{{1,4}}|{_ROMAN})"
    r"\s*(?:(?:/|of|von|de|sur|\|)\s*\d{1,4})?\s*(?:页|頁)?\s*[\])\-–—]?$",
    re.IGNORECASE,
)
_CAPTION = re.compile(r"^(?:fig(?:ure)?\.?|table|tab\.|chart|图|表)\s*[\dIVX]", re.IGNORECASE)
_CLOSERS = "\"'”’»)]}」』）》】"
_SENTENCE_END = frozenset(".!?。！？…‼⁇")
_OPEN_END = frozenset(",;:-–—(/&+")  # a line ending so goes on
_FUNCTION_WORDS = frozenset(
    "a an the and or but nor of to in on at by for with from into onto that which who whom "
    "whose as than is are was were be been this these those its their his her our your my "
    "not if when while where so".split()
)
_NO_HEADING_END = frozenset(".,;:!。，；：！、…")
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demibold|extrabold|ultrabold|-bd\b", re.I)
_GLUED = re.compile(r"(?<=[a-z]{2})([.!?])(?=[A-Z][a-z])")
_LETTERS = re.compile(r"[^\W\d_]+")
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


@dataclass(slots=True)
class Line:
    """One extracted line: its text, page, dominant effective font size (points), whether
    mostly bold, and where its first character stands (page space)."""

    text: str
    page: int
    size: float
    bold: bool
    x: float
    y: float

    @property
    def style(self) -> tuple[float, bool]:
        return (self.size, self.bold)


@dataclass(frozen=True, slots=True)
class Layout:
    """What :func:`layout` found: the title line's text (``""`` if none), sections as
    ``(heading, paragraphs)``, and how sections were found (``headings``, ``outline`` or
    ``none``)."""

    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]
    found: str


# ── lines from pypdf's visitor ───────────────────────────────────────────────────


@dataclass(slots=True)
class _LineBuilder:
    """The visitor given to ``page.extract_text``: cuts the reported text at newlines and
    keeps, per line, characters by size and bold, and the position of its first piece."""

    page: int
    bold_of: Callable[[Any], bool]
    lines: list[Line] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _sizes: Counter[float] = field(default_factory=Counter)
    _bold: int = 0
    _chars: int = 0
    _at: tuple[float, float] | None = None

    def __call__(self, text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not text:
            return
        first, *rest = text.split("\n")
        self._add(first, cm, tm, font, size)
        for piece in rest:
            self.end()
            self._add(piece, cm, tm, font, size)

    def _add(self, piece: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if not piece:
            return
        self._parts.append(piece)
        chars = len(piece) - piece.count(" ")
        if not chars:
            return
        try:
            # Effective size: the font size through the text and user space matrices
            # (their vertical scale), e.g. ``/F1 1 Tf`` with ``11 0 0 11 x y Tm``.
            c = float(tm[2]) * float(cm[0]) + float(tm[3]) * float(cm[2])
            d = float(tm[2]) * float(cm[1]) + float(tm[3]) * float(cm[3])
            effective = round(abs(float(size)) * math.hypot(c, d) * 2) / 2
            if self._at is None:
                x = float(tm[4]) * float(cm[0]) + float(tm[5]) * float(cm[2]) + float(cm[4])
                y = float(tm[4]) * float(cm[1]) + float(tm[5]) * float(cm[3]) + float(cm[5])
                self._at = (x, y)
        except (TypeError, ValueError, IndexError):
            effective = 0.0
        self._sizes[effective] += chars
        self._chars += chars
        if self.bold_of(font):
            self._bold += chars

    def end(self) -> None:
        """Close the line being built (a line without visible characters is dropped)."""
        text = _line_text("".join(self._parts))
        if text and self._chars:
            x, y = self._at or (0.0, 0.0)
            size = max(self._sizes.items(), key=lambda item: (item[1], item[0]))[0]
            bold = self._bold >= 0.8 * self._chars
            self.lines.append(Line(text, self.page, size, bold, x, y))
        self._parts.clear()
        self._sizes.clear()
        self._bold = self._chars = 0
        self._at = None


def _line_text(text: str) -> str:
    text = _SPACES.sub(" ", clean_text(text.replace("\n", " "))).strip()
    # A soft or Unicode hyphen ending the line is a line-end hyphen; others are invisible.
    if text.endswith(("\u00ad", "\u2010")):
        text = text[:-1] + "-"
    return _CJK_SPACE.sub("", text.replace("\u00ad", ""))


def page_lines(page: Any, index: int, bold_of: Callable[[Any], bool]) -> list[Line]:
    """The lines of one pypdf page, in pypdf's reading order."""
    builder = _LineBuilder(index, bold_of)
    page.extract_text(visitor_text=builder)
    builder.end()
    return builder.lines


def font_is_bold(font: Any) -> bool:
    """Whether a font resource dictionary names a bold face (its name, or the descriptor's
    ``/FontWeight`` ≥ 600 or ForceBold flag, also on a Type0 font's descendant)."""
    if font is None:
        return False
    try:
        if _BOLD_NAME.search(str(font.get("/BaseFont", ""))):
            return True
        descriptor = font.get("/FontDescriptor")
        if descriptor is None and "/DescendantFonts" in font:
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant.get("/FontDescriptor")
        if descriptor is None:
            return False
        descriptor = descriptor.get_object()
        weight = float(descriptor.get("/FontWeight", 400))
        return weight >= 600 or bool(int(descriptor.get("/Flags", 0)) & (1 << 18))
    except Exception:  # a damaged font dictionary only loses the weight, not the text
        return False


# ── furniture: running headers, footers, page numbers ────────────────────────────


def drop_furniture(pages: Sequence[list[Line]]) -> list[list[Line]]:
    """The pages without their running headers and footers and their page numbers."""
    edges = [_edge_indices(lines) for lines in pages]
    seen: Counter[str] = Counter()
    for lines, indices in zip(pages, edges, strict=True):
        seen.update({_furniture_key(lines[i].text) for i in indices})
    least = max(3, math.ceil(len(pages) / 2))
    repeated = {key for key, count in seen.items() if count >= least}
    kept = []
    for lines, indices in zip(pages, edges, strict=True):
        drop = {
            i
            for i in indices
            if _PAGE_NUMBER.match(lines[i].text) or _repeats(_furniture_key(lines[i].text), repeated)
        }
        kept.append([line for i, line in enumerate(lines) if i not in drop])
    return kept


def _repeats(key: str, repeated: set[str]) -> bool:
    """``key`` is a repeated one, or nearly (a scan's OCR misreads a letter or two)."""
    if key in repeated:
        return True
    for other in repeated:
        if len(other) >= 8:
            matcher = difflib.SequenceMatcher(None, key, other, autojunk=False)
            if matcher.real_quick_ratio() >= FUZZY and matcher.quick_ratio() >= FUZZY:
                if matcher.ratio() >= FUZZY:
                    return True
    return False


def _edge_indices(lines: list[Line]) -> set[int]:
    order = sorted(range(len(lines)), key=lambda i: lines[i].y)
    return set(order[:EDGE_LINES]) | set(order[-EDGE_LINES:])


def _furniture_key(text: str) -> str:
    """Lines that differ only in numbers and punctuation share a key (``50 THE SIEGE.``
    on even pages, ``THE SIEGE. 51`` on odd ones)."""
    words = _LETTERS.findall(text.casefold())
    return " ".join(words) if words else re.sub(r"\d+", "#", " ".join(text.split()))


# ── headings ───────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class _Heading:
    """Consecutive lines of one heading style."""

    lines: list[Line]

    @property
    def style(self) -> tuple[float, bool]:
        return self.lines[0].style

    @property
    def text(self) -> str:
        return _join_lines([line.text for line in self.lines], _Vocabulary(()))


def _body_style(lines: Iterable[Line]) -> tuple[float, bool]:
    """The size that sets the most characters, and whether that text is mostly bold."""
    sizes: Counter[float] = Counter()
    bold: Counter[float] = Counter()
    for line in lines:
        sizes[line.size] += len(line.text)
        if line.bold:
            bold[line.size] += len(line.text)
    if not sizes:
        return (0.0, False)
    body = max(sizes.items(), key=lambda item: (item[1], -item[0]))[0]
    return body, bold[body] > sizes[body] / 2


def _set_apart(line: Line, body: float, bold_body: bool) -> bool:
    """Set noticeably larger than the body text, or bold where the body is not."""
    if line.size >= body * HEADING_SCALE:
        return True
    return line.bold and not bold_body and line.size >= body * 0.95


def _heading_text(text: str) -> bool:
    """Short, ends without closing punctuation, has words, is no page number or caption."""
    if len(text) > HEADING_MAX_CHARS or len(text.split()) > HEADING_MAX_WORDS:
        return False
    if text[-1] in _NO_HEADING_END or sum(ch.isalpha() for ch in text) < 2:
        return False
    return not (_PAGE_NUMBER.match(text) or _CAPTION.match(text))


def _items(pages: Sequence[list[Line]], body: float, bold_body: bool) -> list[Line | _Heading]:
    """Lines in reading order, with headings grouped: a run of up to
    :data:`HEADING_MAX_LINES` consecutive lines of one set-apart style, each alone on its
    baseline, whose text reads as a heading.  A longer run, or one that ends a sentence
    (a bold paragraph), is body text."""
    flat = [line for lines in pages for line in lines]
    items: list[Line | _Heading] = []
    i = 0
    while i < len(flat):
        line = flat[i]
        if not _set_apart(line, body, bold_body) or _shares_baseline(flat, i):
            items.append(line)
            i += 1
            continue
        j = i + 1
        while (
            j < len(flat)
            and flat[j].style == line.style
            and flat[j].page == line.page
            and 0 < flat[j - 1].y - flat[j].y < 2.5 * line.size
            and not _shares_baseline(flat, j)
        ):
            j += 1
        heading = _Heading(flat[i:j])
        if j - i <= HEADING_MAX_LINES and _heading_text(heading.text):
            items.append(heading)
        else:
            items.extend(flat[i:j])
        i = j
    return items


def _shares_baseline(flat: list[Line], i: int) -> bool:
    """Whether the line before or after ``flat[i]`` stands on its baseline (a table
    row, a label beside text): a heading stands alone."""
    line = flat[i]
    for j in (i - 1, i + 1):
        if 0 <= j < len(flat) and flat[j].page == line.page:
            if abs(flat[j].y - line.y) < 0.3 * line.size:
                return True
    return False


def _section_styles(headings: list[_Heading]) -> set[tuple[float, bool]]:
    """Styles that recur, largest (then bold) first, while the sections stay few."""
    counts = Counter(h.style for h in headings)
    chosen: set[tuple[float, bool]] = set()
    total = 0
    for style in sorted(counts, key=lambda s: (-s[0], not s[1])):
        if counts[style] < 2:
            continue
        if chosen and total + counts[style] > MAX_SECTIONS:
            break
        chosen.add(style)
        total += counts[style]
    return chosen


def _page(item: Line | _Heading) -> int:
    return item.page if isinstance(item, Line) else item.lines[0].page


def _title_item(
    items: list[Line | _Heading],
    split: set[tuple[float, bool]],
    title_hint: str,
    metrics: _Metrics,
) -> Line | _Heading | None:
    """The document's title line on its first page: the largest heading among the page's
    first lines when its style does not split sections; else a first line that equals
    ``title_hint`` or, without a hint, stands alone (short, unpunctuated, and followed
    by a capitalised line or a break)."""
    if not items:
        return None
    first = [item for item in items[:TITLE_WITHIN] if _page(item) == _page(items[0])]
    headings = [item for item in first if isinstance(item, _Heading)]
    if headings:
        top = max(headings, key=lambda h: h.style)
        if top.style not in split:
            return top
    line = items[0]
    if not isinstance(line, Line) or line.size < metrics.body:
        return None
    if title_hint:
        return line if _same_text(line.text, title_hint) else None
    following = items[1] if len(items) > 1 else None
    alone = (
        following is None
        or not isinstance(following, Line)
        or not _continues(line, following, metrics)
        or _opens(following.text)
    )
    words = len(line.text.split())
    plain = line.text[-1] not in _NO_HEADING_END and sum(c.isalpha() for c in line.text) >= 2
    return line if alone and plain and words <= HEADING_MAX_WORDS else None


# ── paragraphs ─────────────────────────────────────────────────────────────────


class _Vocabulary:
    """The document's words, to tell a hyphenated line end (``propel-``/``lant``) from a
    compound split at its hyphen (``well-``/``known`` where ``well-known`` occurs)."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = texts
        self._words: set[str] | None = None

    @property
    def words(self) -> set[str]:
        if self._words is None:
            self._words = {w.casefold() for text in self._texts for w in _WORD.findall(text)}
        return self._words

    def keeps_hyphen(self, left: str, right: str) -> bool:
        compound, joined = f"{left}-{right}".casefold(), f"{left}{right}".casefold()
        return compound in self.words and joined not in self.words


def _join(a: str, b: str, vocabulary: _Vocabulary) -> str:
    """Two consecutive lines of one paragraph as one string."""
    if not a or not b:
        return a or b
    last, first = a[-1], b[0]
    if last == "-" and len(a) > 1 and a[-2].isalnum():
        if first.islower() and a[-2].isalpha():
            left = re.search(r"[^\W\d_]+$", a[:-1])
            right = re.match(r"[^\W\d_]+", b)
            if left and right and vocabulary.keeps_hyphen(left.group(), right.group()):
                return a + b
            return a[:-1] + b
        if first.isalnum():
            return a + b  # Franco-/Prussian, COVID-/19, 2019-/2020
    if (last in "—/" and a[-2:-1] != " ") or _CJK_CHAR.match(last) or _CJK_CHAR.match(first):
        return a + b
    return f"{a} {b}"


def _join_lines(texts: Sequence[str], vocabulary: _Vocabulary) -> str:
    out = ""
    for text in texts:
        out = _join(out, text, vocabulary)
    return out


def _ends_sentence(text: str) -> bool:
    text = text.rstrip(_CLOSERS)
    return bool(text) and text[-1] in _SENTENCE_END


def _opens(text: str) -> bool:
    return bool(text) and (text[0].isupper() or text[0].isdigit())


def _starts_lower(text: str) -> bool:
    return bool(text) and text[0].islower()


@dataclass(frozen=True, slots=True)
class _Metrics:
    """Document-wide measures for paragraph breaks, per font size: the usual distance
    between two lines and the length in characters of a full line."""

    body: float
    pitches: dict[float, float]
    fulls: dict[float, int]

    @classmethod
    def of(cls, lines: Sequence[Line], body: float) -> _Metrics:
        steps: dict[float, list[float]] = {}
        lengths: dict[float, list[int]] = {}
        for previous, line in zip(lines, lines[1:], strict=False):
            if line.size == previous.size and line.page == previous.page:
                step = previous.y - line.y
                if 0.5 * line.size < step < 2.5 * line.size:
                    steps.setdefault(line.size, []).append(step)
        for line in lines:
            lengths.setdefault(line.size, []).append(len(line.text))
        pitches = {size: statistics.median(found) for size, found in steps.items()}
        fulls = {
            size: sorted(found)[round(0.9 * (len(found) - 1))]
            for size, found in lengths.items()
            if len(found) >= FULL_SAMPLE
        }
        return cls(body, pitches, fulls)

    def pitch(self, size: float) -> float:
        return self.pitches.get(size) or 1.2 * size

    def full(self, size: float) -> int:
        return self.fulls.get(size, 0)


def _continues(previous: Line, line: Line, metrics: _Metrics) -> bool:
    """Whether ``line`` goes on with the paragraph that ``previous`` ended."""
    size = max(line.size, metrics.body)
    if line.page != previous.page:
        return _flows_over(previous, line, metrics, line.x - previous.x <= 0.8 * size)
    step = previous.y - line.y
    if step < -0.3 * size:
        return _flows_over(previous, line, metrics, True)  # a new column
    if step > PARAGRAPH_GAP * metrics.pitch(previous.size):
        return False
    short = len(previous.text) < SHORT_LINE * metrics.full(previous.size)
    if _ends_sentence(previous.text):
        indented = line.x - previous.x > 0.8 * size
        return not (indented or short)
    # A short line without closing punctuation before a capitalised one: a heading or
    # a label set like the body text, unless it ends on a word that needs a next one
    # (text run short beside a figure: "...into camp that" / "Johnston is coming").
    last = previous.text.rsplit(" ", 1)[-1]
    hanging = previous.text[-1] in _OPEN_END or last in _FUNCTION_WORDS
    return not (short and _opens(line.text) and not hanging)


def _flows_over(previous: Line, line: Line, metrics: _Metrics, unindented: bool) -> bool:
    """Across a page or column break: the paragraph goes on unless it ended a sentence and
    the next line starts with a capital, and even then when its last line was a full one
    and the next one is set alike and not indented."""
    if not _ends_sentence(previous.text) or _starts_lower(line.text):
        return True
    full = metrics.full(previous.size)
    return (
        unindented
        and line.size == previous.size
        and full > 0
        and len(previous.text) >= FULL_LINE * full
    )


# ── sections ───────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class _Builder:
    """Accumulates paragraphs into sections."""

    vocabulary: _Vocabulary
    metrics: _Metrics
    sections: list[tuple[str, list[str]]] = field(default_factory=lambda: [("", [])])
    _lines: list[Line] = field(default_factory=list)

    def line(self, line: Line) -> None:
        if self._lines and not _continues(self._lines[-1], line, self.metrics):
            self.flush()
        self._lines.append(line)

    def paragraph(self, text: str) -> None:
        self.flush()
        self.sections[-1][1].append(text)

    def section(self, heading: str) -> None:
        self.flush()
        self.sections.append((heading, []))

    def flush(self) -> None:
        if self._lines:
            text = _join_lines([line.text for line in self._lines], self.vocabulary)
            self.sections[-1][1].append(_GLUED.sub(r"\1 ", text))
            self._lines = []

    def result(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        self.flush()
        return tuple((h, tuple(p)) for h, p in self.sections if p)


def layout(
    pages: Sequence[list[Line]],
    outline: Callable[[], list[tuple[str, int]]] = list,
    title_hint: str = "",
) -> Layout:
    """Title line, sections and paragraphs of a document from the lines of its pages.

    :param outline: gives the document's bookmarks ``(title, page index)``; asked only
        when no font headings are found.
    :param title_hint: the title from the document's metadata, if it has a real one.
    """
    pages = drop_furniture(pages)
    flat = [line for lines in pages for line in lines]
    body, bold_body = _body_style(flat)
    items = _items(pages, body, bold_body)
    split = _section_styles([item for item in items if isinstance(item, _Heading)])
    metrics = _Metrics.of(flat, body)
    title = _title_item(items, split, title_hint, metrics)
    marks: dict[int, str] = {}
    found = "headings" if split else "none"
    if not split:
        marks = _outline_marks(items, outline())
        found = "outline" if marks else "none"
    builder = _Builder(_Vocabulary(line.text for line in flat), metrics)
    for index, item in enumerate(items):
        if index in marks:
            builder.section(marks[index])
            if _same_text(item.text, marks[index]):
                continue
        if item is title:
            continue
        if isinstance(item, Line):
            builder.line(item)
        elif item.style in split:
            builder.section(item.text)
        else:
            builder.paragraph(item.text)
    return Layout(title.text if title else "", builder.result(), found)


def _same_text(a: str, b: str) -> bool:
    return _plain(a) == _plain(b)


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def _outline_marks(items: list[Line | _Heading], entries: list[tuple[str, int]]) -> dict[int, str]:
    """Where each bookmark's section starts: at its heading line on its page if found
    there, else at the page's first line (or the next page's).  ``{item index: title}``."""
    marks: dict[int, str] = {}
    start = 0
    for title, page in sorted(entries, key=lambda entry: entry[1]):
        position = None
        for index in range(start, len(items)):
            item_page = _page(items[index])
            if item_page < page:
                continue
            if position is None:
                position = index
            if item_page > page:
                break
            if _same_text(items[index].text, title):
                position = index
                break
        if position is not None and position not in marks:
            marks[position] = title
            start = position + 1
    return marks
