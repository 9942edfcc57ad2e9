"""The in-process GGUF writer: refusals without the extra or a real GGUF file, and (opt-in, when
the ``local`` extra is installed) a tiny random Llama GGUF run in process."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from podcast.errors import ConfigError, InputError
from podcast.stages.write.llamacpp import GGUF_MAGIC, LlamaCppWriter

from podcast.stages.ingest.text import markdown_document

DOC = markdown_document("# Tides\n\nTidal turbines turn slowly in deep water. Engineers like them because tides are predictable.\n", "t.md")

HAVE_EXTRA = importlib.util.find_spec("xllamacpp") is not None and importlib.util.find_spec("gguf") is not None


def _writer(**options) -> LlamaCppWriter:
    from podcast.options import build_options

    return LlamaCppWriter(build_options(LlamaCppWriter.Options, options, "stages.write.llamacpp"))


def test_model_file_is_required_and_must_be_gguf(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="write.llamacpp.model=PATH.gguf"):
        _writer().model_path()
    with pytest.raises(InputError, match="not found"):
        _writer(model=str(tmp_path / "absent.gguf")).model_path()
    fake = tmp_path / "weights.bin"
    fake.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(InputError, match="is not a GGUF file"):
        _writer(model=str(fake)).model_path()


def test_the_cli_says_how_to_get_the_extra_or_that_the_file_is_wrong(run_cli, tmp_path: Path) -> None:
    from tests.conftest import EXAMPLES, assert_one_line_error

    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"GGML\x00\x00\x00\x00")
    proc = run_cli(str(EXAMPLES / "solar-sails.md"), "--writer", "llamacpp", "--set", f"write.llamacpp.model={fake}", "-o", "out")
    assert_one_line_error(proc, 3, "is not a GGUF file")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("script.txt"))


@pytest.mark.skipif(not HAVE_EXTRA, reason="the local extra is not installed (pip install 'podcast-gen[local]')")
def test_a_tiny_gguf_runs_in_process(write, tmp_path: Path) -> None:
    from podcast.stages.write.llm import UnusableAnswer

    from .tiny_gguf import write_tiny_gguf

    path = write_tiny_gguf(tmp_path / "tiny.gguf", context=16384)  # byte tokens: one per character
    assert path.read_bytes()[:4] == GGUF_MAGIC
    try:
        episode = write(LlamaCppWriter, DOC, {"model": str(path), "threads": 1, "max_tokens": 64, "retries": 0}, minutes=0.2)
    except UnusableAnswer as exc:  # a random model writes gibberish: the writer says so in one line
        assert "llamacpp (in process, model tiny-test-llama)" in str(exc) and "\n" not in str(exc)
        return
    details = episode.meta["write.details"]
    assert details["server"]["context_tokens"] == 16384 and details["model"] == "tiny-test-llama"
