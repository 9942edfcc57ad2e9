"""The stage contract: what every pipeline step (built-in or plugin) implements.

A stage is a class with ``kind`` and ``name`` class variables, a nested frozen dataclass
``Options`` (every field documented with :func:`podcast.options.option`) and a
``run(episode, ctx) -> Episode`` method that returns a *new* episode.  ``reads`` and
``writes`` name the :class:`~podcast.models.Episode` fields the stage depends on and sets:
the pipeline hashes the ``reads`` fields (plus the stage's name, version and options) into
a cache key and, when the previous run recorded the same key, reuses the ``writes`` fields
instead of running the stage again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .errors import StageError

if TYPE_CHECKING:
    from .config import Config
    from .models import Document, Episode
    from .plugins import Plugins

__all__ = ["Ingester", "Stage", "StageContext"]


@dataclass(frozen=True, slots=True)
class _NoOptions:
    """This stage has no options."""


@dataclass(frozen=True, slots=True)
class StageContext:
    """What the pipeline gives a stage besides the episode.

    ``run_dir`` is ``None`` only during ingest (the folder is named after the document).
    ``stages`` maps each pipeline kind to its configured stage, so a stage can consult
    another.  ``plugins`` is the run's registry (stages, engines, normalization profiles,
    prompt folders): use it, never a process-wide one.  ``normalizer`` is the
    text-normalization profile the selected synthesizer declares, resolved once by the
    pipeline.
    """

    config: Config
    run_dir: Path | None = None
    seed: int = 0
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("podcast"))
    stages: Mapping[str, Stage] = field(default_factory=dict)
    report: Callable[[float, float | None, str], None] | None = None
    plugins: Plugins | None = None
    normalizer: str = "podcast"

    def progress(self, completed: float, total: float | None, description: str = "") -> None:
        """Report progress of long work (shown as a progress bar by the CLI)."""
        if self.report is not None:
            self.report(completed, total, description)

    def require_run_dir(self) -> Path:
        """The episode folder; raises :class:`StageError` when called during ingest."""
        if self.run_dir is None:
            raise StageError("this stage needs the episode folder, which ingest has not named yet")
        return self.run_dir


O = TypeVar("O")


class Stage(Generic[O]):
    """Base class of every stage.  Subclasses set ``kind`` and ``name`` and implement ``run``.

    ``Stage[MyOptions]`` types ``self.options``.  One instance is built per pipeline (after
    every option was validated); :meth:`check` runs for every stage before any stage runs,
    then :meth:`run` (or :meth:`reuse`) once per episode.
    """

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    reads: ClassVar[tuple[str, ...]] = ()
    writes: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type] = _NoOptions
    rank: ClassVar[int] = 0

    def __init__(self, options: O | None = None) -> None:
        self.options: O = options if options is not None else self.Options()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.kind}.{self.name}>"

    @property
    def id(self) -> str:
        """``kind.name``, as used in config and messages."""
        return f"{self.kind}.{self.name}"

    def check(self, ctx: StageContext) -> None:
        """Validate before any stage runs (capabilities, files, keys).  Raise a
        :class:`~podcast.errors.PodcastError` subclass to refuse early."""

    def cache_salt(self, ctx: StageContext) -> str:
        """Inputs besides the ``reads`` fields and the options that change this stage's result
        (config values, files it reads, a server's URL), as text hashed into the cache key.
        The default is empty: the result depends on the episode and the options only."""
        return ""

    @classmethod
    def preference(cls, options: Any) -> int:
        """This implementation's rank when the user selects ``auto`` for its kind (see
        :mod:`podcast.selection`): the highest-ranked one that can run is chosen; 0 or less
        means "only when asked for by name".  The default is the class variable ``rank``."""
        return cls.rank

    @classmethod
    def unavailable(cls, options: Any, config: Config, env: Mapping[str, str]) -> str | None:
        """Why this implementation cannot run here with ``options`` (a missing key, server or
        model), as one line, or ``None`` when it can.  Asked by ``auto`` before choosing; must
        be cheap.  ``env`` is the process environment (given, so tests can pass their own)."""
        return None

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        """Return a new episode with this stage's ``writes`` fields set."""
        raise NotImplementedError

    def reuse(self, episode: Episode, previous: Episode, ctx: StageContext) -> Episode | None:
        """Return ``episode`` completed from the previous run's result, or ``None`` to run.

        Called only when the previous run recorded the same cache key.  The default copies
        the ``writes`` fields when every file they reference still exists.
        """
        from dataclasses import replace

        from .serialize import paths_in

        values = {name: getattr(previous, name) for name in self.writes}
        if any(not p.exists() for p in paths_in(values)):
            return None
        return replace(episode, **values)


class Ingester(Stage):
    """A stage that turns one source (path, URL or ``-``) into a :class:`Document`.

    The pipeline asks each ingester, highest ``priority`` first, whether it ``accepts`` a
    source, and the first that does handles it.  Plugins add formats (EPUB, DOCX) this way.
    """

    kind: ClassVar[str] = "ingest"
    priority: ClassVar[int] = 0

    @classmethod
    def accepts(cls, source: str) -> bool:
        """Whether this ingester handles ``source`` (scheme, suffix or sniffed bytes)."""
        raise NotImplementedError

    def ingest(self, source: str, ctx: StageContext) -> Document:
        """Read ``source`` and return its document; raise InputError/UpstreamError on failure."""
        raise NotImplementedError
