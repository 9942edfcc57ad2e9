"""What the ONNX voice engines (``piper``, ``kokoro``) share: sessions, workers, sentence joins.

* :func:`cpu_session` builds a CPU ONNX Runtime session that runs each call on the calling
  thread (one intra-op thread) and keeps its memory arena from growing without bound: every
  run asks the arena to hand unused chunks back (``memory.enable_memory_arena_shrinkage``),
  so the peak follows the longest single input, not the history of input lengths.
* Speed on several cores comes from rendering several turns at once on ONE shared session
  (:func:`render_concurrently`; ``InferenceSession.run`` is thread-safe and releases the
  GIL), which keeps one copy of the weights.  A :class:`Budget` caps the input (phonemes)
  in flight across those threads, so concurrent calls never need more memory than one call
  of the budget's size.
* :func:`join_sentences` trims each sentence's leading and trailing silence and puts a fixed
  pause between sentences, so a turn's clip is its speech and nothing else.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import numpy as np

__all__ = ["PERFORMANCE_OPTIONS", "Budget", "sound_key", "cpu_session", "join_sentences", "render_concurrently", "render_turns", "run_options", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")
SILENCE = 10 ** (-42 / 20)  # −42 dBFS: below it a sentence edge counts as silence
EDGE_PAD = 0.03  # seconds of silence kept at each trimmed edge
# Options that change speed and memory, never the sound (left out of clip cache keys).
PERFORMANCE_OPTIONS = frozenset({"workers", "threads", "budget"})
_SESSIONS: dict[tuple[str, int], Any] = {}
_SESSIONS_LOCK = threading.Lock()


def sound_key(name: str, version: str, options: Any) -> str:
    """The cache-key hash of an engine's options without :data:`PERFORMANCE_OPTIONS`."""
    import dataclasses
    import json

    from podcast import content_hash

    sound = {k: v for k, v in dataclasses.asdict(options).items() if k not in PERFORMANCE_OPTIONS}
    return content_hash(name, version, json.dumps(sound, sort_keys=True, default=str))


def worker_count(requested: int) -> int:
    """Turns rendered at once: ``requested``, or one per CPU core this process may use."""
    if requested > 0:
        return requested
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def cpu_session(model: Path, threads: int = 1) -> Any:
    """A CPU ``onnxruntime.InferenceSession`` for ``model`` with ``threads`` intra-op threads,
    built once per process and model file (a later run in the same process, such as the next
    episode of a show, reuses it)."""
    key = (str(Path(model).resolve()), threads)
    with _SESSIONS_LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = _new_session(Path(model), threads)
        return _SESSIONS[key]


def _new_session(model: Path, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])


def run_options() -> Any:
    """Run options that return the arena's unused memory after every call."""
    import onnxruntime as ort

    options = ort.RunOptions()
    options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return options


def render_turns(
    synthesize: Callable[[Any, Any, str], R], turns: Iterable[tuple[Any, Any]], language: str, workers: int
) -> Iterator[tuple[int, R]]:
    """``(position, synthesize(turn, voice, language))`` for every ``(turn, voice)``, ``workers``
    at a time, the longest texts first so that no core sits idle while one long turn finishes."""
    jobs = list(turns)
    order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][0].text)) if workers > 1 else list(range(len(jobs)))
    for rank, audio in render_concurrently(lambda i: synthesize(*jobs[i], language), order, workers):
        yield order[rank], audio


def render_concurrently(render: Callable[[T], R], jobs: Sequence[T], workers: int) -> Iterator[tuple[int, R]]:
    """``(position, render(job))`` for every job, ``workers`` at a time, as they finish.

    At most ``workers`` jobs are in flight (so at most that many inputs' activations are in
    memory at once); the first error stops the rest and is raised.
    """
    if workers <= 1 or len(jobs) <= 1:
        for position, job in enumerate(jobs):
            yield position, render(job)
        return
    pending: dict[Future[R], int] = {}
    queue = iter(enumerate(jobs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="onnx-voice") as pool:
        try:
            for position, job in _take(queue, workers):
                pending[pool.submit(render, job)] = position
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    position = pending.pop(future)
                    result = future.result()
                    for nxt, job in _take(queue, 1):
                        pending[pool.submit(render, job)] = nxt
                    yield position, result
        finally:
            for future in pending:
                future.cancel()


def _take(queue: Iterator[tuple[int, T]], count: int) -> list[tuple[int, T]]:
    taken = []
    for _ in range(count):
        item = next(queue, None)
        if item is None:
            break
        taken.append(item)
    return taken


def join_sentences(sentences: Sequence[np.ndarray], rate: int, pause: float | Sequence[float]) -> np.ndarray:
    """One float32 clip: each piece trimmed of edge silence, with ``pause`` seconds before each
    piece but the first (one value, or one per piece)."""
    import numpy as np

    pauses = [pause] * len(sentences) if isinstance(pause, int | float) else list(pause)
    parts: list[np.ndarray] = []
    for sentence, gap in zip(sentences, pauses, strict=True):
        trimmed = trim_silence(sentence, rate)
        if trimmed.size:
            if parts:
                parts.append(np.zeros(int(round(gap * rate)), dtype=np.float32))
            parts.append(trimmed)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def trim_silence(samples: np.ndarray, rate: int) -> np.ndarray:
    """``samples`` without leading and trailing silence (a short pad kept)."""
    import numpy as np

    audio = np.asarray(samples, dtype=np.float32).reshape(-1)
    loud = np.flatnonzero(np.abs(audio) > SILENCE)
    if loud.size == 0:
        return audio[:0]
    pad = int(EDGE_PAD * rate)
    return audio[max(0, loud[0] - pad) : loud[-1] + 1 + pad]


class Budget:
    """At most ``limit`` units (phonemes) in flight across threads; a larger single request
    waits until it can run alone."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self.used = 0
        self.peak = 0
        self._free = threading.Condition()

    @contextmanager
    def take(self, amount: int) -> Iterator[None]:
        amount = min(max(1, amount), self.limit)
        with self._free:
            while self.used + amount > self.limit:
                self._free.wait()
            self.used += amount
            self.peak = max(self.peak, self.used)
        try:
            yield
        finally:
            with self._free:
                self.used -= amount
                self._free.notify_all()
