"""Spark-TTS prompt strings (both modes, exactly as the reference builds them) and the parsing
of generated ids back into global and semantic ids.

Token ids are never hard-coded: every Spark token is resolved by its string through the
folder's tokenizer, so the real, the tiny and any other tokenizer layout work alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

GENDERS = {"female": 0, "male": 1}
LEVELS = {"very_low": 0, "low": 1, "moderate": 2, "high": 3, "very_high": 4}


def global_tokens(ids: Sequence[int]) -> str:
    return "".join(f"<|bicodec_global_{i}|>" for i in ids)


def semantic_tokens(ids: Sequence[int]) -> str:
    return "".join(f"<|bicodec_semantic_{i}|>" for i in ids)


def clone_prompt(
    text: str, global_ids: Sequence[int], prompt_text: str | None = None, prompt_semantic: Sequence[int] = ()
) -> str:
    """Voice cloning: the target text (after the reference transcript, glued with no space, when
    there is one) and the reference's global tokens; with a transcript, every semantic token of
    the reference follows, with no closing tag (the model continues that stream)."""
    content = (prompt_text or "") + text
    prompt = f"<|task_tts|><|start_content|>{content}<|end_content|>"
    prompt += f"<|start_global_token|>{global_tokens(global_ids)}<|end_global_token|>"
    if prompt_text is not None:
        prompt += f"<|start_semantic_token|>{semantic_tokens(prompt_semantic)}"
    return prompt


def create_prompt(text: str, gender: str, pitch: str, speed: str) -> str:
    """Voice creation from attributes (gender, pitch level, speed level)."""
    if gender not in GENDERS or pitch not in LEVELS or speed not in LEVELS:
        raise ValueError(f"unknown voice attributes {gender!r}, {pitch!r}, {speed!r}")
    labels = f"<|gender_{GENDERS[gender]}|><|pitch_label_{LEVELS[pitch]}|><|speed_label_{LEVELS[speed]}|>"
    return (
        f"<|task_controllable_tts|><|start_content|>{text}<|end_content|>"
        f"<|start_style_label|>{labels}<|end_style_label|>"
    )


@dataclass(frozen=True, slots=True)
class SparkVocab:
    """Where the global and semantic token families sit in one tokenizer."""

    global_first: int
    global_count: int
    semantic_first: int
    semantic_count: int
    eos: int

    @classmethod
    def resolve(cls, tokenizer: Any, global_count: int, semantic_count: int, eos: int) -> SparkVocab:
        """Look the families up by string and check they are contiguous and complete."""
        from podcast import MissingModelError

        firsts = []
        for family, count in (("bicodec_global", global_count), ("bicodec_semantic", semantic_count)):
            first = tokenizer.convert_tokens_to_ids(f"<|{family}_0|>")
            last = tokenizer.convert_tokens_to_ids(f"<|{family}_{count - 1}|>")
            if first is None or first == tokenizer.unk_token_id or last != first + count - 1:
                raise MissingModelError(
                    f"the LLM tokenizer lacks the {count} <|{family}_N|> tokens BiCodec needs; it is not a Spark-TTS tokenizer"
                )
            firsts.append(first)
        return cls(firsts[0], global_count, firsts[1], semantic_count, eos)

    def parse(self, generated: Sequence[int]) -> tuple[list[int], list[int]]:
        """(global ids, semantic ids) in generation order; everything else is ignored."""
        globals_, semantics = [], []
        for token in generated:
            if 0 <= token - self.global_first < self.global_count:
                globals_.append(token - self.global_first)
            elif 0 <= token - self.semantic_first < self.semantic_count:
                semantics.append(token - self.semantic_first)
        return globals_, semantics
