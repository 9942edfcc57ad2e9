"""Shared constants and builders for the writer tests."""

from __future__ import annotations

from podcast.models import Document, Section

KEY = "sk-test-SECRET-0123456789abcdef"
FAST = {"timeout": 5, "retries": 2, "backoff": 0.01, "max_wait": 5}


def document(text: str, title: str = "Testing software", language: str = "en") -> Document:
    sections = tuple(Section(h, t) for h, t in _sections(text))
    return Document("doc.md", "markdown", title, sections, language)


def _sections(text: str) -> list[tuple[str, str]]:
    parts, heading, body = [], "", []
    for line in text.splitlines():
        if line.startswith("## "):
            if body:
                parts.append((heading, "\n".join(body).strip()))
            heading, body = line[3:].strip(), []
        else:
            body.append(line)
    parts.append((heading, "\n".join(body).strip()))
    return [p for p in parts if p[1]]
