"""Real PDFs with a typeset layout, made here with fpdf2 (and one written by hand with a
standard CJK font that needs no font file): headings in a larger bold font, running headers
and footers with page numbers, paragraphs that cross page breaks, hyphenated line ends."""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass

TITLE = "Sailing on Sunlight"
HEADINGS = (
    "How Light Pushes",
    "Early Ideas",
    "Building a Sail",
    "IKAROS in Orbit",
    "LightSail and Its Lessons",
    # Wraps onto a second line at 13 pt, and its first line ends with a comma.
    "Steering Without Fuel: How Sail Teams Turn, Tilt and Trim a Craft With Nothing but the Angle of Sunlight",
    "Risks in Deep Space",
    "What Comes Next",
)
HEADER = "Solar Sail Briefing - Internal Draft"
FOOTER = "Page {n} of {total}"

# Each paragraph is built from sentences carrying its own number, so every paragraph is
# distinct and the tests can find each one in the output.
_SENTENCES = (
    "Sunlight carries momentum, and a mirror that reflects it feels a gentle push {i}.",
    "The force is tiny, yet it never stops, so the speed of the craft keeps growing {i}.",
    "Engineers compare the thrust to the weight of a sheet of paper held in the palm {i}.",
    "Over months that small push adds up to changes in orbit that rockets would envy {i}.",
    "A thin film of aluminised plastic is enough, as long as it stays flat and taut {i}.",
    "Mission teams watch the attitude of the sail, because the angle sets the push {i}.",
)
HYPHENATED = (
    "A sail carries no propel-\n"
    "lant at all, so its mission can last for years. Its well-\n"
    "known weakness is the feeble push near outer planets, a well-known limit."
)


@dataclass(frozen=True)
class LayoutPdf:
    """A generated PDF and what a reader should find in it."""

    data: bytes
    title: str
    headings: tuple[str, ...]
    paragraphs: tuple[str, ...]  # every body paragraph, as one line of words
    crossing: tuple[str, ...]  # paragraphs that start on one page and end on the next
    pages: int


def body_paragraph(i: int, count: int = 5) -> str:
    return " ".join(_SENTENCES[(i + k) % len(_SENTENCES)].format(i=i) for k in range(count))


def make_report_pdf(
    *,
    pages_wanted: int = 11,
    footer: str = FOOTER,
    header: str = HEADER,
    with_headings: bool = True,
    with_title_line: bool = True,
    metadata_title: str | None = None,
    outline: bool = False,
    heading_size: float = 13,
    heading_bold: bool = True,
    headings: tuple[str, ...] = HEADINGS,
    body_size: float = 11,
) -> LayoutPdf:
    """A report of ``pages_wanted`` pages: a 20-pt title line, 13-pt bold headings, 11-pt
    body text, a running header (a ``{n}`` in it puts the page number after the text on odd
    pages, before it on even ones) and a footer with the page number (``{n}``/``{total}``/
    ``{roman}`` in ``footer``).  Sections grow until the page count is reached."""
    from fpdf import FPDF

    class Report(FPDF):
        def header(self) -> None:
            if header:
                self.set_font("Helvetica", size=8)
                n = self.page_no()
                # A header with the page number on the outer side: "12 Title", "Title 13".
                text = header.format(n=n) if "{n}" not in header or n % 2 else f"{n} {header.replace('{n}', '')}"
                self.cell(0, 6, text.strip(), align="C", new_x="LMARGIN", new_y="NEXT")
                self.ln(4)

        def footer(self) -> None:
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=8)
                n = self.page_no()
                text = footer.format(n=n, total="{nb}", roman=_roman(n))
                self.cell(0, 10, text, align="C")

    pdf = Report(format="A4")
    pdf.set_auto_page_break(True, margin=20)
    if metadata_title is not None:
        pdf.set_title(metadata_title)
    pdf.add_page()
    if with_title_line:
        pdf.set_font("Helvetica", "B", 20)
        pdf.multi_cell(0, 10, TITLE, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    paragraphs: list[str] = []
    crossing: list[str] = []
    found: list[str] = []
    number = 0

    def paragraph(text: str) -> None:
        pdf.set_font("Helvetica", size=body_size)
        start = pdf.page_no()
        pdf.multi_cell(0, body_size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        if pdf.page_no() != start:
            crossing.append(" ".join(text.split()))
        paragraphs.append(_flat(text))
        pdf.ln(3)

    for index, heading in enumerate(headings):
        if with_headings:
            if pdf.get_y() > pdf.h - 45:  # keep a heading with its first lines
                pdf.add_page()
            pdf.ln(3)
            pdf.set_font("Helvetica", "B" if heading_bold else "", heading_size)
            pdf.multi_cell(0, heading_size * 0.5, heading, new_x="LMARGIN", new_y="NEXT")
            found.append(heading)
            pdf.ln(1)
        if index == 2:
            paragraph(HYPHENATED)
        # Fill evenly so the document ends on the wanted page.
        remaining = len(headings) - index
        while pdf.page_no() < 1 + (pages_wanted - 1) * (index + 1) // len(headings) or (
            remaining == 1 and pdf.page_no() < pages_wanted
        ):
            paragraph(body_paragraph(number))
            number += 1
        paragraph(body_paragraph(number, 3))
        number += 1
    data = bytes(pdf.output())
    if outline:
        data = add_outline(data, [(h, _page_of(data, h)) for h in found])
    return LayoutPdf(
        data,
        metadata_title or TITLE,
        tuple(found),
        tuple(paragraphs),
        tuple(crossing),
        pdf.page_no(),
    )


def _flat(text: str) -> str:
    """A paragraph as a reader should give it: line-end hyphens of split words removed."""
    return (
        " ".join(text.split())
        .replace("propel- lant", "propellant")
        .replace("well- known", "well-known")
    )


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out, n = out + letters, n - value
    return out


def _page_of(data: bytes, text: str) -> int:
    from pypdf import PdfReader

    for index, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        if text in (page.extract_text() or ""):
            return index
    raise AssertionError(f"{text!r} is on no page")


def add_outline(data: bytes, entries: list[tuple[str, int]]) -> bytes:
    """Add top-level bookmarks ``(title, page index)`` with pypdf's writer."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    for title, page in entries:
        writer.add_outline_item(title=title, page_number=page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ── a Chinese PDF without a font file ────────────────────────────────────────────


CjkLine = tuple[float, str] | tuple[float, str, bool]


def make_chinese_pdf(pages: list[list[CjkLine]], footer: str = "") -> bytes:
    """A PDF whose pages hold lines ``(font size, text[, bold])`` top-down in the standard
    non-embedded CJK font STSong-Light (Adobe-GB1, UCS-2 encoding): every PDF reader
    supplies that font, so no font file is needed.  Its bold variant differs only by
    ``/FontWeight 700`` in its descriptor (the name still says Light).  Lines 1.5 sizes
    apart; a gap of one size before a line set unlike the previous one; ``footer`` (with
    ``{n}``) at the foot of every page."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    regular, bold = (
        add(
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
            b"/DescendantFonts [ << /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
            b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
            b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
            b"/FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            b"/CapHeight 880 /StemV 93 /FontWeight %d >> /DW 1000 >> ] >>" % weight
        )
        for weight in (400, 700)
    )
    pages_id = len(objects) + 1 + 2 * len(pages)
    kids = []
    for number, lines in enumerate(pages, 1):
        stream = _cjk_content(lines, footer.format(n=number))
        content = add(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream"
        )
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
                b"/Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, regular, bold, content)
            )
        )
    add(
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    )
    catalog = add(b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


def _cjk_content(lines: list[CjkLine], footer: str) -> bytes:
    y, previous, ops = 800.0, None, []
    for size, text, *bold in lines:
        style = (size, bool(bold and bold[0]))
        if previous is not None and style != previous:
            y -= size
        ops.append(_cjk_text(size, 56, y, text, style[1]))
        y -= size * 1.5
        previous = style
    if footer:
        ops.append(_cjk_text(9, 280, 40, footer))
    return zlib.compress(b"\n".join(ops))


def _cjk_text(size: float, x: float, y: float, text: str, bold: bool = False) -> bytes:
    hex_text = text.encode("utf-16-be").hex().upper().encode()
    font = b"/F2" if bold else b"/F1"
    return b"BT %s %.1f Tf %.1f %.1f Td <%s> Tj ET" % (font, size, x, y, hex_text)
