"""MOSS-TTSD v1.0 prompts: the chat messages, their audio blocks and the unified id matrix.

One prompt row is ``[text id, c_1 … c_n]``. A message renders as
``<|im_start|>{role}\\n{content}<|im_end|>\\n``; each ``<|audio|>`` placeholder of L frames becomes
``<|audio_start|>`` + L slots + (n - 1) delay slots + ``<|audio_end|>`` (in the user turn every
slot is the user slot), and the codes go into the audio columns with the delay pattern
(codebook k shifted down k rows, starting on the first slot; empty cells hold the pad code). In
continuation mode the assistant block is cut after its last generation slot, so generation
continues the prompt audio. Rows of a batch are left-padded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .model import DelayConfig

__all__ = ["AUDIO", "Prompt", "build_prompt", "delay_pattern", "merge_speaker_tags", "pad_batch", "prefixed_text", "user_content"]

AUDIO = "<|audio|>"
_FIELDS = ("Instruction", "Tokens", "Quality", "Sound Event", "Ambient Sound", "Language")


@dataclass(frozen=True, slots=True)
class Prompt:
    """One prompt: ids ``[T, 1 + n]`` (int64) and the message blocks it is made of."""

    ids: np.ndarray
    blocks: tuple[np.ndarray, ...]


def user_content(text: str, references: Sequence[bool]) -> str:
    """The ``<user_inst>`` block: one ``[Sk]:`` + placeholder line pair per given reference."""
    refs = "\n".join(f"[S{k + 1}]:\n{AUDIO}" for k, given in enumerate(references) if given) or "None"
    lines = ["<user_inst>", "- Reference(s):", refs]
    for name in _FIELDS:
        lines += [f"- {name}:", "None"]
    lines += ["- Text:", text, "</user_inst>"]
    return "\n".join(lines)


def prefixed_text(script: str, transcripts: Sequence[tuple[int, str]]) -> str:
    """Reference transcripts (speaker number, text; ascending) before the script, each led by
    its ``[Sk]`` tag, then repeated tags of consecutive same-speaker segments merged."""
    head = "".join(t if t.startswith(f"[S{k}]") else f"[S{k}]{t}" for k, t in sorted(transcripts))
    return merge_speaker_tags(head + script)


def merge_speaker_tags(text: str) -> str:
    """Drop a ``[Sk]`` tag that repeats the previous segment's speaker (joined with no separator)."""
    out, previous = [], None
    for tag, body in re.findall(r"(\[S\d+\])?((?:(?!\[S\d+\]).)*)", text, flags=re.S):
        if not tag and not body:
            continue
        if tag and tag == previous:
            tag = ""
        previous = tag or previous
        out.append(tag + body)
    return "".join(out)


def delay_pattern(codes: np.ndarray, pad: int) -> np.ndarray:
    """``[L, n]`` codes -> ``[L + n - 1, n]`` with codebook k shifted down k rows."""
    length, n = codes.shape
    out = np.full((length + n - 1, n), pad, dtype=np.int64)
    for k in range(n):
        out[k : k + length, k] = codes[:, k]
    return out


def build_prompt(
    tokenizer: object, cfg: DelayConfig, text: str, references: Sequence[np.ndarray | None], prompt_codes: np.ndarray | None
) -> Prompt:
    """The prompt of one row: the user turn (references, text), and, when ``prompt_codes`` are
    given, the assistant turn cut for continuation; otherwise the generation prompt."""
    user = _message(tokenizer, cfg, "user", user_content(text, [r is not None for r in references]),
                    [r for r in references if r is not None])  # fmt: skip
    if prompt_codes is None:
        opening = _tokens(tokenizer, "<|im_start|>assistant\n")
        tail = np.full((len(opening), 1 + cfg.n_vq), cfg.audio_pad_code, dtype=np.int64)
        tail[:, 0] = opening
        blocks = (user, tail)
    else:
        assistant = _message(tokenizer, cfg, "assistant", AUDIO, [prompt_codes])
        cut = _last_index(assistant[:, 0], cfg.audio_start) + len(prompt_codes) + 1
        blocks = (user, assistant[:cut])
    return Prompt(np.concatenate(blocks), blocks)


def _message(tokenizer: object, cfg: DelayConfig, role: str, content: str, codes: Sequence[np.ndarray]) -> np.ndarray:
    slot = cfg.user_slot if role == "user" else cfg.gen_slot
    delay = cfg.user_slot if role == "user" else cfg.delay_slot
    names = dict(zip(("start", "end", "slot", "delay"),
                     _names(tokenizer, (cfg.audio_start, cfg.audio_end, slot, delay)), strict=True))  # fmt: skip
    pieces = content.split(AUDIO)
    if len(pieces) != len(codes) + 1:
        raise ValueError(f"{len(pieces) - 1} audio placeholders for {len(codes)} code blocks")
    expanded = pieces[0]
    for block, piece in zip(codes, pieces[1:], strict=True):
        expanded += names["start"] + names["slot"] * len(block) + names["delay"] * (cfg.n_vq - 1) + names["end"] + piece
    ids = _tokens(tokenizer, f"<|im_start|>{role}\n{expanded}<|im_end|>\n")
    rows = np.full((len(ids), 1 + cfg.n_vq), cfg.audio_pad_code, dtype=np.int64)
    rows[:, 0] = ids
    starts = np.flatnonzero(ids == cfg.audio_start)
    for start, block in zip(starts, codes, strict=True):
        delayed = delay_pattern(np.asarray(block, dtype=np.int64), cfg.audio_pad_code)
        rows[start + 1 : start + 1 + len(delayed), 1:] = delayed
    return rows


def _names(tokenizer: object, ids: Sequence[int]) -> list[str]:
    return list(tokenizer.convert_ids_to_tokens(list(ids)))  # type: ignore[attr-defined]


def _tokens(tokenizer: object, text: str) -> np.ndarray:
    return np.asarray(tokenizer(text, add_special_tokens=False)["input_ids"], dtype=np.int64)  # type: ignore[operator]


def _last_index(column: np.ndarray, value: int) -> int:
    hits = np.flatnonzero(column == value)
    if not len(hits):
        raise ValueError("the assistant message has no audio block")
    return int(hits[-1])


def pad_batch(prompts: Sequence[np.ndarray], cfg: DelayConfig) -> tuple[np.ndarray, np.ndarray]:
    """Left-pad rows to one length: ids ``[B, T, 1 + n]`` and attention mask ``[B, T]``."""
    width = max(len(p) for p in prompts)
    ids = np.full((len(prompts), width, 1 + cfg.n_vq), cfg.audio_pad_code, dtype=np.int64)
    ids[:, :, 0] = cfg.pad_token_id
    mask = np.zeros((len(prompts), width), dtype=np.int64)
    for b, prompt in enumerate(prompts):
        ids[b, width - len(prompt) :] = prompt
        mask[b, width - len(prompt) :] = 1
    return ids, mask
