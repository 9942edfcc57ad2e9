"""Built-in master stage: loudness mastering and packaging (``master.standard``; the
``podcast-gen master`` command lives in :mod:`podcast.cli`).  Modules here import
numpy/scipy/pedalboard only inside functions, so loading the plugin stays cheap."""

from __future__ import annotations

from collections.abc import Callable

from podcast import hookimpl

from .stage import MasterStage

__all__ = ["MasterStage"]


@hookimpl
def register_stages(register: Callable[[type], None]) -> None:
    register(MasterStage)
