"""Test-only helpers for the MOSS-TTSD LM tests: the fixture tokenizer stub."""

from __future__ import annotations


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
