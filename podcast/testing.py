"""pytest plugin for stage authors (installed as the ``podcast`` pytest11 entry point).

Fixtures:

* ``podcast_plugins`` — a fresh :class:`~podcast.plugins.Plugins` with the built-ins and
  installed entry points loaded (register your own with ``podcast_plugins.register``);
* ``episode_factory`` — build an :class:`~podcast.models.Episode` with a run directory
  under ``tmp_path`` and optional document/script;
* ``run_stage`` — run one stage class with options on an episode, the way the pipeline does,
  with ``podcast_plugins`` as the run's registry (what you register there is visible).

Functions for engine authors (no fixture needed):

* :func:`check_engine` — the conformance check every engine should pass (float32, finite,
  declared rate and channels, one span per turn, carried prompt excluded, stable
  ``settings_key``, capabilities honoured);
* :func:`run_engine` — render turns with an engine through the real synthesize stage
  (packing, prompt carrying, caching, resampling) in a folder;
* :func:`reference_voice` — write a synthetic, speech-like reference clip and return its
  :class:`~podcast.models.Voice` (for engines that clone voices);
* :func:`run_cli_measured` — run ``podcast-gen`` in a fresh process and return its result
  with its peak resident memory (for memory tests and benchmarks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from .config import Config, load_config
from .models import Document, Episode, Rendering, Script, Section, Speaker, Turn, Voice
from .options import build_options
from .stage import Stage, StageContext
from .synthesis import Audio, Block, BlockAudio, Capabilities, DialogueEngine, Engine, Prompt, TurnEngine

__all__ = [
    "check_engine",
    "config_with_voices",
    "episode_factory",
    "podcast_plugins",
    "reference_voice",
    "run_cli_measured",
    "run_engine",
    "run_stage",
]

_MEASURED_CLI = """
import atexit, sys
from podcast import peak_rss_mb
atexit.register(lambda: print("podcast-gen peak MiB:", peak_rss_mb(), file=sys.stderr))
sys.argv = ["podcast-gen", *sys.argv[1:]]
from podcast.cli import main
main()
"""


@pytest.fixture
def podcast_plugins() -> Any:
    from .plugins import Plugins

    return Plugins().load()


@pytest.fixture
def episode_factory(tmp_path: Path) -> Callable[..., Episode]:
    def make(
        text: str = "A short document about testing.", turns: tuple[tuple[str, str], ...] = (), language: str = "en"
    ) -> Episode:
        run_dir = tmp_path / "episode"
        run_dir.mkdir(exist_ok=True)
        document = Document("test.txt", "text", "Test", (Section("", text),), language)
        script = None
        if turns:
            config = Config()
            script = Script(language, tuple(Turn(s, t) for s, t in turns), config.speaker_list(language), (), "Test")
        return Episode(("test.txt",), language, run_dir, document, script)

    return make


@pytest.fixture
def run_stage(podcast_plugins: Any) -> Callable[..., Episode]:
    def run(
        stage_cls: type[Stage], episode: Episode, options: Mapping[str, Any] | None = None, config: Config | None = None
    ) -> Episode:
        opts = build_options(stage_cls.Options, options or {}, f"stages.{stage_cls.kind}.{stage_cls.name}")
        stage = stage_cls(opts)
        ctx = StageContext(config or load_config(None, env={}), episode.run_dir, plugins=podcast_plugins)
        stage.check(ctx)
        return stage.run(episode, ctx)

    return run


# ── engines ─────────────────────────────────────────────────────────────────────

#: Turns the conformance check speaks (two speakers, two blocks' worth).
CHECK_TURNS = {
    "en": (
        ("S1", "Welcome back to the show."),
        ("S2", "Thanks, it is good to be here."),
        ("S1", "Today we talk about solar sails."),
        ("S2", "They ride on sunlight alone, with no fuel at all."),
    ),
    "zh": (
        ("S1", "欢迎回到节目。"),
        ("S2", "谢谢，很高兴来到这里。"),
        ("S1", "今天我们聊聊太阳帆。"),
        ("S2", "它们只靠阳光前进，完全不需要燃料。"),
    ),
}
REFERENCE_TEXT = {"en": "This is a reference voice for testing.", "zh": "这是一段用于测试的参考声音。"}


def reference_voice(
    folder: Path, speaker: str = "S1", seconds: float = 3.0, sample_rate: int = 24000, language: str = "en"
) -> Voice:
    """Write ``<folder>/<speaker>.wav``: a deterministic speech-like signal (a harmonic voice
    at a per-speaker pitch, in syllables of about 0.2 s with short pauses) and return a
    :class:`Voice` with it and a matching transcript."""
    import numpy as np

    from .audio import write_audio

    slot = int(speaker[1:]) if speaker[1:].isdigit() else 1
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    f0 = (110.0 + 90.0 * ((slot - 1) % 3)) * (1.0 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))
    syllables = np.clip(np.sin(2 * np.pi * 2.5 * t), 0.0, None) ** 0.5
    samples = (0.25 * voiced * syllables / 2.6).astype(np.float32)
    path = Path(folder) / f"{speaker}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_audio(path, samples, sample_rate)
    return Voice(ref_audio=path, ref_text=REFERENCE_TEXT.get(language, REFERENCE_TEXT["en"]))


def _speakers(ids: Sequence[str]) -> tuple[Speaker, ...]:
    return tuple(Speaker(i, i) for i in sorted(set(ids), key=lambda s: int(s[1:])))


def config_with_voices(voices: Mapping[str, Voice], **fields: Any) -> Config:
    """A :class:`Config` whose speakers have ``voices`` (as ``--voice`` would set them)."""
    from .models import frozen_mapping

    speakers = {
        sid: {k: v for k, v in (("voice", voice.preset), ("ref_audio", voice.ref_audio), ("ref_text", voice.ref_text)) if v}
        for sid, voice in voices.items()
    }
    return Config(speakers=frozen_mapping({k: {f: str(v) for f, v in d.items()} for k, d in speakers.items()}), **fields)


def run_engine(
    engine: Engine[Any] | type[Engine[Any]],
    turns: Sequence[tuple[str, str]],
    folder: Path,
    *,
    voices: Mapping[str, Voice] | None = None,
    language: str = "en",
    options: Mapping[str, Any] | None = None,
    seed: int = 0,
) -> Rendering:
    """Render ``(speaker, text)`` turns with ``engine`` (a class, built with ``options``, or an
    instance) through the real synthesize stage, with ``folder`` as the episode folder
    (clips land in ``folder/clips``; a second call reuses them).  Raises what the stage
    raises (:class:`~podcast.errors.SynthesisError` when the engine cannot run here)."""
    from .errors import SynthesisError
    from .rendering import stage_for_engine

    engine_cls = engine if isinstance(engine, type) else type(engine)
    stage_cls = stage_for_engine(engine_cls)
    if isinstance(engine, type):
        built = build_options(engine_cls.Options, options or {}, f"stages.synthesize.{engine_cls.name}")
        stage = stage_cls(built)
    else:
        stage = stage_cls(engine.options)
        stage.engine = engine
    reason = engine_cls.unavailable(stage.options)
    if reason is not None:
        raise SynthesisError(f"{engine_cls.name} cannot run: {reason}")
    script = Script(language, tuple(Turn(s, t) for s, t in turns), _speakers([s for s, _ in turns]), (), "Engine test")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(config_with_voices(voices or {}, language=language, seed=seed), folder, seed)
    episode = stage.run(Episode(("engine-test",), language, folder, None, script), ctx)
    assert episode.rendering is not None
    return episode.rendering


def check_engine(
    engine: Engine[Any],
    folder: Path,
    *,
    language: str | None = None,
    voices: Mapping[str, Voice] | None = None,
) -> None:
    """Assert that ``engine`` keeps the engine contract; raises ``AssertionError`` listing
    every broken rule.

    It speaks a short two-speaker dialogue (with reference voices from
    :func:`reference_voice` when the engine clones) and checks: capabilities are
    consistent and name the language; ``settings_key`` is a stable, non-empty string equal
    for equal options; audio is float32, finite, non-empty, at the declared rate and channel
    count; batch methods return every item exactly once; dialogue engines return one ordered
    span per turn inside the audio and do NOT return the carried prompt in front of the
    next block.  ``load`` and ``close`` are called around the renders.
    """
    problems: list[str] = []
    caps = engine.capabilities()
    language = language or ("en" if "en" in caps.languages else min(caps.languages, default="en"))
    problems += _capability_problems(engine, caps, language)
    problems += _settings_problems(engine)
    speakers = ("S1", "S2") if caps.max_speakers >= 2 else ("S1",)
    if voices is None:
        cloning = caps.cloning or caps.needs_reference
        voices = {s: reference_voice(Path(folder) / "voices", s, language=language) if cloning else Voice() for s in speakers}
    turns = tuple(Turn(speakers[i % len(speakers)], text) for i, (_, text) in enumerate(CHECK_TURNS.get(language, CHECK_TURNS["en"])))
    script = Script(language, turns, _speakers(speakers), (), "Engine check")
    engine.check(script, voices)
    engine.load()
    try:
        if isinstance(engine, DialogueEngine):
            problems += _dialogue_problems(engine, caps, turns, language, voices)
        elif isinstance(engine, TurnEngine):
            problems += _turn_problems(engine, caps, turns, language, voices)
        else:
            problems.append(f"{type(engine).__name__} is neither a TurnEngine nor a DialogueEngine")
    finally:
        engine.close()
    assert not problems, f"{engine.name or type(engine).__name__} breaks the engine contract:\n- " + "\n- ".join(problems)


def _capability_problems(engine: Engine[Any], caps: Any, language: str) -> list[str]:
    if not isinstance(caps, Capabilities):
        return [f"capabilities() returned {type(caps).__name__}, not Capabilities"]
    problems = []
    if not isinstance(caps.sample_rate, int) or caps.sample_rate <= 0:
        problems.append(f"sample_rate {caps.sample_rate!r} is not a positive int")
    if language not in caps.languages:
        problems.append(f"languages {sorted(caps.languages)} do not include {language!r}")
    if caps.channels not in (1, 2):
        problems.append(f"channels is {caps.channels}, not 1 or 2")
    if caps.dialogue_native != isinstance(engine, DialogueEngine):
        problems.append("dialogue_native does not match the engine's base class")
    if caps.needs_reference and not caps.cloning:
        problems.append("needs_reference is set but cloning is not")
    if caps.max_speakers < 1:
        problems.append("max_speakers is below 1")
    reason = type(engine).unavailable(engine.options)
    if reason is not None and not isinstance(reason, str):
        problems.append(f"unavailable() returned {type(reason).__name__}, not str or None")
    return problems


def _settings_problems(engine: Engine[Any]) -> list[str]:
    key = engine.settings_key()
    twin = type(engine)(engine.options).settings_key()
    if not isinstance(key, str) or not key:
        return [f"settings_key() returned {key!r}, not a non-empty string"]
    if key != engine.settings_key() or key != twin:
        return ["settings_key() is not stable (differs between calls or between engines with equal options)"]
    return []


def _audio_problems(what: str, audio: Any, caps: Capabilities) -> list[str]:
    import numpy as np

    if not isinstance(audio, Audio):
        return [f"{what}: returned {type(audio).__name__}, not Audio"]
    samples, problems = audio.samples, []
    if not isinstance(samples, np.ndarray) or samples.dtype != np.float32:
        problems.append(f"{what}: samples are {getattr(samples, 'dtype', type(samples).__name__)}, not float32")
    elif samples.size == 0 or not np.all(np.isfinite(samples)):
        problems.append(f"{what}: samples are empty or not finite")
    channels = 1 if getattr(samples, "ndim", 1) == 1 else samples.shape[0]
    if audio.sample_rate != caps.sample_rate:
        problems.append(f"{what}: sample_rate {audio.sample_rate} differs from the declared {caps.sample_rate}")
    if channels != caps.channels:
        problems.append(f"{what}: {channels} channel(s) but capabilities declare {caps.channels}")
    return problems


def _turn_problems(
    engine: TurnEngine[Any], caps: Capabilities, turns: tuple[Turn, ...], language: str, voices: Mapping[str, Voice]
) -> list[str]:
    problems = _audio_problems("synthesize_turn", engine.synthesize_turn(turns[0], voices[turns[0].speaker], language), caps)
    jobs = [(t, voices[t.speaker]) for t in turns[1:]]
    results = list(engine.synthesize_turns(jobs, language))
    if sorted(p for p, _ in results) != list(range(len(jobs))):
        problems.append("synthesize_turns did not yield every position exactly once")
    for position, audio in results:
        problems += _audio_problems(f"synthesize_turns[{position}]", audio, caps)
    return problems


def _dialogue_problems(
    engine: DialogueEngine[Any], caps: Capabilities, turns: tuple[Turn, ...], language: str, voices: Mapping[str, Voice]
) -> list[str]:
    half = len(turns) // 2
    first = Block(0, turns[:half], tuple(range(half)), language, voices)
    result = engine.synthesize_block(first)
    problems = _block_problems("synthesize_block", first, result, caps)
    if problems:
        return problems
    second = Block(1, turns[half:], tuple(range(half, len(turns))), language, voices, Prompt(result.audio, first.turns))
    carried = engine.synthesize_block(second)
    problems += _block_problems("synthesize_block with a prompt", second, carried, caps)
    if not problems and _starts_with(carried.audio, result.audio):
        problems.append("synthesize_block returned the carried prompt in front of the block (it must be excluded)")
    results = list(engine.synthesize_blocks([first, Block(1, second.turns, second.turn_ids, language, voices)]))
    if sorted(p for p, _ in results) != [0, 1]:
        problems.append("synthesize_blocks did not yield every position exactly once")
    return problems


def _block_problems(what: str, block: Block, result: Any, caps: Capabilities) -> list[str]:
    if not isinstance(result, BlockAudio):
        return [f"{what}: returned {type(result).__name__}, not BlockAudio"]
    problems = _audio_problems(what, result.audio, caps)
    if result.spans is None or problems:
        return problems
    if len(result.spans) != len(block.turns):
        return [*problems, f"{what}: {len(result.spans)} spans for {len(block.turns)} turns (one per turn)"]
    bounds = [x for span in result.spans for x in span]
    if bounds != sorted(bounds) or bounds[0] < 0 or bounds[-1] > result.audio.duration + 0.05:
        problems.append(f"{what}: spans {result.spans} are not ordered within the {result.audio.duration:.2f} s audio")
    return problems


def _starts_with(audio: Audio, prompt: Audio) -> bool:
    """Whether ``audio`` begins with (a re-synthesis of) ``prompt``: per-40 ms-frame loudness
    and zero-crossing rate within 10 % over the prompt's length."""
    import numpy as np

    from .audio import resample, to_mono

    head = resample(to_mono(audio.samples), audio.sample_rate, prompt.sample_rate).reshape(-1)
    tail = to_mono(prompt.samples).reshape(-1)
    if head.shape[-1] < tail.shape[-1] * 0.9:
        return False
    size = max(int(0.04 * prompt.sample_rate), 1)
    frames = tail.shape[-1] // size
    if frames < 3:
        return False

    def features(x: Any) -> Any:
        f = x[: frames * size].reshape(frames, size).astype(np.float64)
        rms = np.sqrt((f**2).mean(axis=1))
        zcr = (np.diff(np.signbit(f), axis=1) != 0).mean(axis=1)
        return np.concatenate([rms / (rms.max() + 1e-12), zcr])

    a, b = features(head), features(tail)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(b) + 1e-12)) < 0.1


def run_cli_measured(
    args: Sequence[str], env: Mapping[str, str] | None = None, prefix: Sequence[str] = (), timeout: float = 600
) -> tuple[Any, float]:
    """Run ``podcast-gen *args`` in a fresh process (``prefix`` goes before the interpreter,
    e.g. ``taskset -c 0``); return the completed process (text output captured) and its peak
    resident memory in MiB."""
    import os
    import subprocess
    import sys

    done = subprocess.run(
        [*prefix, sys.executable, "-c", _MEASURED_CLI, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    marks = [line for line in done.stderr.splitlines() if line.startswith("podcast-gen peak MiB:")]
    return done, float(marks[-1].split(":")[1]) if marks else float("nan")
