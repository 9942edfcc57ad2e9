"""Kokoro's memory stays bounded: the phoneme budget across workers and the arena shrinking.

ONNX Runtime's arena grows with every new input length when left alone; the engine caps the
phonemes in flight across its worker threads and returns unused arena memory after each call.
Measured in a fresh process (peak RSS is per process).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import json, resource, sys
from pathlib import Path
from podcast import EngineContext, Turn, Voice
from podcast.stages.synthesize.kokoro import KokoroEngine, KokoroOptions

def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

engine = KokoroEngine(KokoroOptions(max_phonemes=48, budget=48, workers=2), EngineContext(cache_dir=Path(sys.argv[1])))
engine.load()
loaded = peak()
texts = ["The sail is wide and thin, and it shines.", "It moves.", "Light pushes it along, slowly.",
         "Then faster.", "Years later it is far away from home.", "Yes."]
list(engine.synthesize_turns([(Turn("S2", texts[0]), Voice())], "en"))
first = peak()
done = list(engine.synthesize_turns([(Turn("S2", t), Voice()) for t in texts[1:]], "en"))
print(json.dumps({"loaded": loaded, "first": first, "peak": peak(), "in_flight": engine._budget.peak,
                  "turns": len(done)}))
"""


@pytest.mark.slow
def test_memory_stays_bounded_over_many_lengths(engine_cache: Path, kokoro) -> None:
    # ``kokoro`` (the session fixture) has assembled the model into the cache already.
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(engine_cache / "kokoro")], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    assert figures["turns"] == 5
    assert figures["in_flight"] <= 48  # two workers never exceed the budget together
    # Five more calls of new lengths, two workers at once, add little beyond the first call.
    assert figures["peak"] - figures["first"] < 40, figures
    assert figures["peak"] < 600, figures
