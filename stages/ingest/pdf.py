"""PDF ingestion with pypdf: sections from the document's headings, clear refusals.

Text comes from pypdf with each line's font size and weight (see :mod:`.pdf_layout`):
running headers, footers and page numbers are dropped, paragraphs are joined across line,
column and page breaks, and headings set larger or bolder than the body text start the
sections.  A document without such headings is split at its bookmarks (outline) if it has
any, else it is one untitled section.  The title is the metadata ``/Title`` unless that is a
placeholder, else the title line on the first page, else the file name.

Refused with a one-line :class:`~podcast.errors.InputError`: empty files, corrupt or
truncated files (whatever pypdf cannot parse), password-protected files (unless the
password option opens them; an empty user password is tried automatically) and files
without a text layer (scans that need OCR).  pypdf's non-strict mode is kept: it recovers
documents with damaged streams, and its warnings are silenced rather than shown.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from podcast.errors import InputError
from podcast.models import Document, Section, frozen_mapping
from podcast.options import option
from podcast.stage import Ingester

from .language import guess_language
from .pdf_layout import Line, font_is_bold, layout, page_lines
from .source import display_name, read_source, sniff, source_suffix, stem_title

if TYPE_CHECKING:
    from podcast.stage import StageContext

__all__ = ["MIN_TEXT_CHARS", "PdfIngester", "pdf_document"]

# Fewer letters/digits than this in the whole file means there is no usable text layer.
MIN_TEXT_CHARS = 10
PDF_MAX_BYTES = 100 * 1024 * 1024
_TITLE_MAX = 120
_JUNK_TITLE = re.compile(
    r"^(untitled|document\d*|microsoft \w+ - .*|.*\.(docx?|pdf|odt|rtf|txt|html?))$", re.I
)


class PdfIngester(Ingester):
    """PDF files (by ``.pdf`` suffix or ``%PDF-`` magic bytes), also from standard input."""

    name: ClassVar[str] = "pdf"
    priority: ClassVar[int] = 30

    @dataclass(frozen=True, slots=True)
    class Options:
        """Options of the PDF ingester."""

        password: str = option("", "Password that opens a password-protected PDF.")
        max_bytes: int = option(PDF_MAX_BYTES, "Refuse PDF files larger than this many bytes.")

    @classmethod
    def accepts(cls, source: str) -> bool:
        return source_suffix(source) == ".pdf" or sniff(source, 8).startswith(b"%PDF-")

    def ingest(self, source: str, ctx: StageContext) -> Document:
        data = read_source(source, self.options.max_bytes, "ingest.pdf.max_bytes")
        return pdf_document(data, source, password=self.options.password or None)


@contextlib.contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """Silence pypdf's warnings and log records (recoverable damage is not news to users)."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def pdf_document(
    data: bytes,
    source: str,
    *,
    password: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Document:
    """Turn PDF bytes into a document whose sections follow the PDF's headings.

    :param source: the path, URL or ``-`` (used in messages and ``Document.source``).
    :param password: tried when the file is encrypted; the empty password is always tried.
    :raises InputError: empty, corrupt, truncated, password-protected or image-only.
    """
    name = display_name(source)
    if not data:
        raise InputError(f"{name} is empty (0 bytes); it is not a PDF")
    with _quiet_pypdf():
        reader = _open(data, name, password)
        pages = _page_lines(reader, name)
        info = _info(reader)
        meta = {**info, "pages": len(pages), **(metadata or {})}
        hint = str(meta.pop("title", "")).strip()
        hint = "" if _JUNK_TITLE.match(hint) else hint
        found = layout(pages, lambda: _outline(reader), hint)
    sections = tuple(Section(heading, "\n\n".join(paragraphs)) for heading, paragraphs in found.sections)
    body = "\n\n".join(s.text for s in sections)
    if sum(ch.isalnum() for ch in body) < MIN_TEXT_CHARS:
        raise InputError(
            f"{name} has no extractable text (scanned?); it needs OCR first, e.g. ocrmypdf"
        )
    title = hint or _short_title(found.title) or stem_title(source)
    return Document(source, "pdf", title, sections, guess_language(body), frozen_mapping(meta))


def _open(data: bytes, name: str, password: str | None) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError, WrongPasswordError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False, password=password)
    except WrongPasswordError:
        raise InputError(f"{name}: wrong password for this password-protected PDF") from None
    except DependencyError as exc:
        raise InputError(f"{name} uses encryption pypdf cannot open here: {exc}") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise _corrupt(name, exc) from None
    if reader.is_encrypted and not _decrypted(reader):
        raise InputError(
            f"{name} is a password-protected PDF; pass its password with "
            "--set ingest.pdf.password=... or remove the protection first"
        )
    return reader


def _decrypted(reader: Any) -> bool:
    encryption = getattr(reader, "_encryption", None)
    return encryption is None or bool(encryption.is_decrypted())


def _corrupt(name: str, exc: Exception) -> InputError:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return InputError(f"{name} is not a readable PDF (corrupt or truncated: {detail})")


def _page_lines(reader: Any, name: str) -> list[list[Line]]:
    """The lines of every page; any unreadable page refuses the whole file."""
    from pypdf.errors import FileNotDecryptedError, PyPdfError

    bold: dict[int, tuple[Any, bool]] = {}

    def bold_of(font: Any) -> bool:
        # Font dictionaries live as long as the reader; keeping each one pins its id.
        known = bold.get(id(font))
        if known is None:
            known = bold[id(font)] = (font, font_is_bold(font))
        return known[1]

    try:
        return [page_lines(page, index, bold_of) for index, page in enumerate(reader.pages)]
    except FileNotDecryptedError:
        raise InputError(f"{name} is a password-protected PDF; pass its password") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise _corrupt(name, exc) from None


def _outline(reader: Any) -> list[tuple[str, int]]:
    """Bookmarks as ``(title, page index)``: the top level, or the level below a single
    top-level entry (a document's own title).  A broken outline counts as none."""
    try:
        outline = list(reader.outline)
    except Exception:  # a damaged outline must not lose a readable document
        return []
    level = [item for item in outline if not isinstance(item, list)]
    nested = next((item for item in outline if isinstance(item, list)), None)
    if len(level) < 2 and nested:
        level = [item for item in nested if not isinstance(item, list)]
    entries = []
    for item in level:
        with contextlib.suppress(Exception):
            title = " ".join(str(item.title).split())
            page = reader.get_destination_page_number(item)
            if title and page is not None and page >= 0:
                entries.append((title, page))
    return entries


def _info(reader: Any) -> dict[str, Any]:
    """Title, author and creation date from the document information dictionary."""
    try:
        info = reader.metadata
    except Exception:  # a broken /Info must not lose a readable document
        return {}
    if info is None:
        return {}
    found: dict[str, Any] = {}
    for key, attr in (("title", "title"), ("author", "author")):
        with contextlib.suppress(Exception):
            value = getattr(info, attr)
            if value and str(value).strip():
                found[key] = " ".join(str(value).split())
    with contextlib.suppress(Exception):
        if info.creation_date is not None:
            found["date"] = info.creation_date.date().isoformat()
    return found


def _short_title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_MAX and any(c.isalpha() for c in text) else ""
