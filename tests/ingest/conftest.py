"""Fixtures for ingest tests: PDFs made with fpdf2 (the HTTP server is in tests/conftest.py)."""

from __future__ import annotations

import pytest

from podcast.config import Config
from podcast.stage import StageContext

from .ingest_helpers import make_text_pdf


@pytest.fixture
def ctx() -> StageContext:
    return StageContext(config=Config())


@pytest.fixture(scope="session")
def text_pdf() -> bytes:
    return make_text_pdf()
