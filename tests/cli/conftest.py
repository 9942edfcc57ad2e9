"""A cooperative local OpenAI-compatible server for the command-line tests."""

from __future__ import annotations

import pytest

from tests.write.llm_cooperative import cooperative
from tests.write.llm_server import LLMServer


@pytest.fixture
def llm():
    """A local server whose fake model answers every writer prompt on target."""
    server = LLMServer().start()
    server.responder = cooperative
    yield server
    server.stop()
