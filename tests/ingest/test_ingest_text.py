
"""Text, Markdown, script and stdin ingestion; language guess; merging; ingester choice."""

from __future__ import annotations

import io
import sys

import pytest

import podcast.stages.ingest as ingest_plugin
from podcast.errors import InputError
from podcast.models import Document, Section
from podcast.options import build_options
from podcast.pipeline import merge_documents
from podcast.plugins import Plugins
from podcast.stages.ingest import TextIngester, guess_language
from podcast.stages.ingest.language import cjk_ratio

from .ingest_helpers import ARTICLE, make_text_pdf, write

ZH = (
    "人工智能的发展\n\n"
    "今天我们来聊一聊人工智能的发展历史。从图灵测试到深度学习，这条路走了七十多年。\n\n"
    "第二段：大模型时代来了。"
)
EN = (
    "A Short History of Radio\n\n"
    "Radio began as a curiosity in physics laboratories.\n\n"
    "Within thirty years it was in every kitchen."
)


def text_ingester(**options: object) -> TextIngester:
    return TextIngester(build_options(TextIngester.Options, options, "stages.ingest.text"))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "gb18030", "gbk"])
def test_chinese_encodings_are_detected(tmp_path, ctx, encoding):
    doc = text_ingester().ingest(write(tmp_path, "notes.txt", ZH.encode(encoding)), ctx)
    assert doc.title == "人工智能的发展"
    assert "从图灵测试到深度学习，这条路走了七十多年。" in doc.text
    assert doc.language == "zh"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16"])
def test_english_encodings(tmp_path, ctx, encoding):
    doc = text_ingester().ingest(write(tmp_path, "radio.txt", EN.encode(encoding)), ctx)
    assert doc.title == "A Short History of Radio"
    assert doc.sections[0].text.split("\n\n") == [
        "Radio began as a curiosity in physics laboratories.",
        "Within thirty years it was in every kitchen.",
    ]
    assert doc.language == "en"
    assert doc.kind == "text"


def test_forced_encoding_and_bad_forced_encoding(tmp_path, ctx):
    source = write(tmp_path, "zh.txt", ZH.encode("gbk"))
    assert "七十多年" in text_ingester(encoding="gbk").ingest(source, ctx).text
    with pytest.raises(InputError, match="not valid utf-8"):
        text_ingester(encoding="utf-8").ingest(source, ctx)


def test_long_first_line_is_not_a_title(tmp_path, ctx):
    body = "This first line is a full sentence that ends with a period.\n\nMore text follows."
    doc = text_ingester().ingest(write(tmp_path, "memo.txt", body.encode()), ctx)
    assert doc.title == "memo"
    assert doc.text.startswith("This first line")


MARKDOWN = """---
author: Grace Hopper
---
# Compilers for Everyone

An **introduction** with a [link](https://example.com) and `code`.

## History
Setext and ATX headings both count.

```python
# not a heading inside a fence
print("hi")
```

Second Part
-----------
Closing words.
"""


def test_markdown_headings_become_sections(tmp_path, ctx):
    doc = text_ingester().ingest(write(tmp_path, "guide.md", MARKDOWN.encode()), ctx)
    assert doc.kind == "markdown"
    assert doc.title == "Compilers for Everyone"
    assert doc.metadata["author"] == "Grace Hopper"
    assert [s.heading for s in doc.sections] == ["", "History", "Second Part"]
    assert doc.sections[0].text == "An introduction with a link and code."
    assert "# not a heading inside a fence" in doc.sections[1].text
    assert doc.sections[2].text == "Closing words."


def test_markdown_without_h1_uses_the_file_stem(tmp_path, ctx):
    doc = text_ingester().ingest(write(tmp_path, "release-notes.md", b"## Fixed\nA crash.\n"), ctx)
    assert doc.title == "release-notes"
    assert doc.sections == (Section("Fixed", "A crash."),)


def test_stdin_is_read_as_bytes(monkeypatch, ctx):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ZH.encode("gb18030"))))
    assert text_ingester().accepts("-")
    doc = text_ingester().ingest("-", ctx)
    assert doc.source == "-"
    assert "大模型时代来了" in doc.text


def test_missing_file_and_directory(tmp_path, ctx):
    with pytest.raises(InputError, match="no such file"):
        text_ingester().ingest(str(tmp_path / "nope.txt"), ctx)
    with pytest.raises(InputError, match="is a directory"):
        text_ingester().ingest(str(tmp_path), ctx)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_bom_is_found_by_its_nul_pattern(tmp_path, ctx, codec):
    doc = text_ingester().ingest(write(tmp_path, "radio.txt", EN.encode(codec)), ctx)
    assert doc.title == "A Short History of Radio"
    assert "every kitchen" in doc.text


def test_a_fifo_is_refused_without_blocking(tmp_path, ctx):
    import os

    from podcast.ingesting import pick_ingester

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block forever
    ingesters = [cls() for cls in ingest_plugin.INGESTERS]
    picked = pick_ingester(sorted(ingesters, key=lambda i: -i.priority), str(fifo))
    with pytest.raises(InputError, match="is a FIFO"):
        picked.ingest(str(fifo), ctx)


def test_files_over_the_size_limit_are_refused_with_the_option_that_raises_it(tmp_path, ctx):
    path = write(tmp_path, "big.txt", b"word " * 400)
    with pytest.raises(InputError, match=r"big\.txt is 2000 bytes, over the 1000 bytes size limit.*ingest\.text\.max_bytes"):
        text_ingester(max_bytes=1000).ingest(path, ctx)
    assert "word" in text_ingester(max_bytes=2000).ingest(path, ctx).text


def test_stdin_over_the_size_limit_is_refused_after_reading_only_the_limit(monkeypatch, ctx):
    stream = io.BytesIO(b"word " * 1000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stream))
    with pytest.raises(InputError, match=r"standard input is larger than the 100 bytes size limit"):
        text_ingester(max_bytes=100).ingest("-", ctx)
    assert stream.tell() < 5000


def test_binary_and_empty_files_are_refused(tmp_path, ctx):
    with pytest.raises(InputError, match="looks binary"):
        text_ingester().ingest(write(tmp_path, "blob.bin", b"\x00\x01\x02" * 50), ctx)
    with pytest.raises(InputError, match="no text"):
        text_ingester().ingest(write(tmp_path, "blank.txt", b"  \n\n "), ctx)


# ── scripts ─────────────────────────────────────────────────────────────────────

SCRIPT = "# Episode 1\n[S1]Welcome to the show.\n## Part two\n[S2]Thanks for having me.\n"


def test_script_files_are_detected_and_kept_verbatim(tmp_path, ctx):
    from podcast.stages.ingest import ScriptIngester

    source = write(tmp_path, "draft.txt", SCRIPT.encode())
    assert ScriptIngester.accepts(source)
    assert ScriptIngester.accepts("anything.script.txt")
    assert not ScriptIngester.accepts(write(tmp_path, "plain.txt", EN.encode()))
    doc = ScriptIngester().ingest(source, ctx)
    assert doc.kind == "script"
    assert doc.title == "Episode 1"
    assert doc.sections == (Section("", SCRIPT.strip()),)
    assert doc.language == "en"


def test_script_suffix_without_turns_is_refused(tmp_path, ctx):
    from podcast.stages.ingest import ScriptIngester

    with pytest.raises(InputError, match="not a valid"):
        ScriptIngester().ingest(write(tmp_path, "x.script.txt", b"just prose\n"), ctx)


# ── choosing an ingester (through the real plugin registry) ─────────────────────


def first_accepting(source: str) -> str:
    plugins = Plugins()
    plugins.register(ingest_plugin, "podcast.stages.ingest")
    return next(e.name for e in plugins.ingesters() if e.cls.accepts(source))


def test_registry_picks_by_capability(tmp_path, monkeypatch):
    assert first_accepting("https://example.com/post") == "url"
    assert first_accepting(write(tmp_path, "a.pdf", make_text_pdf())) == "pdf"
    assert first_accepting(write(tmp_path, "page.html", b"<html><body>x</body></html>")) == "html"
    assert first_accepting(write(tmp_path, "saved", b"<!DOCTYPE html><html></html>")) == "html"
    assert first_accepting(write(tmp_path, "s.txt", SCRIPT.encode())) == "script"
    assert first_accepting(write(tmp_path, "n.md", b"# Hi")) == "text"
    assert first_accepting(str(tmp_path / "missing.txt")) == "text"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(make_text_pdf())))
    assert first_accepting("-") == "pdf"


def test_saved_html_file(tmp_path, ctx):
    from podcast.stages.ingest import HtmlIngester

    doc = HtmlIngester().ingest(write(tmp_path, "saved.html", ARTICLE.encode()), ctx)
    assert doc.kind == "html"
    assert "unharmed" in doc.text
    assert "Reader42" not in doc.text


# ── language and merging ────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (EN, "en"),
        (ZH, "zh"),
        ("我们使用 Python 和 PyTorch 训练模型，效果很好。", "zh"),
        ("The word 你好 means hello in Mandarin Chinese, as every phrasebook says.", "en"),
        ("1234 5678 !!!", "en"),
    ],
)
def test_language_guess(text, language):
    assert guess_language(text) == language


def test_cjk_ratio_bounds():
    assert cjk_ratio("") == 0.0
    assert cjk_ratio("中文") == 1.0
    assert cjk_ratio("abc") == 0.0


def test_merge_keeps_one_section_per_source():
    a = Document("a.txt", "text", "First", (Section("", "Alpha text."),), "en")
    b = Document(
        "b.md",
        "markdown",
        "Second",
        (Section("Part", "Beta text."), Section("More", "Gamma.")),
        "en",
    )
    merged = merge_documents([a, b])
    assert merged.kind == "multi"
    assert merged.title == "First + Second"
    assert [s.heading for s in merged.sections] == ["First", "Second"]
    assert merged.sections[1].text == "Part\n\nBeta text.\n\nMore\n\nGamma."
    assert merged.metadata["sources"] == ["a.txt", "b.md"]
    assert merged.language == "en"
    assert merge_documents([a]) is a
    with pytest.raises(ValueError):
        merge_documents([])
