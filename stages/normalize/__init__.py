"""Text normalization: make a script speakable for the selected engine.

Built-in plugin module (listed in ``podcast.plugins.DEFAULT_PLUGINS``).  It registers the
``normalize.standard`` stage and the ``podcast`` and ``moss-v0.5/0.7/1.0`` profiles (the
``podcast-gen normalize`` command lives in :mod:`podcast.cli`).  Everything heavy is imported inside the hooks, so
importing this package at CLI start-up costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from podcast import hookimpl

__all__ = ["register_normalizers", "register_stages"]


@hookimpl
def register_normalizers(register: Callable[[Any], None]) -> None:
    """Register the built-in profiles (``podcast`` first)."""
    from .profiles import builtin_profiles

    for profile in builtin_profiles():
        register(profile)


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    """Register ``normalize.standard``."""
    from .stage import NormalizeStage

    register(NormalizeStage)
