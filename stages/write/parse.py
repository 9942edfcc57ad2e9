"""Turn an LLM's answer into a validated :class:`~podcast.models.Script`.

Accepted answers: JSON (``{"title", "turns": [{"speaker", "text", "chapter"}]}``, a bare list of
turns, or a ``script`` string) and the plain MOSS form (``[S1]…[S2]…`` as one string or one turn
per line, ``## title`` chapter lines), because many local models ignore schemas.  ``<think>``
blocks, markdown fences, a short preamble and ``Name:`` prefixes are removed.  Validation
refuses unknown speakers, a single speaker, empty turns, tag text inside turns and a script
mostly in another language; :class:`ScriptProblems` lists what is wrong so the writer can ask
the model for one repair.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from podcast import Chapter, Script, Speaker, Turn

__all__ = [
    "SCRIPT_SCHEMA",
    "ScriptProblems",
    "clean_reply",
    "extract_json",
    "parse_script",
    "validate_script",
]

SCRIPT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "turns": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "speaker": {"type": "string", "description": "S1, S2, …"},
                    "text": {"type": "string"},
                    "chapter": {
                        "type": "string",
                        "description": "a chapter title when a new topic starts here, else empty",
                    },
                },
                "required": ["speaker", "text", "chapter"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["title", "turns"],
    "additionalProperties": False,
}
MAX_PREAMBLE = 300  # characters of chatter before the first tag that may be dropped
_THINK = re.compile(r"<(think|thinking|reasoning)>.*?</\1>", re.S | re.I)
_OPEN_THINK = re.compile(r"^\s*<(think|thinking|reasoning)>.*", re.S | re.I)
_FENCE = re.compile(r"```[\w+-]*\s*\n(.*?)\n?```", re.S)
_TAG = re.compile(r"\[S\d+\]")
_INNER_TAG = re.compile(r"\[\s*(?:S\s*)?\d+\s*\]|<\s*/?\s*speaker\s*\d+\s*>", re.I)
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_LETTER = re.compile(r"[^\W\d_]", re.U)


class ScriptProblems(ValueError):
    """The answer is not a usable script; ``problems`` says why, one short sentence each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


def clean_reply(text: str) -> str:
    """Remove reasoning blocks and markdown fences (keeping the fenced content)."""
    text = _THINK.sub("", text or "")
    if "</think>" in text.lower():  # an opening tag the server swallowed: keep what follows
        text = re.split(r"</think>", text, flags=re.I)[-1]
    text = _OPEN_THINK.sub("", text)  # an unterminated block is all reasoning
    fenced = _FENCE.findall(text)
    if fenced:
        text = max(fenced, key=len)
    return text.strip()


def extract_json(text: str) -> Any | None:
    """The JSON value in ``text`` (whole, or the outermost ``{…}``/``[…]``), else ``None``."""
    candidates = [text]
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = text.find(opener), text.rfind(closer)
        if 0 <= start < end:
            candidates.append(text[start : end + 1])
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return None


def parse_script(
    answer: str, language: str, speakers: tuple[Speaker, ...], whole: bool = True
) -> Script:
    """Parse and validate an answer (see :func:`validate_script` for ``whole``); raises
    :class:`ScriptProblems`."""
    text = clean_reply(answer)
    if not text:
        raise ScriptProblems(["the answer was empty"])
    data = extract_json(text) if text[0] in "{[" or not _TAG.search(text) else None
    if data is not None and not isinstance(data, str):
        script = _from_json(data, language, speakers)
    else:
        script = _from_moss(data if isinstance(data, str) else text, language, speakers)
    validate_script(script, language, speakers, whole)
    return script


# ── JSON ────────────────────────────────────────────────────────────────────────


def _from_json(data: Any, language: str, speakers: tuple[Speaker, ...]) -> Script:
    title = ""
    if isinstance(data, Mapping):
        title = str(data.get("title") or "")
        raw = next(
            (data[k] for k in ("turns", "script", "dialogue", "dialog", "lines") if k in data), None
        )
        if isinstance(raw, str):
            return _retitle(_from_moss(raw, language, speakers), title)
        items = raw
    else:
        items = data
    if not isinstance(items, list) or not items:
        raise ScriptProblems(['the JSON has no "turns" list'])
    turns, chapters = [], []
    for item in items:
        speaker, body, chapter = _json_turn(item)
        if chapter:
            chapters.append(Chapter(len(turns), chapter))
        turns.append(Turn(_speaker_id(speaker, speakers), _clean_text(body, speakers)))
    return Script(language, tuple(turns), speakers, tuple(chapters), title)


def _json_turn(item: Any) -> tuple[str, str, str]:
    if isinstance(item, Mapping):
        speaker = item.get("speaker", item.get("role", item.get("name", "")))
        body = item.get("text", item.get("content", item.get("line", "")))
        return str(speaker or ""), str(body or ""), str(item.get("chapter") or "").strip()
    if isinstance(item, str):
        match = re.match(r"\s*\[(S\d+)\](.*)", item, re.S)
        if match:
            return match.group(1), match.group(2), ""
    raise ScriptProblems([f"a turn is not an object with speaker and text: {str(item)[:60]!r}"])


def _retitle(script: Script, title: str) -> Script:
    from dataclasses import replace

    return replace(script, title=title or script.title)


# ── MOSS form ───────────────────────────────────────────────────────────────────


def _from_moss(text: str, language: str, speakers: tuple[Speaker, ...]) -> Script:
    text = _tag_prefixes(text, speakers)
    first = _TAG.search(text)
    if first is None:
        raise ScriptProblems(
            ["no speaker tags: answer in the JSON format asked for, or as [S1]…[S2]… turns"]
        )
    head = "\n".join(ln for ln in text[: first.start()].splitlines() if ln.strip().startswith("#"))
    dropped = "\n".join(
        ln for ln in text[: first.start()].splitlines() if not ln.strip().startswith("#")
    ).strip()
    if len(dropped) > MAX_PREAMBLE:
        raise ScriptProblems(
            ["there is text before the first speaker tag; start the answer with a turn"]
        )
    script = Script.parse(head + "\n" + text[first.start() :], language, speakers)
    return Script(
        language,
        tuple(Turn(t.speaker, _clean_text(t.text, speakers)) for t in script.turns),
        speakers,
        script.chapters,
        script.title,
    )


def _tag_prefixes(text: str, speakers: tuple[Speaker, ...]) -> str:
    """``**[S1]**``, ``[S1]:``, ``S1:`` and ``Alex:`` at line starts become plain ``[S1]``."""
    text = re.sub(r"\*\*\s*(\[S\d+\])\s*\*\*", r"\1", text)
    text = re.sub(r"(\[S\d+\])\s*[:：]\s*", r"\1", text)
    text = re.sub(r"(?m)^\s*(S\d+)\s*[:：]\s*", r"[\1]", text)
    for speaker in speakers:
        if speaker.name:
            text = re.sub(
                rf"(?m)^\s*\**{re.escape(speaker.name)}\**\s*[:：]\s*", f"[{speaker.id}]", text
            )
    return text


# ── shared clean-up and validation ──────────────────────────────────────────────


def _speaker_id(raw: str, speakers: tuple[Speaker, ...]) -> str:
    value = raw.strip().strip("[]").strip()
    if value.isdigit():
        value = f"S{value}"
    for speaker in speakers:
        if value.upper() == speaker.id or (
            speaker.name and value.casefold() == speaker.name.casefold()
        ):
            return speaker.id
    return value.upper() if re.fullmatch(r"s\d+", value, re.I) else value


def _clean_text(text: str, speakers: tuple[Speaker, ...]) -> str:
    text = " ".join(str(text).split())
    for speaker in speakers:
        for label in (f"[{speaker.id}]", f"{speaker.id}:", f"{speaker.name}:", f"{speaker.name}："):
            if speaker.name and text.startswith(label):
                text = text[len(label) :].strip()
    return text


def validate_script(
    script: Script, language: str, speakers: tuple[Speaker, ...], whole: bool = True
) -> None:
    """Raise :class:`ScriptProblems` listing everything that makes ``script`` unusable.

    ``whole=False`` (one segment of a long episode) skips the two-speaker rule.
    """
    known = {s.id: s.name for s in speakers}
    problems = []
    unknown = sorted({t.speaker for t in script.turns} - set(known))
    if unknown:
        allowed = ", ".join(f"{k} ({v})" for k, v in known.items())
        problems.append(f"unknown speaker(s) {', '.join(unknown)}; use only {allowed}")
    if whole and len({t.speaker for t in script.turns} & set(known)) < 2:
        problems.append("only one speaker talks; write a dialogue in which both hosts speak")
    for index, turn in enumerate(script.turns, 1):
        if not turn.text.strip():
            problems.append(f"turn {index} is empty")
        elif _INNER_TAG.search(turn.text):
            problems.append(
                f"turn {index} contains tag-like text {_INNER_TAG.search(turn.text).group(0)!r}; "
                "no brackets with numbers inside turns"
            )
    share = language_share(" ".join(t.text for t in script.turns), language)
    if share < (0.5 if language == "zh" else 0.8):
        problems.append(
            f"the script is not mostly in {'Chinese' if language == 'zh' else 'English'} ({share:.0%})"
        )
    if problems:
        raise ScriptProblems(problems[:8])


def language_share(text: str, language: str) -> float:
    """Share of ``text`` in ``language``: Han characters against words (zh), or Latin letters
    against all letters (en); 1.0 for text without letters."""
    han = len(_HAN.findall(text))
    if language == "zh":
        other = len(_LATIN_WORD.findall(text)) + len(
            re.findall(r"[^\W\d_A-Za-z\u3400-\u9fff\uf900-\ufaff]+", text)
        )
        return han / (han + other) if han + other else 1.0
    letters = _LETTER.findall(text)
    latin = sum(1 for c in letters if c.isascii() or "\u00c0" <= c <= "\u024f")
    return latin / len(letters) if letters else 1.0
