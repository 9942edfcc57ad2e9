"""Plain-text and Markdown ingestion (files or ``-`` for standard input).

Encodings: BOM (UTF-8/16/32), strict UTF-8, GB18030/GBK for Chinese, then
charset-normalizer (see :mod:`.charset`), unless the ``encoding`` option names one.
Markdown headings (ATX ``#`` and setext underlines, outside fenced code) start sections;
the first H1 is the title.  Plain text keeps its paragraphs; a short first line is the title.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from podcast.errors import InputError
from podcast.models import Document, Section, frozen_mapping
from podcast.options import option
from podcast.stage import Ingester

from .charset import decode_text, looks_binary, normalize_charset
from .language import guess_language
from .source import (
    DEFAULT_MAX_BYTES,
    clean_text,
    display_name,
    is_url,
    read_source,
    source_suffix,
    stem_title,
)

if TYPE_CHECKING:
    from podcast.stage import StageContext

__all__ = [
    "MARKDOWN_SUFFIXES",
    "TextIngester",
    "decode_with",
    "markdown_document",
    "plain_document",
    "text_document",
]

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
TITLE_MAX = 100
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_INLINE = (
    (re.compile(r"<!--.*?-->", re.S), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images → alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links → link text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # strong
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # emphasis
    (re.compile(r"`([^`\n]+)`"), r"\1"),  # inline code
)
_SENTENCE_END = tuple(".,;:!?。，；：！？")


class TextIngester(Ingester):
    """Text and Markdown files, and standard input; the fallback for any local source."""

    name: ClassVar[str] = "text"
    priority: ClassVar[int] = -100

    @dataclass(frozen=True, slots=True)
    class Options:
        """Options of the text ingester."""

        encoding: str = option("", "Force this encoding (e.g. gbk, utf-16); empty means detect.")
        markdown: bool | None = option(
            None, "Treat the input as Markdown (default: by suffix .md)."
        )
        max_bytes: int = option(DEFAULT_MAX_BYTES, "Refuse text files larger than this many bytes.")

    @classmethod
    def accepts(cls, source: str) -> bool:
        return not is_url(source)

    def ingest(self, source: str, ctx: StageContext) -> Document:
        data = read_source(source, self.options.max_bytes, "ingest.text.max_bytes")
        if looks_binary(data[:4096]):
            raise InputError(
                f"{display_name(source)} looks binary; pass a text, Markdown, HTML or PDF file"
            )
        text = decode_with(data, self.options.encoding, source)
        markdown = self.options.markdown
        if markdown is None:
            suffix = source_suffix(source)
            markdown = suffix in MARKDOWN_SUFFIXES or (not suffix and looks_like_markdown(text))
        return text_document(text, source, markdown=markdown)


def decode_with(data: bytes, encoding: str, source: str) -> str:
    """Decode with the forced ``encoding`` when given, else detect."""
    if not encoding:
        return decode_text(data)
    codec = normalize_charset(encoding)
    if codec is None:
        raise InputError(f"unknown encoding {encoding!r} for {display_name(source)}")
    try:
        return data.decode(codec).lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError(f"{display_name(source)} is not valid {encoding}: {exc.reason}") from None


_ATX_HEADING = re.compile(r"^#{1,6} \S", re.MULTILINE)


def looks_like_markdown(text: str) -> bool:
    """Sniff stdin or suffix-less files: two or more ATX headings (``# …``/``## …``)."""
    return len(_ATX_HEADING.findall(text, 0, 20000)) >= 2


def text_document(text: str, source: str, *, markdown: bool, kind: str | None = None) -> Document:
    """A document from decoded text; refuses text with no words."""
    text = clean_text(text)
    if not any(c.isalnum() for c in text):
        raise InputError(f"{display_name(source)} contains no text")
    if markdown:
        return markdown_document(text, source, kind)
    return plain_document(text, source, kind)


# ── plain text ──────────────────────────────────────────────────────────────────


def plain_document(text: str, source: str, kind: str | None = None) -> Document:
    """Paragraphs in one section; a short first line without final punctuation is the title."""
    first, _, rest = text.partition("\n")
    first = first.strip()
    if rest.strip() and len(first) <= TITLE_MAX and not first.endswith(_SENTENCE_END):
        title, body = first, rest
    else:
        title, body = stem_title(source), text
    paragraphs = [p.strip() for p in re.split(r"\n[ \t]*\n", body) if p.strip()]
    section = Section("", "\n\n".join(paragraphs))
    return Document(source, kind or "text", title, (section,), guess_language(text), _meta(source))


def _meta(source: str, **extra: str) -> Mapping[str, Any]:
    found = {} if source == "-" or is_url(source) else {"path": source}
    return frozen_mapping({**found, **extra})


# ── Markdown ────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class _Heading:
    level: int
    text: str


def markdown_document(text: str, source: str, kind: str | None = None) -> Document:
    """Sections at each heading; title from front matter, else the first H1, else the stem."""
    front, text = _front_matter(text)
    title = front.get("title", "")
    sections: list[Section] = []
    heading, lines = "", []
    for item in _blocks(text.split("\n")):
        if isinstance(item, _Heading):
            if item.level == 1 and not title:
                title = item.text
                continue
            _append(sections, heading, lines)
            heading, lines = item.text, []
        else:
            lines.append(item)
    _append(sections, heading, lines)
    extra = {k: v for k, v in front.items() if k in ("author", "date")}
    body = "\n".join(s.text for s in sections)
    return Document(
        source,
        kind or "markdown",
        title or stem_title(source),
        tuple(sections),
        guess_language(body or title),
        _meta(source, **extra),
    )


def _append(sections: list[Section], heading: str, lines: list[str]) -> None:
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if heading or body:
        sections.append(Section(heading, body))


def _blocks(lines: list[str]) -> list[_Heading | str]:
    """Headings and cleaned text lines; code fences are kept verbatim, setext underlines folded."""
    out: list[_Heading | str] = []
    fence = ""
    for line in lines:
        marker = _FENCE.match(line)
        if fence:
            fence = (
                ""
                if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence)
                else fence
            )
            if fence:
                out.append(line)
            continue
        if marker:
            fence = marker.group(1)
            continue
        out.append(_classify(line, out))
    return out


def _classify(line: str, out: list[_Heading | str]) -> _Heading | str:
    """One line outside code: an ATX heading, a setext underline (turns the previous line
    into a heading) or text with inline markup removed."""
    atx = _ATX.match(line)
    if atx:
        return _Heading(len(atx.group(1)), _inline(atx.group(2) or ""))
    setext = _SETEXT.match(line)
    if setext and out and isinstance(out[-1], str) and out[-1].strip():
        previous = out.pop()
        return _Heading(1 if setext.group(1)[0] == "=" else 2, previous.strip())
    if _RULE.match(line):
        return ""
    return _inline(line)


def _inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text.rstrip()


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Simple ``key: value`` YAML front matter (title, author, date) and the rest."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    found = {}
    for line in match.group(1).split("\n"):
        key, sep, value = line.partition(":")
        if sep and key.strip() and value.strip():
            found[key.strip().lower()] = value.strip().strip("'\"")
    return found, text[match.end() :]
