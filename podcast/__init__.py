"""podcast-gen: turn documents into two-host podcast episodes through pluggable stages.

The public API for plugin authors::

    import podcast

    @podcast.hookimpl
    def register_stages(register):
        register(MyStage)
"""

from __future__ import annotations

from .errors import PodcastError
from .hookspecs import hookimpl
from .models import Chapter, Clip, Document, Episode, Outputs, Rendering, Script, Section, Segment, Speaker, Turn, Voice

__all__ = [
    "Chapter",
    "Clip",
    "Document",
    "Episode",
    "Outputs",
    "PodcastError",
    "Rendering",
    "Script",
    "Section",
    "Segment",
    "Speaker",
    "Turn",
    "Voice",
    "hookimpl",
]
