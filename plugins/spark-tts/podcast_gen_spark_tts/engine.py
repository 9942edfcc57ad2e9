"""The ``spark-tts`` turn engine: stable hosts, sentence-sized pieces, batched decoding.

* Every host is resolved to a saved voice (its global ids) once per episode — created from
  attributes, cloned from a reference, or read from a voice file — and written to
  ``voices/<speaker>.spark.json`` in the episode folder; every turn is then rendered in cloning
  mode from those ids, so the host never changes voice.
* Turns are split at sentence boundaries into pieces of at most ``chunk_seconds`` of speech.
* Pieces of the same host are decoded together, ``batch_size`` at a time, with the static-cache
  loop of :mod:`podcast_gen_spark_tts.lm`.
* The model's crash cases (a created voice without exactly ``token_num`` global tokens, a piece
  with no semantic tokens) are retried with other seeds, then reported in one line.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from podcast import (
    Audio,
    Capabilities,
    MissingModelError,
    Script,
    SynthesisError,
    Turn,
    TurnEngine,
    Voice,
    content_hash,
    estimate_seconds,
    find_weights,
    option,
    resolve_device,
)

from .text import split_turn
from .voices import SavedVoice, VoiceRequest, read_voice_file, request_for, write_voice_file

if TYPE_CHECKING:
    import numpy as np

RATE = 16000
TOKENS_PER_SECOND = 50
GAP_SECONDS = 0.12
CREATION_TEXT = {
    "en": "Hello and welcome. It is good to be here with you today.",
    "zh": "大家好，欢迎收听。今天很高兴和大家见面。",
}


@dataclass(frozen=True, slots=True)
class SparkOptions:
    """Options of the Spark-TTS engine (sampling defaults are the reference's)."""

    model_dir: str = option("", "Spark-TTS-0.5B folder; empty = search the model folder and the HF cache")
    device: str = option("auto", "auto, cpu, cuda or cuda:N (auto follows the run's device)")
    temperature: float = option(0.8, "sampling temperature (0 = greedy)")
    top_k: int = option(50, "sample among the k most likely tokens")
    top_p: float = option(0.95, "nucleus sampling mass")
    max_new_tokens: int = option(3000, "most tokens one model call may generate (50 per second of speech)")
    chunk_seconds: float = option(25.0, "longest piece of a turn per model call, in estimated seconds of speech")
    batch_size: int = option(4, "pieces of the same host decoded together")
    retries: int = option(3, "new seeds tried when the model emits no speech or a malformed voice")


@dataclass(frozen=True, slots=True)
class _Piece:
    """One model call's worth of one turn."""

    turn: int
    index: int
    speaker: str
    text: str


class SparkTTSEngine(TurnEngine[SparkOptions]):
    """Spark-TTS 0.5B (SparkAudio): hosts created from attributes or cloned, 16 kHz, zh + en."""

    name: ClassVar[str] = "spark-tts"
    version: ClassVar[str] = "1"
    Options: ClassVar[type] = SparkOptions

    def __init__(self, options: SparkOptions | None = None, context: Any = None) -> None:
        super().__init__(options, context)
        self._model: Any = None
        self._voices: dict[str, SavedVoice] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "zh"}),
            sample_rate=RATE,
            max_speakers=8,
            cloning=True,
            presets=("spark:female", "spark:male"),
            device="cuda" if self.options.device.startswith("cuda") else "cpu",
            licence="Apache-2.0",
            weights_licence="CC-BY-NC-SA-4.0",
            commercial_ok=False,
            rank=0,
        )

    @classmethod
    def unavailable(cls, options: SparkOptions) -> str | None:
        for package in ("torch", "transformers", "yaml"):
            if importlib.util.find_spec(package) is None:
                return f"the Python package {package} is not installed (pip install podcast-gen-spark-tts)"
        try:
            cls._folder(options)
        except MissingModelError as exc:
            return str(exc)
        return None

    @staticmethod
    def _folder(options: SparkOptions, search: Sequence[Path] = ()) -> Path:
        from .model import REPOS, missing

        return find_weights(
            options.model_dir, REPOS, missing, what="Spark-TTS model", option="synthesize.spark-tts.model_dir",
            search=search,
        )  # fmt: skip

    def check(self, script: Script, voices: Mapping[str, Voice]) -> None:
        self._validate_options()
        for speaker in sorted({t.speaker for t in script.turns}):
            request_for(speaker, voices.get(speaker, Voice()))

    def _validate_options(self) -> None:
        o = self.options
        if o.chunk_seconds <= 0 or o.batch_size < 1 or o.retries < 0 or o.max_new_tokens < 1:
            raise SynthesisError("spark-tts: chunk_seconds, batch_size and max_new_tokens must be positive, retries >= 0")
        if o.top_k < 0 or not 0 < o.top_p <= 1 or o.temperature < 0:
            raise SynthesisError("spark-tts: top_k must be >= 0, top_p in (0, 1] and temperature >= 0")

    def load(self) -> None:
        from .model import SparkTTS

        self._validate_options()
        preference = self.options.device if self.options.device != "auto" else self.context.device
        device = resolve_device(preference, self.name)
        self._model = SparkTTS(self._folder(self.options, [self.context.model_dir]), device)

    def close(self) -> None:
        self._model = None
        self._voices.clear()

    def settings_key(self) -> str:
        o = self.options
        sound = (o.temperature, o.top_k, o.top_p, o.max_new_tokens, o.chunk_seconds, o.retries)
        return content_hash(self.name, self.version, repr(sound))

    # ── rendering ──────────────────────────────────────────────────────────────────

    def synthesize_turn(self, turn: Turn, voice: Voice, language: str) -> Audio:
        return next(iter(self.synthesize_turns([(turn, voice)], language)))[1]

    def synthesize_turns(self, turns: Sequence[tuple[Turn, Voice]], language: str) -> Iterator[tuple[int, Audio]]:
        if self._model is None:
            self.load()
        pieces: list[_Piece] = []
        for position, (turn, voice) in enumerate(turns):
            self._voice(turn.speaker, voice, language)
            texts = split_turn(turn.text, language, self.options.chunk_seconds)
            pieces += [_Piece(position, i, turn.speaker, text) for i, text in enumerate(texts)]
        remaining = {p: sum(1 for q in pieces if q.turn == p) for p in range(len(turns))}
        audio: dict[tuple[int, int], np.ndarray] = {}
        done = 0
        for speaker in dict.fromkeys(p.speaker for p in pieces):
            for batch in self._batches([p for p in pieces if p.speaker == speaker], language):
                for piece, samples in zip(batch, self._render(batch, language), strict=True):
                    audio[(piece.turn, piece.index)] = samples
                    remaining[piece.turn] -= 1
                    done += 1
                    self.context.progress(done, len(pieces), "pieces")
                    if remaining[piece.turn] == 0:
                        yield piece.turn, self._join([audio.pop((piece.turn, i)) for i in range(piece.index + 1)])

    def _batches(self, pieces: list[_Piece], language: str) -> Iterator[list[_Piece]]:
        """Pieces of similar length together (less padding), ``batch_size`` at a time."""
        ordered = sorted(pieces, key=lambda p: estimate_seconds(p.text, language))
        size = self.options.batch_size
        for start in range(0, len(ordered), size):
            yield ordered[start : start + size]

    @staticmethod
    def _join(parts: list[np.ndarray]) -> Audio:
        import numpy as np

        gap = np.zeros(int(GAP_SECONDS * RATE), dtype=np.float32)
        joined = [parts[0]]
        for part in parts[1:]:
            joined += [gap, part]
        return Audio(np.concatenate(joined).astype(np.float32), RATE)

    def _sampling(self, seconds: float) -> Any:
        from .lm import Sampling

        o = self.options
        budget = int(TOKENS_PER_SECOND * (3 * seconds + 5)) + 2 * 64
        return Sampling(o.temperature, o.top_k, o.top_p, 1.0, min(o.max_new_tokens, budget))

    def _seed(self, *parts: Any) -> int:
        return (self.context.seed * 1_000_003 + int(content_hash(*map(str, parts))[:12], 16)) % 2**63

    def _render(self, batch: list[_Piece], language: str) -> list[np.ndarray]:
        """Semantic ids for every piece of one host (retrying failures alone), then audio."""
        from .prompts import clone_prompt

        voice = self._voices[batch[0].speaker]
        prompts = [clone_prompt(p.text, voice.global_ids, voice.prompt_text, voice.semantic_ids) for p in batch]
        sampling = self._sampling(max(estimate_seconds(p.text, language) for p in batch))
        results = self._model.generate(prompts, sampling, self._seed(*prompts))
        out = []
        for piece, prompt, result in zip(batch, prompts, results, strict=True):
            semantic = result.semantic_ids
            for attempt in range(1, self.options.retries + 1):
                if semantic:
                    break
                semantic = self._model.generate([prompt], sampling, self._seed(prompt, attempt))[0].semantic_ids
            if not semantic:
                raise SynthesisError(
                    f"spark-tts produced no speech for {piece.speaker}'s turn {piece.turn + 1} "
                    f"({piece.text[:40]!r}) after {self.options.retries + 1} tries; try another --seed"
                )
            out.append(self._model.detokenize(voice.global_ids, semantic))
        return out

    # ── voices ────────────────────────────────────────────────────────────────────

    def _voice_path(self, speaker: str) -> Path:
        base = self.context.run_dir or self.context.cache_dir
        return Path(base) / "voices" / f"{speaker}.spark.json"

    def _voice(self, speaker: str, voice: Voice, language: str) -> SavedVoice:
        """The host's saved voice: reused from the episode folder when it came from the same
        request, else created, cloned or read, and saved there."""
        if speaker in self._voices:
            return self._voices[speaker]
        request = request_for(speaker, voice)
        path = self._voice_path(speaker)
        saved = read_voice_file(path) if path.is_file() else None
        if saved is None or saved.source != request.source or not self._fits(saved):
            saved = self._resolve(request, language)
            write_voice_file(path, saved)
        self._voices[speaker] = saved
        return saved

    def _fits(self, voice: SavedVoice) -> bool:
        vocab = self._model.vocab
        return len(voice.global_ids) == self._model.token_num and all(
            0 <= i < vocab.global_count for i in voice.global_ids
        ) and all(0 <= i < vocab.semantic_count for i in voice.semantic_ids)

    def _resolve(self, request: VoiceRequest, language: str) -> SavedVoice:
        if request.saved is not None:
            voice = read_voice_file(request.saved)
            if not self._fits(voice):
                raise SynthesisError(
                    f"spark-tts: voice file {request.saved} does not fit this model "
                    f"({len(voice.global_ids)} global ids; the model uses {self._model.token_num})"
                )
            return SavedVoice(voice.global_ids, request.source, voice.prompt_text, voice.semantic_ids)
        if request.reference is not None:
            global_ids, semantic = self._model.tokenize(request.reference)
            text = request.reference_text
            return SavedVoice(tuple(global_ids), request.source, text, tuple(semantic) if text else ())
        return self._create(request, language)

    def _create(self, request: VoiceRequest, language: str) -> SavedVoice:
        """Draw a voice from attributes, retrying until exactly ``token_num`` globals come out."""
        from .prompts import create_prompt

        spec = request.create
        assert spec is not None
        text = CREATION_TEXT.get(language, CREATION_TEXT["en"])
        prompt = create_prompt(text, spec.gender, spec.pitch, spec.speed)
        sampling = self._sampling(estimate_seconds(text, language))
        counts = []
        for attempt in range(self.options.retries + 1):
            result = self._model.generate([prompt], sampling, self._seed(request.speaker, spec.text, attempt))[0]
            if len(result.global_ids) == self._model.token_num and result.semantic_ids:
                return SavedVoice(tuple(result.global_ids), request.source)
            counts.append(len(result.global_ids))
        raise SynthesisError(
            f"spark-tts could not create a voice for {request.speaker} ({spec.text}): the model emitted "
            f"{', '.join(map(str, counts))} global tokens instead of {self._model.token_num}; try another --seed"
        )
