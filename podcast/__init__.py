"""podcast-gen: turn documents into two-host podcast episodes through pluggable stages.

This module is the whole public SDK; plugins (and the built-in stages and engines) import
from here, plus :mod:`podcast.audio` for audio files, :mod:`podcast.testing` in tests and
:mod:`podcast.neural` for shared neural building blocks (that one imports torch)::

    from podcast import hookimpl, option, TurnEngine, Capabilities, Audio

    @hookimpl
    def register_synthesizers(register):
        register(MyEngine)

What is here:

* hooks: :data:`hookimpl` (the marker for the hooks of :mod:`podcast.hookspecs`);
* stages: :class:`Stage`, :class:`StageContext`, :class:`Ingester`, :class:`Writer`,
  :func:`option` (declare an option field);
* engines (:mod:`podcast.synthesis`): :class:`Engine`, :class:`TurnEngine`,
  :class:`DialogueEngine`, :class:`Capabilities`, :class:`Audio`, :class:`Block`,
  :class:`BlockAudio`, :class:`Prompt`, :class:`DialogueOptions`, :class:`EngineContext`;
* the engine kit (:mod:`podcast.kit`): :func:`find_weights`, :func:`estimate_turn_spans`,
  :func:`estimate_seconds`, :class:`MemoryModel`, :func:`free_device_bytes`,
  :func:`resolve_device` and friends;
* the data model (:mod:`podcast.models`), the error classes (:mod:`podcast.errors`) and the
  atomic file writers (:func:`atomic_write_text` and friends: temp file + rename).

Importing ``podcast`` stays light: no numpy, torch or typer.
"""

from __future__ import annotations

from . import kit
from .config import Config
from .errors import (
    ConfigError,
    InputError,
    LockedError,
    MissingModelError,
    OutputError,
    PluginError,
    PodcastError,
    StageError,
    SynthesisError,
    UnknownStageError,
    UpstreamError,
)
from .hookspecs import hookimpl
from .kit import (
    CHARS_PER_SECOND,
    DTYPE_BYTES,
    MemoryModel,
    estimate_seconds,
    estimate_turn_spans,
    find_weights,
    free_device_bytes,
    hub_cache,
    kv_bytes_per_position,
    missing_files,
    missing_safetensors,
    peak_rss_mb,
    podcast_cache,
    proportional_spans,
    resolve_device,
    snapshot_of,
    text_weight,
)
from .models import (
    Chapter,
    Clip,
    Document,
    Episode,
    Outputs,
    Rendering,
    Script,
    Section,
    Segment,
    Speaker,
    StageRecord,
    Turn,
    Voice,
    content_hash,
)
from .options import option
from .runfiles import atomic_write_bytes, atomic_write_json, atomic_write_text
from .stage import Ingester, Stage, StageContext
from .synthesis import (
    Audio,
    Block,
    BlockAudio,
    Capabilities,
    DialogueEngine,
    DialogueOptions,
    Engine,
    EngineContext,
    Prompt,
    TurnEngine,
)
from .writing import Writer

__all__ = [
    "Audio",
    "Block",
    "BlockAudio",
    "CHARS_PER_SECOND",
    "Capabilities",
    "Chapter",
    "Clip",
    "Config",
    "ConfigError",
    "DTYPE_BYTES",
    "DialogueEngine",
    "DialogueOptions",
    "Document",
    "Engine",
    "EngineContext",
    "Episode",
    "Ingester",
    "InputError",
    "LockedError",
    "MemoryModel",
    "MissingModelError",
    "OutputError",
    "Outputs",
    "PluginError",
    "PodcastError",
    "Prompt",
    "Rendering",
    "Script",
    "Section",
    "Segment",
    "Speaker",
    "Stage",
    "StageContext",
    "StageError",
    "StageRecord",
    "SynthesisError",
    "TurnEngine",
    "UnknownStageError",
    "UpstreamError",
    "Voice",
    "Writer",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "content_hash",
    "estimate_seconds",
    "estimate_turn_spans",
    "find_weights",
    "free_device_bytes",
    "hookimpl",
    "hub_cache",
    "kit",
    "kv_bytes_per_position",
    "missing_files",
    "missing_safetensors",
    "peak_rss_mb",
    "option",
    "podcast_cache",
    "proportional_spans",
    "resolve_device",
    "snapshot_of",
    "text_weight",
]
