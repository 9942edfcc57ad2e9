"""Hook specifications: the whole plugin API of podcast-gen.

A plugin is any module or object with functions marked ``@podcast.hookimpl`` whose names
match the specs below.  Built-in stages are registered through exactly these hooks; external
plugins are found through the ``podcast_gen`` entry-point group.

Collection hooks (``register_*``) receive a ``register`` callback and may call it any number
of times; the host owns the registries and rejects duplicate names.  Lifecycle hooks observe
the pipeline and must not change the episode.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    from typer import Typer

    from .models import Episode
    from .stage import Stage
    from .synthesis import Engine

__all__ = ["NormalizationProfile", "hookimpl", "hookspec"]


class NormalizationProfile(Protocol):
    """What ``register_normalizers`` accepts: a named text normalizer."""

    name: str
    description: str

    def normalize(self, text: str, language: str) -> str:
        """Spoken form of MOSS-form ``text`` (``[S1]…[S2]…``) in ``language``."""
        ...

PROJECT = "podcast"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_stages(register: Callable[[type[Stage]], None]) -> None:
    """Register stage classes.

    :param register: call ``register(StageClass)`` once per class, a subclass of
        :class:`podcast.Stage` (else :class:`podcast.errors.PluginError`).  A class declares
        ``kind`` (``ingest``, ``write``, ``normalize``, ``master`` or a custom kind such as
        ``translate``) and ``name`` (the config value that selects it).  Ingesters (kind
        ``ingest``) subclass :class:`podcast.Ingester` and are chosen by capability;
        every other kind is chosen by name.  A duplicate ``(kind, name)`` raises
        :class:`podcast.errors.PluginError` naming both plugins.

    Called once when plugins are loaded.  Not firstresult: every implementation runs.
    """


@hookspec
def register_synthesizers(register: Callable[[type[Engine[Any]]], None]) -> None:
    """Register speech-synthesis engines.

    :param register: call ``register(EngineClass)`` with a concrete subclass of
        :class:`podcast.TurnEngine` or :class:`podcast.DialogueEngine` that sets ``name``
        (anything else raises :class:`podcast.errors.PluginError` naming the plugin).
        Each engine becomes a ``synthesize`` stage of the same ``name`` (so its options live
        under ``[stages.synthesize.<name>]``); the pipeline packs turns into blocks, caches,
        resamples and records timings for it.  Engines use the kit in :mod:`podcast.kit`
        and the shared neural building blocks in :mod:`podcast.neural`.

    Called once when plugins are loaded.  Not firstresult.
    """


@hookspec
def register_normalizers(register: Callable[[NormalizationProfile], None]) -> None:
    """Register text-normalization profiles.

    :param register: call ``register(profile)`` with an object that has ``name``,
        ``description`` and ``normalize(text: str, language: str) -> str`` working on
        MOSS-form text (``[S1]…[S2]…``).  Engines name the profile they need in their
        capabilities; users pick one with ``--set normalize.standard.profile=NAME``.

    Called once when plugins are loaded.  Not firstresult.
    """


@hookspec
def register_prompt_dirs(register: Callable[[Path], None]) -> None:
    """Register directories that hold LLM prompt templates.

    :param register: call ``register(path)``; the layout inside is
        ``<stage>/<purpose>.<language>.md``.  Search order: the user's override directory,
        then plugin directories in registration order, then the built-in ``podcast.prompts``.

    Called when a writer first looks up a prompt.  Not firstresult.
    """


@hookspec
def register_publishers(register: Callable[[type[Any]], None]) -> None:
    """Register show publishers: what runs after ``podcast-gen show run`` has written a show's
    ``public/`` folder (upload to object storage, SFTP, a CMS …).

    :param register: call ``register(PublisherClass)`` with a subclass of
        :class:`podcast.stages.show.publishers.Publisher` that has a unique ``name`` and a
        ``publish(show, summary) -> str`` method (``show`` is the show's settings, ``summary``
        the run's report as printed by ``--json``; return a one-line message, raise a
        :class:`podcast.PodcastError` on failure). Shows pick publishers by name in
        ``[publish] publishers = [...]``; ``folder`` and ``command`` are built in.

    Called when a show run publishes.  Not firstresult.
    """


@hookspec
def register_commands(app: Typer) -> None:
    """Add subcommands to the command-line interface.

    :param app: the root :class:`typer.Typer` application; use ``@app.command()``.
        Commands must stay thin: parse, load config, call the library, render.

    Called once while the CLI application is built (``podcast.cli.make_app``).  Not firstresult.
    """


@hookspec
def stage_started(stage: Stage, episode: Episode) -> None:
    """A stage is about to run (or be reused from the previous run).

    :param stage: the configured stage instance.
    :param episode: the episode it receives.

    Called by the pipeline before every stage.  Not firstresult; return values are ignored.
    """


@hookspec
def stage_progress(stage: Stage, completed: float, total: float | None, description: str) -> None:
    """A long-running stage reports progress.

    :param stage: the running stage.
    :param completed: units done so far (turns, blocks, bytes…).
    :param total: units expected in all, or ``None`` when unknown.
    :param description: a short human label of the current unit.

    Called from :meth:`podcast.stage.StageContext.progress`.  Not firstresult.
    """


@hookspec
def stage_finished(stage: Stage, episode: Episode, elapsed: float, cached: bool) -> None:
    """A stage has finished.

    :param stage: the stage that ran.
    :param episode: the episode it returned.
    :param elapsed: wall time in seconds.
    :param cached: ``True`` when the stage's result was reused from the previous run.

    Called by the pipeline after every successful stage.  Not firstresult.
    """
