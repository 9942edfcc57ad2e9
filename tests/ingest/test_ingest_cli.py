"""Ingestion through the real console script: --allow-private-urls, bad inputs, stdin."""

from __future__ import annotations

import json

import pytest

from podcast.errors import EXIT_INPUT, EXIT_UPSTREAM
from tests.conftest import assert_one_line_error

from .ingest_helpers import encrypt_pdf, make_image_pdf, make_text_pdf
from .test_ingest_url import ARTICLE


@pytest.fixture(scope="module", autouse=True)
def cli_routes(http_server):
    http_server.add("/cli-article", body=ARTICLE.encode(), content_type="text/html; charset=utf-8")
    http_server.add("/cli-gone", 404, b"gone", "text/plain")


def test_private_url_needs_the_flag(run_cli, http_server):
    url = http_server.url("/cli-article")
    refused = run_cli("ingest", url, "--json")
    assert_one_line_error(refused, EXIT_INPUT, "--allow-private-urls")
    assert json.loads(refused.stdout) == {"ok": False, "exit_code": EXIT_INPUT, "error": refused.stderr.strip().removeprefix("error: "), "kind": "error", "warnings": []}
    allowed = run_cli("ingest", url, "--allow-private-urls", "--json")
    assert allowed.returncode == 0, allowed.stderr
    document = json.loads(allowed.stdout)
    assert document["title"] == "Tidal power returns to the Severn estuary"
    assert "let fish swim through them unharmed" in document["text"]
    assert document["kind"] == "url" and document["language"] == "en"


def test_http_errors_exit_upstream(run_cli, http_server):
    assert_one_line_error(run_cli("ingest", http_server.url("/cli-gone"), "--allow-private-urls"), EXIT_UPSTREAM, "404")


@pytest.mark.parametrize(
    ("name", "data", "fragment"),
    [
        ("empty.pdf", b"", "empty"),
        ("locked.pdf", None, "password"),
        ("scan.pdf", None, "scanned"),
        ("corrupt.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage", "not a readable pdf"),
        ("truncated.pdf", None, "not a readable pdf"),
    ],
)
def test_bad_pdfs_leave_nothing_behind(run_cli, tmp_path, name, data, fragment):
    if data is None:
        data = {
            "locked.pdf": lambda: encrypt_pdf(make_text_pdf(), "secret"),
            "scan.pdf": make_image_pdf,
            "truncated.pdf": lambda: make_text_pdf()[: len(make_text_pdf()) // 2],
        }[name]()
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "out"
    assert_one_line_error(run_cli(str(source), "-o", str(out)), EXIT_INPUT, fragment)
    assert not out.exists()


def test_stdin_markdown_is_an_episode_source(run_cli, tmp_path):
    text = "# Tiny\n\n## One\n\nThe first section says something useful about stdin.\n\n## Two\n\nThe second section closes it.\n"
    proc = run_cli("ingest", "-", "--json", input=text)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["title"] == "Tiny"
    assert [s["heading"] for s in document["sections"]] == ["One", "Two"]
