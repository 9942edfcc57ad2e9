"""The engine contract: what a speech-synthesis engine (built-in or plugin) implements.

Engines only turn text into audio.  They come in two shapes:

* :class:`TurnEngine` renders one turn at a time (espeak, Piper, CosyVoice, cloud TTS);
* :class:`DialogueEngine` renders a block of turns in one call (MOSS-TTSD, ZipVoice-Dialog).

Everything around an engine belongs to the pipeline (the synthesize stage in
:mod:`podcast.rendering`, built for every registered engine): it checks the declared
:class:`Capabilities` before any work, packs turns into blocks within the engine's limits,
carries the tail of the previous block (audio + transcript) into the next block as its
:class:`Prompt`, caches every clip under a hash of (engine, settings, voice, text, prompt),
resamples to one rate and records exact turn spans.  An engine never caches, resamples or
normalizes text itself: the text it receives has already been normalized with the profile
its capabilities name.

Life of an engine instance (one per run of the synthesize stage)::

    engine = MyEngine(options, context)     # cheap: no heavy import, no model
    engine.capabilities()                   # any time, several times
    engine.check(script, voices)            # before any stage runs: refuse early
    engine.load()                           # once, before the first uncached clip
    engine.synthesize_turn(...) / synthesize_block(...)   # zero or more times
    engine.close()                          # always, after the last call (also on errors)

Calls come from one thread, one at a time; an engine needs no locking unless it starts
threads of its own (``synthesize_turns``/``synthesize_blocks`` may render concurrently).

Units everywhere: seconds (float), sample rates in Hz, audio as float32 numpy arrays shaped
``(n,)`` (mono) or ``(channels, n)``, nominally within [-1, 1].

Helpers every neural engine needs live in :mod:`podcast.kit` (weight-folder lookup, span
estimation, memory planning, device choice); shared neural building blocks (mel/fbank front
ends, Vocos vocoders, flow-matching solvers, checkpoint loading) live in :mod:`podcast.neural`.
Test an engine with :func:`podcast.testing.check_engine` and :func:`podcast.testing.run_engine`.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .models import Script, Turn, Voice, content_hash
from .options import option

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "Audio",
    "Block",
    "BlockAudio",
    "Capabilities",
    "DialogueEngine",
    "DialogueOptions",
    "Engine",
    "EngineContext",
    "Prompt",
    "TurnEngine",
]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What an engine can do, declared up front and checked before any work.

    :param languages: language codes the engine speaks (``"en"``, ``"zh"``).
    :param sample_rate: rate in Hz of the audio the engine returns.
    :param dialogue_native: renders several speakers in one call (:class:`DialogueEngine`).
    :param max_speakers: most distinct speakers in one script.
    :param cloning: can imitate a reference voice (``Voice.ref_audio``).
    :param needs_ref_text: a reference voice is useless without its exact transcript.
    :param needs_reference: cannot speak at all without a reference voice per speaker.
    :param presets: named voices the engine offers (``Voice.preset`` values).
    :param max_seconds_per_call: longest block (seconds of speech) one call can render.
    :param max_chars_per_call: longest block (characters of text) one call can render.
    :param channels: channels of the returned audio (1 or 2).
    :param streaming: the engine can also yield audio while rendering a block.
    :param device: where it runs (``"cpu"``, ``"cuda"``, ``"remote"``).
    :param licence: SPDX id of the code licence (``"Apache-2.0"``).
    :param weights_licence: licence of the model weights, when it differs from the code's.
    :param commercial_ok: whether the output may be used commercially (``None`` = unknown).
    :param normalizer: the text-normalization profile the engine expects (see
        ``register_normalizers``); the pipeline normalizes once with it.
    :param rank: preference of ``--synth auto``: among the engines that can run here, the one
        with the highest rank is chosen (espeak, the always-available fallback, has 10;
        engines that should only run when asked for by name declare 0 or less).
    """

    languages: frozenset[str]
    sample_rate: int
    dialogue_native: bool = False
    max_speakers: int = 2
    cloning: bool = False
    needs_ref_text: bool = False
    needs_reference: bool = False
    presets: tuple[str, ...] = ()
    max_seconds_per_call: float | None = None
    max_chars_per_call: int | None = None
    channels: int = 1
    streaming: bool = False
    device: str = "cpu"
    licence: str = ""
    weights_licence: str = ""
    commercial_ok: bool | None = None
    normalizer: str = "podcast"
    rank: int = 0


@dataclass(frozen=True, slots=True)
class Audio:
    """Audio: float32 ``samples`` shaped ``(n,)`` or ``(channels, n)`` at ``sample_rate`` Hz."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[-1] / float(self.sample_rate)


@dataclass(frozen=True, slots=True)
class Prompt:
    """The previous block's tail, carried into the next block so voices and pacing continue.

    ``audio`` is what was spoken (at the engine's own rate) and ``turns`` the turns spoken in
    it, in order.  The engine conditions on it but must NOT return it: the audio an engine
    returns for a block starts with the block's first turn.
    """

    audio: Audio
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """Turns rendered in one engine call.

    ``index`` numbers the blocks of a script from 0; ``turn_ids`` are the positions of
    ``turns`` in the script; ``voices`` maps every speaker id of the script to its
    :class:`~podcast.models.Voice`; ``prompt`` is the carried tail of the previous block
    (``None`` for the first block, or when carrying is off).
    """

    index: int
    turns: tuple[Turn, ...]
    turn_ids: tuple[int, ...]
    language: str
    voices: Mapping[str, Voice]
    prompt: Prompt | None = None


@dataclass(frozen=True, slots=True)
class BlockAudio:
    """A rendered block: its audio (prompt excluded) and where each turn is in it.

    ``spans[i]`` is ``(start, end)`` seconds of ``block.turns[i]`` inside ``audio``, ordered
    and non-overlapping; ``None`` when the engine cannot tell (the pipeline then splits the
    duration by text length; :func:`podcast.kit.estimate_turn_spans` does better).
    """

    audio: Audio
    spans: tuple[tuple[float, float], ...] | None = None


@dataclass(frozen=True, slots=True)
class _NoOptions:
    """This engine has no options."""


@dataclass(frozen=True, slots=True)
class DialogueOptions:
    """Options every dialogue engine shares (subclass it to add your own)."""

    block_seconds: float = option(120.0, "longest block (seconds of speech) per engine call")
    carry_seconds: float = option(10.0, "seconds of the previous block carried as the next prompt (0 = off)")


def _no_progress(completed: float, total: float | None, description: str) -> None:
    """Progress goes nowhere (an engine used outside the pipeline)."""


@dataclass(frozen=True, slots=True)
class EngineContext:
    """What the pipeline gives an engine besides its options (``engine.context``).

    :param seed: the run's seed; derive per-block seeds from it (``seed + block.index``) so
        a re-run renders the same audio.
    :param device: the user's device preference (``"auto"``, ``"cpu"``, ``"cuda"``,
        ``"cuda:1"``); an engine with its own ``device`` option lets that win when it is not
        ``auto``.  :func:`podcast.kit.resolve_device` turns it into a concrete device.
    :param log: where to log (debug details; user-facing failures are exceptions).
    :param report: receives progress; call :meth:`progress` rather than this.
    :param model_dir: the user's folder of downloaded model weights (may not exist); look
        there by default before searching other places (:func:`podcast.kit.find_weights`).
    :param cache_dir: a folder this engine may keep derived files in across runs (compiled
        kernels, converted weights); created on first use by the engine, never shared.
    :param run_dir: the episode folder, for files that belong with the episode (e.g. voices
        an engine drew for the hosts); ``None`` outside a pipeline run.
    """

    seed: int = 0
    device: str = "auto"
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("podcast.synthesize"))
    report: Callable[[float, float | None, str], None] = _no_progress
    model_dir: Path = field(default_factory=lambda: _default_dir("models"))
    cache_dir: Path = field(default_factory=lambda: _default_dir("engines"))
    run_dir: Path | None = None

    def progress(self, completed: float, total: float | None = None, description: str = "") -> None:
        """Report progress INSIDE the current call (a long block): ``completed`` of ``total``
        units of your choosing (frames generated, diffusion steps).  The pipeline already
        reports finished turns and blocks; this only moves the bar within one of them."""
        self.report(completed, total, description)


def _default_dir(kind: str) -> Path:
    from .kit.files import podcast_cache

    return podcast_cache() / kind


O = TypeVar("O")


class Engine(ABC, Generic[O]):
    """Base of all engines; subclass :class:`TurnEngine` or :class:`DialogueEngine`.

    Class variables: ``name`` (the ``--synth`` value and the ``[stages.synthesize.<name>]``
    config section; required), ``version`` (bump it when the same options start producing
    different audio: it invalidates cached clips) and ``Options`` (a frozen dataclass whose
    fields are declared with :func:`podcast.option`; ``self.options`` is an instance of it).

    The constructor must stay cheap and import nothing heavy: it runs for ``--help``-like
    checks and for ``--synth auto``.  Load models in :meth:`load`.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    Options: ClassVar[type[Any]] = _NoOptions

    def __init__(self, options: O | None = None, context: EngineContext | None = None) -> None:
        self.options: O = options if options is not None else self.Options()
        self.context: EngineContext = context if context is not None else EngineContext()

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What this engine can do with the current options (cheap; called often, before
        :meth:`load`).  The pipeline refuses a script the capabilities cannot serve."""

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        """Why this engine cannot run here (missing weights, GPU, package, server), as one
        line the user can act on, or ``None`` when it can.  Used by ``--synth auto`` and
        before a run; must be cheap (a few file checks) and import no heavy package unless
        the cheap checks passed."""
        return None

    def default_voice(self, speaker: str, language: str) -> Voice:
        """The voice ``speaker`` (``"S1"``…) gets in ``language`` when the user configured none.
        It may name another turn engine (``Voice("piper:joe")``, see :mod:`podcast.casting`);
        the default, an empty :class:`Voice`, leaves the choice to :meth:`synthesize_turn`."""
        return Voice()

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        """Refuse early, before any stage runs or loads: unreadable reference files, voices
        this engine cannot use, not enough memory for the longest turn.  ``voices`` maps each
        speaker id to its voice.  Raise :class:`~podcast.errors.SynthesisError` or
        :class:`~podcast.errors.MissingModelError` with a one-line message."""

    def load(self) -> None:
        """Import heavy packages and load models (onto ``self.context.device``).  Called once,
        just before the first clip that is not cached; never called when every clip is."""

    def close(self) -> None:
        """Release models, devices and threads.  Always called after the last render call,
        also after an error, and also when :meth:`load` never ran."""

    def settings_key(self) -> str:
        """A stable hash of everything in the options that changes the sound (part of every
        clip's cache key).  The default hashes ``name``, ``version`` and all options; override
        to leave out options that do not change the audio (server URLs, batch sizes)."""
        from .serialize import to_jsonable

        return content_hash(self.name, self.version, json.dumps(to_jsonable(self.options), sort_keys=True))


class TurnEngine(Engine[O]):
    """An engine that renders one turn per call."""

    @abstractmethod
    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        """Speak ``turn.text`` (already normalized) with ``voice`` in ``language``.

        Return the speech only (no leading or trailing silence beyond a natural breath) as
        :class:`Audio` at ``capabilities().sample_rate``: float32, finite, non-empty.
        """

    def synthesize_turns(self, turns: Sequence[tuple[Turn, Voice]], language: str) -> Iterator[tuple[int, Audio]]:
        """Render independent ``(turn, voice)`` pairs; yield ``(position in turns, audio)``
        in any order.  Override to render concurrently (e.g. parallel requests to a server);
        the default renders one by one with :meth:`synthesize_turn`."""
        for position, (turn, voice) in enumerate(turns):
            yield position, self.synthesize_turn(turn, voice, language)


class DialogueEngine(Engine[O]):
    """An engine that renders a block of turns (a dialogue) per call.

    Its ``Options`` should subclass :class:`DialogueOptions` (``block_seconds`` and
    ``carry_seconds`` steer how the pipeline packs blocks and carries prompts).
    """

    Options: ClassVar[type[Any]] = DialogueOptions

    @abstractmethod
    def synthesize_block(self, block: Block) -> BlockAudio:
        """Speak ``block.turns`` as one conversation, with ``block.voices``, continuing from
        ``block.prompt`` when it is set.

        Return :class:`BlockAudio` whose audio EXCLUDES the carried prompt (it starts with
        the block's first turn), at ``capabilities().sample_rate``, float32 and finite, with
        one ``(start, end)`` span per turn when the engine knows them.  Report progress inside
        a long block with ``self.context.progress(done, total)``.
        """

    def synthesize_blocks(self, blocks: Sequence[Block]) -> Iterator[tuple[int, BlockAudio]]:
        """Render independent blocks (none carries a prompt); yield ``(position in blocks,
        result)`` in any order.  Override to batch them (several blocks in one model call);
        the default renders one by one with :meth:`synthesize_block`."""
        for position, block in enumerate(blocks):
            yield position, self.synthesize_block(block)
