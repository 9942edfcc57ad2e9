"""The shared real-world corpus: 15 saved web pages served from 127.0.0.1, 14 PDFs.

Skipped when the corpus folder is absent (a user's clone).  Matching rules are the
corpus README's: ``en`` collapses whitespace runs, ``zh`` deletes all whitespace, then
case-sensitive substring tests; ``title_contains`` is case-insensitive.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from podcast.errors import InputError
from podcast.options import build_options
from podcast.stages.ingest import PdfIngester, UrlIngester
from tests.conftest import SHARED

# ``INGEST_CORPUS`` overrides; default: ../shared/corpus/ingest next to the repository.
CORPUS = Path(
    os.environ.get("INGEST_CORPUS", SHARED / "corpus" / "ingest")
)
HTML_DIR, PDF_DIR = CORPUS / "html", CORPUS / "pdf"
REQUIRED_PAGES = 12
ERROR_WORDS = {
    "encrypted": "password-protected",
    "no_text_layer": "no extractable text",
    "corrupt": ("not a readable PDF", "is empty"),
}

pytestmark = pytest.mark.skipif(
    not (HTML_DIR.is_dir() and PDF_DIR.is_dir()),
    reason=f"ingest corpus not found at {CORPUS} (it is not shipped with the repository)",
)


def norm(text: str, lang: str) -> str:
    return re.sub(r"\s+", "", text) if lang == "zh" else re.sub(r"\s+", " ", text)


def page_failures(title: str, text: str, expect: dict) -> list[str]:
    """What a page's sidecar expects that the extraction does not deliver."""
    lang, body = expect["lang"], norm(text, expect["lang"])
    failures = []
    if expect["title_contains"].lower() not in title.lower():
        failures.append(f"title {title!r}")
    failures += [f"missing {p!r}" for p in expect["must_contain"] if norm(p, lang) not in body]
    failures += [f"leaked {p!r}" for p in expect["must_not_contain"] if norm(p, lang) in body]
    return failures


def sidecars(folder: Path, suffix: str) -> list[Path]:
    return sorted(folder.glob(f"*{suffix}")) if folder.is_dir() else []


def test_html_pages_meet_their_expectations(http_server, ctx):
    pages = sidecars(HTML_DIR, ".html")
    for page in pages:
        # No charset in the header: the GB2312 page must be decoded from its <meta>.
        http_server.add(f"/corpus/{page.name}", body=page.read_bytes(), content_type="text/html")
    options = build_options(UrlIngester.Options, {"allowed_networks": ("127.0.0.0/8",)}, "t")
    ingester = UrlIngester(options)
    failed = {}
    for page in pages:
        expect = json.loads(page.with_suffix(".expect.json").read_text(encoding="utf-8"))
        try:
            doc = ingester.ingest(http_server.url(f"/corpus/{page.name}"), ctx)
            problems = page_failures(doc.title, doc.text, expect)
        except InputError as exc:
            problems = [f"refused: {exc}"]
        if problems:
            failed[page.stem] = problems
        else:
            assert doc.language == expect["lang"], page.name
    passed = len(pages) - len(failed)
    print(f"\ncorpus pages: {passed}/{len(pages)} pass")
    for name, problems in failed.items():
        print(f"  FAIL {name}: {'; '.join(problems)}")
    assert len(pages) == 15
    assert passed >= REQUIRED_PAGES, failed


@pytest.mark.parametrize("pdf", sidecars(PDF_DIR, ".pdf"), ids=lambda p: p.stem)
def test_pdf_behaves_as_expected(pdf, ctx):
    expect = json.loads(pdf.with_suffix(".expect.json").read_text(encoding="utf-8"))
    assert PdfIngester.accepts(str(pdf))
    if expect["expect"] == "error":
        with pytest.raises(InputError) as refused:
            PdfIngester().ingest(str(pdf), ctx)
        message = str(refused.value)
        words = ERROR_WORDS[expect["error_kind"]]
        assert any(w in message for w in ((words,) if isinstance(words, str) else words)), message
        assert "\n" not in message
        return
    doc = PdfIngester().ingest(str(pdf), ctx)
    text = norm(doc.text, expect["lang"])
    missing = [p for p in expect["must_contain"] if norm(p, expect["lang"]) not in text]
    assert not missing
    assert doc.language == expect["lang"]
