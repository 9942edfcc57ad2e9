"""Merging several ingested sources into one document (``podcast-gen a.pdf b.html``)."""

from __future__ import annotations

from collections.abc import Sequence

from podcast.models import Document, Section, frozen_mapping

from .language import guess_language

__all__ = ["merge_documents"]


def merge_documents(docs: Sequence[Document]) -> Document:
    """One ``kind="multi"`` document with one section per source, in the given order.

    Each section's heading is that source's title and its text the source's full text
    (inner headings kept as lines).  A single document is returned unchanged.

    :raises ValueError: ``docs`` is empty.
    """
    if not docs:
        raise ValueError("merge_documents needs at least one document")
    if len(docs) == 1:
        return docs[0]
    sections = tuple(Section(doc.title or doc.source, doc.text) for doc in docs)
    title = " + ".join(doc.title for doc in docs[:3] if doc.title)
    if len(docs) > 3:
        title += f" (+{len(docs) - 3} more)"
    metadata = {
        "sources": [doc.source for doc in docs],
        "kinds": [doc.kind for doc in docs],
        "parts": [dict(doc.metadata) for doc in docs],
    }
    language = guess_language("\n".join(s.text for s in sections))
    return Document(
        " ".join(d.source for d in docs),
        "multi",
        title,
        sections,
        language,
        frozen_mapping(metadata),
    )
