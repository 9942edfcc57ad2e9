"""PDF ingestion on PDFs generated here with fpdf2 (and encrypted with pypdf)."""

from __future__ import annotations

import contextlib
import logging
import warnings

import pytest

from podcast.errors import InputError
from podcast.options import build_options
from podcast.stages.ingest import PdfIngester
from podcast.stages.ingest.pdf import pdf_document

from .ingest_helpers import PAGE_TEXTS, encrypt_pdf, make_image_pdf, make_text_pdf, write


def pdf_ingester(**options: object) -> PdfIngester:
    return PdfIngester(build_options(PdfIngester.Options, options, "stages.ingest.pdf"))


def test_pdf_without_headings_is_one_untitled_section_of_paragraphs(tmp_path, ctx, text_pdf):
    source = write(tmp_path, "report.pdf", text_pdf)
    doc = pdf_ingester().ingest(source, ctx)
    assert doc.kind == "pdf"
    assert doc.title == "Generated Test Document"
    assert doc.metadata["pages"] == 3
    assert doc.metadata["author"] == "Test Author"
    assert doc.language == "en"
    # No heading, no bookmark: one section without a heading, never "Page N" ones; each
    # page's sentence ends a paragraph, so each is a paragraph of its own.
    assert [s.heading for s in doc.sections] == [""]
    assert doc.sections[0].text.split("\n\n") == list(PAGE_TEXTS)


def test_title_falls_back_to_the_first_line_when_metadata_is_a_placeholder():
    data = make_text_pdf(
        ("Annual Figures\nRevenue rose by four percent this year.",),
        title="Microsoft Word - draft.docx",
    )
    assert pdf_document(data, "x.pdf").title == "Annual Figures"


def test_accepts_by_suffix_or_magic_bytes(tmp_path, text_pdf):
    assert PdfIngester.accepts("paper.PDF")
    assert PdfIngester.accepts(write(tmp_path, "no-suffix", text_pdf))
    assert not PdfIngester.accepts(write(tmp_path, "notes.txt", b"hello"))


def test_user_password_is_refused_without_it_and_opens_with_it(tmp_path, ctx, text_pdf):
    source = write(tmp_path, "locked.pdf", encrypt_pdf(text_pdf, user_password="s3cret"))
    with pytest.raises(InputError, match="password-protected PDF") as refused:
        pdf_ingester().ingest(source, ctx)
    assert "\n" not in str(refused.value)
    with pytest.raises(InputError, match="wrong password"):
        pdf_ingester(password="guess").ingest(source, ctx)
    assert "Chapter two" in pdf_ingester(password="s3cret").ingest(source, ctx).text


def test_empty_user_password_opens_without_asking(tmp_path, ctx, text_pdf):
    source = write(tmp_path, "owner-only.pdf", encrypt_pdf(text_pdf, user_password=""))
    assert "Chapter three" in pdf_ingester().ingest(source, ctx).text


def test_image_only_pdf_is_refused_as_scanned(tmp_path, ctx):
    source = write(tmp_path, "scan.pdf", make_image_pdf())
    with pytest.raises(InputError, match=r"no extractable text \(scanned\?\).*OCR"):
        pdf_ingester().ingest(source, ctx)


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("zero.pdf", lambda pdf: b"", "empty"),
        ("corrupt.pdf", lambda pdf: b"%PDF-1.7\n" + bytes(range(256)) * 20, "not a readable PDF"),
        ("truncated.pdf", lambda pdf: pdf[: len(pdf) // 2], "not a readable PDF"),
        ("header-only.pdf", lambda pdf: b"%PDF-1.4\n%%EOF\n", "not a readable PDF"),
    ],
)
def test_broken_files_are_refused_in_one_line(tmp_path, ctx, text_pdf, name, make, message):
    source = write(tmp_path, name, make(text_pdf))
    with pytest.raises(InputError, match=message) as refused:
        pdf_ingester().ingest(source, ctx)
    assert "\n" not in str(refused.value)


def test_missing_file(ctx, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        pdf_ingester().ingest(str(tmp_path / "absent.pdf"), ctx)


def test_pypdf_noise_is_silenced(tmp_path, ctx, text_pdf, caplog):
    source = write(tmp_path, "truncated.pdf", text_pdf[: len(text_pdf) * 3 // 4])
    with (
        warnings.catch_warnings(record=True) as caught,
        caplog.at_level(logging.DEBUG, logger="pypdf"),
    ):
        warnings.simplefilter("always")
        with contextlib.suppress(InputError):
            pdf_ingester().ingest(source, ctx)
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
    assert not caught
