"""The ingest stage: sources → one :class:`~podcast.models.Document`.

Ingesters (:class:`podcast.Ingester`, registered by plugins) each read one kind of source.
For a run, :meth:`IngestStage.for_sources` picks the first ingester (highest ``priority``)
that accepts each source, once per source; the stage then runs like every other stage (the
lifecycle hooks fire, the pipeline records it in episode.json) and merges several sources
into one ``multi`` document.  It never reuses a previous result: a source may have changed.
The run folder does not exist yet while it runs (it is named after the document).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, ClassVar

from .errors import InputError
from .models import Document, Episode, Section, content_hash, frozen_mapping
from .stage import Ingester, Stage, StageContext

__all__ = ["IngestStage", "ingest_sources", "merge_documents", "pick_ingester"]


class IngestStage(Stage[Any]):
    """Read every source with its ingester and merge the documents (see the module docstring)."""

    kind: ClassVar[str] = "ingest"
    writes: ClassVar[tuple[str, ...]] = ("document",)

    def __init__(self, picked: Sequence[tuple[Ingester, str]]) -> None:
        super().__init__()
        self.picked = tuple(picked)

    @classmethod
    def for_sources(cls, ingesters: Sequence[Ingester], sources: Sequence[str]) -> IngestStage:
        """The stage for ``sources``, each with the first of ``ingesters`` that accepts it."""
        return cls(pick_each(ingesters, sources))

    @property
    def name(self) -> str:  # type: ignore[override]
        """The ingesters used, e.g. ``pdf`` or ``article,pdf``."""
        return ",".join(sorted({ingester.name for ingester, _ in self.picked}))

    def check(self, ctx: StageContext) -> None:
        for ingester, _ in self.picked:
            ingester.check(ctx)

    def cache_salt(self, ctx: StageContext) -> str:
        """The sources (the document itself is only known after reading them)."""
        return content_hash(*(source for _, source in self.picked))

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        document = merge_documents([ingester.ingest(source, ctx) for ingester, source in self.picked])
        language = episode.language or document.language or "en"
        details = {"sources": content_hash(*(source for _, source in self.picked)), "document": document.hash}
        return replace(episode, document=document, language=language).with_meta(**{"ingest.details": details})

    def reuse(self, episode: Episode, previous: Episode, ctx: StageContext) -> Episode | None:
        """Never: sources are read again on every run."""
        return None


def pick_ingester(ingesters: Sequence[Ingester], source: str) -> Ingester:
    """The first ingester that accepts ``source``; InputError when none does."""
    for ingester in ingesters:
        if ingester.accepts(source):
            return ingester
    names = ", ".join(i.name for i in ingesters) or "none installed"
    raise InputError(f"no ingester accepts {source!r} (tried {names}); pass a URL, PDF, text or Markdown file")


def pick_each(ingesters: Sequence[Ingester], sources: Sequence[str]) -> tuple[tuple[Ingester, str], ...]:
    """Each source with the first ingester that accepts it (chosen once per source)."""
    if not sources:
        raise InputError("no source given; pass a URL, a PDF, a text file or - for stdin")
    return tuple((pick_ingester(ingesters, s), s) for s in sources)


def ingest_sources(ingesters: Sequence[Ingester], sources: Sequence[str], ctx: StageContext) -> Document:
    """Ingest each source with the first accepting ingester; several → one merged document."""
    return merge_documents([ingester.ingest(source, ctx) for ingester, source in pick_each(ingesters, sources)])


def merge_documents(documents: Sequence[Document]) -> Document:
    """One ``multi`` document with one section per source (its title as the heading), in order.

    The language is the one most of the text is in; a single document is returned unchanged.
    """
    if not documents:
        raise ValueError("merge_documents needs at least one document")
    if len(documents) == 1:
        return documents[0]
    sections = tuple(Section(d.title or d.source, d.text) for d in documents)
    title = " + ".join(d.title for d in documents[:3] if d.title)
    if len(documents) > 3:
        title += f" (+{len(documents) - 3} more)"
    weight: dict[str, int] = {}
    for d in documents:
        if d.language:
            weight[d.language] = weight.get(d.language, 0) + len(d.text)
    language = max(weight, key=weight.__getitem__) if weight else None
    meta = {
        "sources": [d.source for d in documents],
        "kinds": [d.kind for d in documents],
        "parts": [dict(d.metadata) for d in documents],
    }
    return Document(" ".join(d.source for d in documents), "multi", title, sections, language, frozen_mapping(meta))
