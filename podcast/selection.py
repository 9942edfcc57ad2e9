"""``auto``: choose an implementation of a kind by declared rank and availability.

When the configuration selects ``auto`` for a kind (the default for ``write`` and
``synthesize``), every installed implementation of that kind — built-in or plugin — is a
candidate.  Candidates are ordered by their declared rank (:meth:`podcast.Stage.preference`:
``Stage.rank``, or for engines ``Capabilities.rank``; a rank of 0 or less means "only when
asked for by name"), and the first whose :meth:`podcast.Stage.unavailable` probe finds
nothing missing is chosen.  Why it was chosen is recorded in the stage's record in
episode.json (``details.selected``); when it had to fall back to the last resort (the
lowest-ranked candidate: the offline writer, espeak), a one-line note says so and why the
others could not run (the pipeline records it in ``episode.warnings``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import ConfigError
from .options import build_options

if TYPE_CHECKING:
    from .config import Config
    from .plugins import Plugins

__all__ = ["AUTO", "Choice", "choose", "explain_choice"]

AUTO = "auto"
NOUNS = {"write": "writer", "synthesize": "synthesizer"}


def choose(kind: str, plugins: Plugins, config: Config, env: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """The implementation of ``kind`` that ``auto`` selects, and a note when it fell back."""
    choice = explain_choice(kind, plugins, config, env)
    return choice.name, choice.note


@dataclass(frozen=True, slots=True)
class Choice:
    """What ``auto`` chose: ``name``, a ``note`` for the user when it fell back to the last
    resort, and ``reason``, one line that says why (recorded in the stage's record)."""

    name: str
    note: str | None
    reason: str


def explain_choice(kind: str, plugins: Plugins, config: Config, env: Mapping[str, str] | None = None) -> Choice:
    """Like :func:`choose`, with the reason for the choice."""
    env = os.environ if env is None else env
    noun = NOUNS.get(kind, f"{kind} stage")
    skipped: list[tuple[str, str]] = []
    ranked = _ranked(kind, plugins, config)
    for position, (rank, name, cls, options) in enumerate(ranked):
        reason = cls.unavailable(options, config, env)
        if reason is not None:
            skipped.append((name, reason))
            continue
        why = f"auto chose {name}: rank {rank}, the best-ranked {noun} that can run here"
        logging.getLogger("podcast").debug("%s: %s", noun, why)
        last_resort = skipped and position == len(ranked) - 1
        note = f"{noun}: {_reasons(skipped)}; using the {name} {noun}" if last_resort else None
        return Choice(name, note, why + (f" (skipped: {_reasons(skipped)})" if skipped else ""))
    if not skipped:
        raise ConfigError(f"no installed {noun} can be chosen by auto; choose one with --stage {kind}=NAME")
    raise ConfigError(f"no {noun} can run here ({_reasons(skipped)})")


def _reasons(skipped: list[tuple[str, str]]) -> str:
    """Why candidates were skipped, in one phrase: reasons that differ only in their detail in
    parentheses are told once (``no LLM key configured (OPENAI_API_KEY, GEMINI_API_KEY)``)."""
    heads = {reason.split(" (", 1)[0] for _, reason in skipped}
    if len(heads) == 1 and all(" (" in reason and reason.endswith(")") for _, reason in skipped):
        details = ", ".join(reason.split(" (", 1)[1][:-1] for _, reason in skipped)
        return f"{heads.pop()} ({details})"
    return "; ".join(f"{name}: {reason}" for name, reason in skipped)


def _ranked(kind: str, plugins: Plugins, config: Config) -> list[tuple[int, str, type, object]]:
    found = []
    for (entry_kind, name), entry in plugins.stages().items():
        if entry_kind != kind:
            continue
        options = build_options(entry.cls.Options, config.options_for(kind, name), f"stages.{entry.id}")
        rank = entry.cls.preference(options)
        if rank > 0:
            found.append((rank, name, entry.cls, options))
    return sorted(found, key=lambda item: (-item[0], item[1]))
