"""Test-only helpers for the MOSS-TTSD LM tests: the fixture tokenizer stub and the reference normalizer."""

from __future__ import annotations

from typing import Any


class StubTokenizer:
    """The stand-in tokenizer the fixtures were built with (see the fixture README).

    Special tokens map to fixed ids; every other code point c maps to ``ord(c)`` if below the
    pad id, else ``ord(c) % pad``.
    """

    def __init__(self, spec: dict) -> None:
        self.pad_token_id = int(spec["pad_token_id"])
        self.special = {k: int(v) for k, v in spec["special_tokens"].items()}
        self._by_length = sorted(self.special, key=len, reverse=True)

    def encode(self, text: str) -> list[int]:
        ids, i = [], 0
        while i < len(text):
            token = next((t for t in self._by_length if text.startswith(t, i)), None)
            if token is not None:
                ids.append(self.special[token])
                i += len(token)
                continue
            code = ord(text[i])
            ids.append(code if code < self.pad_token_id else code % self.pad_token_id)
            i += 1
        return ids


def reference_normalizer(version: str = "v0.7") -> Any:
    """The reference ``normalize_text`` of ``version`` ("v0.5" or "v0.7"), as parity tests
    inject it into the runtime (the pipeline normalizes in its own stage instead)."""
    from functools import partial

    from podcast.stages.normalize import moss

    rules = {"v0.5": moss.MOSS_V0_5, "v0.7": moss.MOSS_V0_7}.get(version)
    if rules is None:
        raise ValueError(f"MOSS-TTSD version must be v0.5 or v0.7, got {version!r}")
    return partial(moss.moss_normalize, rules=rules)
