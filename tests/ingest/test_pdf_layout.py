"""PDF structure on real generated PDFs: headings by font size and weight, running headers,
footers and page numbers dropped, paragraphs whole across page breaks, bookmarks, Chinese."""

from __future__ import annotations

import io
import re
import time

import pytest

from podcast.stages.ingest import PdfIngester
from podcast.stages.ingest.pdf import pdf_document

from .ingest_helpers import write
from .layout_pdfs import (
    HEADER,
    HEADINGS,
    TITLE,
    LayoutPdf,
    make_chinese_pdf,
    make_report_pdf,
)

GLUED = re.compile(r"[a-z][.!?][A-Z]")  # "propellant.The idea"
PAGE_LABEL = re.compile(r"\bpage\s*\d|\b\d+\s*(?:/|of)\s*\d+\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def report() -> LayoutPdf:
    return make_report_pdf()


def paragraphs(doc) -> list[str]:
    return [p for section in doc.sections for p in section.text.split("\n\n")]


def test_eleven_pages_with_bold_headings_give_one_section_per_heading(report, tmp_path, ctx):
    doc = PdfIngester().ingest(write(tmp_path, "briefing.pdf", report.data), ctx)
    assert report.pages == doc.metadata["pages"] == 11
    assert [s.heading for s in doc.sections] == list(HEADINGS)
    assert doc.title == TITLE  # no /Title: the largest text on page 1, not a section
    assert doc.language == "en"
    markdown = doc.to_markdown()
    assert not PAGE_LABEL.search(markdown), PAGE_LABEL.search(markdown)
    assert HEADER not in markdown and "Draft" not in markdown
    assert markdown.count(TITLE) == 1


def test_every_paragraph_comes_out_whole_even_across_pages(report):
    from pypdf import PdfReader

    doc = pdf_document(report.data, "briefing.pdf")
    assert paragraphs(doc) == list(report.paragraphs)
    # The layout really breaks paragraphs mid-sentence at page ends (the line above the
    # footer), so the test above covers joining them.
    raw = [page.extract_text() for page in PdfReader(io.BytesIO(report.data)).pages]
    assert len(report.crossing) >= 5
    assert sum(not text.split("\n")[-2].endswith(".") for text in raw[:-1]) >= 3


def test_line_end_hyphens_and_glued_sentences(report):
    text = pdf_document(report.data, "briefing.pdf").text
    assert "no propellant at all" in text
    assert "propel" not in text.replace("propellant", "")
    # "well-" / "known" at a line end keeps its hyphen: the document writes "well-known".
    assert text.count("well-known") == 2 and "wellknown" not in text
    assert not GLUED.search(text), GLUED.search(text)


def test_metadata_title_wins_and_the_title_line_is_not_body_text():
    pdf = make_report_pdf(pages_wanted=4, metadata_title="Solar Sails: A Briefing")
    doc = pdf_document(pdf.data, "x.pdf")
    assert doc.title == "Solar Sails: A Briefing"
    assert TITLE not in doc.text
    assert [s.heading for s in doc.sections] == list(HEADINGS)
    assert paragraphs(doc) == list(pdf.paragraphs)


def test_running_header_with_the_page_number_on_alternating_sides_is_dropped():
    pdf = make_report_pdf(pages_wanted=4, header="Solar Sail Briefing {n}", footer="")
    doc = pdf_document(pdf.data, "x.pdf")
    assert "Briefing" not in doc.text
    assert paragraphs(doc) == list(pdf.paragraphs)


@pytest.mark.parametrize("footer", ["{n}", "Page {n}", "{n} / {total}", "- {n} -", "{roman}", "p. {n}"])
def test_page_numbers_in_any_form_are_dropped(footer):
    pdf = make_report_pdf(pages_wanted=4, footer=footer, header="")
    doc = pdf_document(pdf.data, "x.pdf")
    assert pdf.pages == 4
    assert [s.heading for s in doc.sections] == list(HEADINGS)
    assert paragraphs(doc) == list(pdf.paragraphs)


def test_bookmarks_make_the_sections_when_headings_look_like_body_text():
    pdf = make_report_pdf(pages_wanted=5, heading_size=11, heading_bold=False, outline=True)
    doc = pdf_document(pdf.data, "x.pdf")
    assert [s.heading for s in doc.sections] == list(HEADINGS)
    # Each heading line became its section's title, not a paragraph.
    assert paragraphs(doc) == list(pdf.paragraphs)


def test_without_headings_or_bookmarks_the_text_is_one_untitled_section():
    pdf = make_report_pdf(pages_wanted=3, with_headings=False, with_title_line=False)
    doc = pdf_document(pdf.data, "field-notes.pdf")
    assert [s.heading for s in doc.sections] == [""]
    assert doc.title == "field-notes"
    assert paragraphs(doc) == list(pdf.paragraphs)
    assert not PAGE_LABEL.search(doc.text)


def test_plain_headings_without_bookmarks_stay_paragraphs_of_their_own():
    one_line = tuple(h for h in HEADINGS if len(h) < 40)  # a wrapped plain heading is prose
    pdf = make_report_pdf(
        pages_wanted=3, heading_size=11, heading_bold=False, with_title_line=False, headings=one_line
    )
    doc = pdf_document(pdf.data, "x.pdf")
    # No /Title and nothing larger than the body: the first line, standing alone, is the
    # title; the other headings are paragraphs, not glued to the text they head.
    assert doc.title == one_line[0]
    assert [s.heading for s in doc.sections] == [""]
    found = paragraphs(doc)
    assert [p for p in found if p in one_line] == list(one_line[1:])
    assert [p for p in found if p not in one_line] == list(pdf.paragraphs)


CHINESE_BODY = (
    "太阳帆依靠阳光的压力前进，镜面每反射一个光子，",
    "就会得到一点点动量。这个推力非常微弱，但它从不停止，",
    "所以飞船的速度会一天天增加。",
)


def test_chinese_headings_footers_and_lines_join_without_spaces():
    # A page break inside a sentence: the paragraph must continue on page 2.
    pages = [
        [(20, "太阳帆简介"), (14, "光的推力"), *((10.5, line) for line in CHINESE_BODY[:2])],
        [(10.5, CHINESE_BODY[2]), (14, "早期设想"), (10.5, "一百年前，科学家就提出了用光推动飞船的想法。")],
    ]
    doc = pdf_document(make_chinese_pdf(pages, footer="第 {n} 页"), "zh.pdf")
    assert doc.language == "zh"
    assert doc.title == "太阳帆简介"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ("光的推力", "".join(CHINESE_BODY)),
        ("早期设想", "一百年前，科学家就提出了用光推动飞船的想法。"),
    ]


def test_bold_from_the_font_weight_alone_marks_headings_of_body_size():
    # The bold font's name says "Light"; only /FontWeight 700 in its descriptor tells.
    body = [(10.5, line) for line in CHINESE_BODY]
    pages = [[(10.5, "光的推力", True), *body], [(10.5, "早期设想", True), *body]]
    doc = pdf_document(make_chinese_pdf(pages), "zh.pdf")
    assert [s.heading for s in doc.sections] == ["光的推力", "早期设想"]
    assert [s.text for s in doc.sections] == ["".join(CHINESE_BODY)] * 2


@pytest.mark.slow
def test_layout_analysis_costs_little_over_plain_extraction(capsys):
    """Ingest of a 40-page PDF against pypdf's plain ``extract_text`` of every page,
    measured in the same process, best of two each."""
    from pypdf import PdfReader

    data = make_report_pdf(pages_wanted=40).data

    def plain() -> None:
        for page in PdfReader(io.BytesIO(data)).pages:
            page.extract_text()

    def structured() -> None:
        pdf_document(data, "x.pdf")

    times = {}
    for name, run in (("plain", plain), ("layout", structured)):
        best = float("inf")
        for _ in range(2):
            start = time.perf_counter()
            run()
            best = min(best, time.perf_counter() - start)
        times[name] = best
    ratio = times["layout"] / times["plain"]
    with capsys.disabled():
        print(f"\npdf ingest 40 pages: plain {times['plain']:.2f} s, layout {times['layout']:.2f} s, x{ratio:.2f}")
    assert ratio < 2.5
