"""User-facing errors and the exit codes the CLI maps them to.

Every subclass of :class:`PodcastError` is an expected failure: the CLI prints its
message as one line (no traceback unless ``--debug``) and exits with ``exit_code``.
Anything else is a bug and exits with :data:`EXIT_INTERNAL`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INPUT = 3
EXIT_UPSTREAM = 4
EXIT_SYNTHESIS = 5
EXIT_LOCKED = 6
EXIT_OUTPUT = 7
EXIT_PARTIAL = 8  # a show run published some items and failed others
EXIT_INTERRUPTED = 130

__all__ = [
    "ConfigError",
    "InputError",
    "LockedError",
    "MissingModelError",
    "OutputError",
    "PluginError",
    "PodcastError",
    "StageError",
    "SynthesisError",
    "UnknownStageError",
    "UpstreamError",
]


class PodcastError(Exception):
    """Base of every expected, user-facing failure (one line, distinct exit code)."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        # Collapse to one line: the CLI contract is "one line on stderr".
        super().__init__(" ".join(str(message).split()))


class ConfigError(PodcastError):
    """Bad flags, options or configuration files (usage error)."""

    exit_code = EXIT_USAGE


class PluginError(ConfigError):
    """A plugin is broken or conflicts with another (duplicate stage names, bad hooks)."""


class UnknownStageError(ConfigError):
    """A stage, synthesizer, writer or profile name that is not installed."""


class InputError(PodcastError):
    """The source document cannot be used (missing, unreadable, encrypted, scanned, refused URL)."""

    exit_code = EXIT_INPUT


class UpstreamError(PodcastError):
    """A remote service failed (HTTP fetch, LLM API, remote synthesis server)."""

    exit_code = EXIT_UPSTREAM


class StageError(PodcastError):
    """A stage's preconditions do not hold or it failed in an expected way."""

    exit_code = EXIT_INTERNAL


class SynthesisError(StageError):
    """Speech synthesis failed (engine error, capability mismatch, out of memory)."""

    exit_code = EXIT_SYNTHESIS


class MissingModelError(SynthesisError):
    """Model weights or auxiliary files are not where they were looked for."""


class OutputError(PodcastError):
    """Writing, encoding or tagging the deliverables failed."""

    exit_code = EXIT_OUTPUT


class LockedError(PodcastError):
    """Another run holds the episode's lock and did not release it in time."""

    exit_code = EXIT_LOCKED
