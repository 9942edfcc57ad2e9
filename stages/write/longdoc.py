"""Documents longer than the prompt budget: map-reduce, so nothing is cut silently.

1. **Map** — the document is split into parts that fit the budget (at section, paragraph and
   sentence boundaries) and each part becomes dense notes (one call per part).
2. **Reduce** — notes that together exceed the budget are condensed group by group until they
   fit; then one call plans the episode as chapters, each owning consecutive parts, and the plan
   is refused (and repaired once) unless every part belongs to a chapter.
3. **Draft** — each chapter is written from its own parts' notes, the plan and a short running
   recap (chapter titles so far and the last turns), with its share of the length budget.

Every prompt stays within ``context_chars`` minus a margin for one repair round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podcast import Chapter, Document, Script, UpstreamError

from .extract import split_sentences
from .llmbase import REPAIR_MARGIN, UnusableAnswer
from .parse import ScriptProblems, clean_reply, extract_json, validate_script

if TYPE_CHECKING:
    from .session import Session

__all__ = [
    "OUTLINE_SCHEMA",
    "Planned",
    "join_scripts",
    "parse_outline",
    "split_parts",
    "write_long",
]

CHARS_PER_UNIT = {
    "en": 6.5,
    "zh": 1.4,
}  # characters per word (en) / per 字 (zh), punctuation included
RECAP_CHARS = 1200
POINTS_CHARS = 1200
OUTLINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "chapters": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "points": {"type": "array", "items": {"type": "string"}},
                    "parts": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["title", "points", "parts"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["title", "chapters"],
    "additionalProperties": False,
}


@dataclass(frozen=True, slots=True)
class Planned:
    """One chapter of the plan: its title, points to cover and the parts (1-based) it draws on."""

    title: str
    points: tuple[str, ...]
    parts: tuple[int, ...]


def write_long(session: Session, document: Document) -> Script:
    """The map-reduce path: notes per part → plan → chapter-by-chapter drafting."""
    values = {**session.values(session.target), "title": document.title}
    overhead = len(
        session.book.fill(
            "notes", {**values, "part": 99, "parts": 99, "note_words": 999, "text": ""}
        )
    )
    parts = split_parts(document, session.budget - REPAIR_MARGIN - overhead, session.language)
    words = _note_words(session, len(parts))
    notes = []
    for index, text in enumerate(parts, 1):
        prompt = session.book.fill(
            "notes",
            {**values, "part": index, "parts": len(parts), "note_words": words, "text": text},
        )
        notes.append(session.ask_text(prompt, "notes", f"notes {index}/{len(parts)}"))
    session.material = "\n\n".join(notes)
    title, plan = _plan(session, document, notes, values)
    session.facts.update(parts=len(parts), chapters=len(plan))
    return _draft(session, title or document.title, plan, notes)


def split_parts(document: Document, limit: int, language: str) -> list[str]:
    """The document as consecutive parts of at most ``limit`` characters, split at section,
    paragraph, sentence and (for giant sentences only) character boundaries."""
    limit = max(limit, 200)
    blocks: list[str] = []
    for section in document.sections:
        if section.heading:
            blocks.append(f"## {section.heading}")
        for paragraph in (p.strip() for p in section.text.split("\n\n")):
            blocks.extend(_pieces(paragraph, limit, language) if paragraph else [])
    return _pack(blocks, limit, "\n\n")


def _pieces(paragraph: str, limit: int, language: str) -> list[str]:
    if len(paragraph) <= limit:
        return [paragraph]
    pieces = []
    for sentence in split_sentences(paragraph, language):
        pieces += [sentence[i : i + limit] for i in range(0, len(sentence), limit)]
    return _pack(pieces, limit, "" if language == "zh" else " ")


def _pack(blocks: Sequence[str], limit: int, joiner: str) -> list[str]:
    """Greedy packing of consecutive blocks into strings of at most ``limit`` characters."""
    packed: list[str] = []
    current = ""
    for block in blocks:
        candidate = f"{current}{joiner}{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
        else:
            if current:
                packed.append(current)
            current = block
    if current:
        packed.append(current)
    return packed


def _note_words(session: Session, count: int) -> int:
    """Words (字) per part's notes so that all notes together roughly fit one prompt."""
    room = session.budget * 0.6 / max(count, 1) / CHARS_PER_UNIT.get(session.language, 6.5)
    return int(min(400, max(60, room)))


# ── reduce ──────────────────────────────────────────────────────────────────────


def fit_notes(
    session: Session, labelled: list[tuple[str, str]], room: int, title: str
) -> list[tuple[str, str]]:
    """Condense ``(label, notes)`` items group by group until they fit ``room`` characters."""
    for _ in range(4):
        if len(_join_notes(labelled)) <= room:
            return labelled
        overhead = len(
            session.book.fill("condense", {"title": title, "note_words": 999, "notes": ""})
        )
        groups = _groups(labelled, session.budget - REPAIR_MARGIN - overhead)
        words = max(40, int(room * 0.8 / len(groups) / CHARS_PER_UNIT.get(session.language, 6.5)))
        labelled = [(_span(group), _condense(session, group, words, title)) for group in groups]
    raise UpstreamError(
        f"the notes still exceed {session.budget} characters after condensing; raise stages.write.*.context_chars"
    )


def _condense(session: Session, group: list[tuple[str, str]], words: int, title: str) -> str:
    prompt = session.book.fill(
        "condense", {"title": title, "note_words": words, "notes": _join_notes(group)}
    )
    return session.ask_text(prompt, "condense", f"condense {_span(group)}")


def _groups(labelled: list[tuple[str, str]], limit: int) -> list[list[tuple[str, str]]]:
    """Consecutive groups whose joined notes fit ``limit`` (oversized notes split by lines)."""
    items = [
        (label, chunk)
        for label, text in labelled
        for chunk in _pack(text.splitlines(), limit - 40, "\n")
    ]
    groups: list[list[tuple[str, str]]] = [[]]
    for item in items:
        if groups[-1] and len(_join_notes([*groups[-1], item])) > limit:
            groups.append([])
        groups[-1].append(item)
    return groups


def _span(group: list[tuple[str, str]]) -> str:
    first, last = group[0][0], group[-1][0]
    return first if first == last else f"{first.split('–')[0]}–{last.split('–')[-1].split()[-1]}"


def _join_notes(labelled: Sequence[tuple[str, str]]) -> str:
    return "\n\n".join(f"[{label}]\n{text}" for label, text in labelled)


def _plan(
    session: Session, document: Document, notes: list[str], values: dict[str, Any]
) -> tuple[str, list[Planned]]:
    count = len(notes)
    least, most = min(count, 3), max(min(count, 3), min(count, 8))
    fields = {**values, "parts": count, "least": least, "most": most}
    room = (
        session.budget - REPAIR_MARGIN - len(session.book.fill("outline", {**fields, "notes": ""}))
    )
    labelled = fit_notes(
        session, [(f"Part {i}", n) for i, n in enumerate(notes, 1)], room, document.title
    )
    prompt = session.book.fill("outline", {**fields, "notes": _join_notes(labelled)})
    return session.ask(
        prompt, "outline", OUTLINE_SCHEMA, lambda answer: parse_outline(answer, count)
    )


def parse_outline(answer: str, parts: int) -> tuple[str, list[Planned]]:
    """The plan's title and chapters in source order; every part must be covered."""
    data = extract_json(clean_reply(answer))
    raw = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not raw:
        raise ScriptProblems(
            ['answer with JSON {"title": …, "chapters": [{"title", "points", "parts"}]}']
        )
    chapters, seen, problems = [], set(), []
    for item in raw:
        if not isinstance(item, dict):
            continue
        numbers = [int(p) for p in item.get("parts") or [] if str(p).strip().isdigit()]
        bad = [n for n in numbers if not 1 <= n <= parts]
        if bad:
            problems.append(
                f"chapter {str(item.get('title'))[:40]!r} names parts {bad} that do not exist (1 to {parts})"
            )
        own = tuple(sorted({n for n in numbers if 1 <= n <= parts} - seen))
        seen.update(own)
        points = tuple(str(p) for p in item.get("points") or [] if str(p).strip())
        if own:
            chapters.append(
                Planned(str(item.get("title") or "").strip() or f"Part {own[0]}", points, own)
            )
    missing = sorted(set(range(1, parts + 1)) - seen)
    if missing:
        problems.append(
            f"parts {', '.join(map(str, missing))} belong to no chapter; every part must belong to one"
        )
    if problems:
        raise ScriptProblems(problems)
    return str(data.get("title") or ""), sorted(chapters, key=lambda c: c.parts[0])


# ── draft ───────────────────────────────────────────────────────────────────────


def _draft(session: Session, title: str, plan: list[Planned], notes: list[str]) -> Script:
    total = sum(len(n) for n in notes) or 1
    outline = "\n".join(f"{i}. {c.title[:100]}" for i, c in enumerate(plan, 1))
    scripts: list[Script] = []
    for index, chapter in enumerate(plan, 1):
        share = sum(len(notes[p - 1]) for p in chapter.parts) / total
        fields = {
            **session.values(max(30, round(session.target * share))),
            "outline": outline,
            "index": index,
            "count": len(plan),
            "chapter": chapter.title[:100],
            "points": _cap("\n".join(f"- {p}" for p in chapter.points), POINTS_CHARS),
            "position": session.book.phrase(_position(index, len(plan))),
            "recap": _recap(session, scripts),
        }
        room = (
            session.budget
            - REPAIR_MARGIN
            - len(session.system())
            - len(session.book.fill("segment", {**fields, "notes": ""}))
        )
        mine = fit_notes(session, [(f"Part {p}", notes[p - 1]) for p in chapter.parts], room, title)
        prompt = session.book.fill("segment", {**fields, "notes": _join_notes(mine)})
        script = session.ask_script(
            prompt, "segment", whole=False, label=f"chapter {index}/{len(plan)}"
        )
        scripts.append(_marked(script, chapter.title))
    return join_scripts(scripts, title, session)


def _position(index: int, count: int) -> str:
    if count == 1:
        return "only"
    return "first" if index == 1 else "last" if index == count else "middle"


def _recap(session: Session, scripts: list[Script]) -> str:
    if not scripts:
        return session.book.phrase("no_recap")
    titles = [c.title for s in scripts for c in s.chapters]
    lines: list[str] = []
    for turn in reversed(scripts[-1].turns):
        line = f"[{turn.speaker}]{turn.text}"
        if lines and sum(map(len, lines)) + len(line) > RECAP_CHARS:
            break
        lines.insert(0, _cap(line, RECAP_CHARS))
    head = session.book.phrase("chapters_so_far") + " " + "; ".join(t[:80] for t in titles)
    return f"{_cap(head, 600)}\n{session.book.phrase('last_turns')}\n" + "\n".join(lines)


def _marked(script: Script, title: str) -> Script:
    """Make sure the chapter starts with its planned title."""
    from dataclasses import replace

    chapters = [c for c in script.chapters if c.turn > 0]
    return replace(script, chapters=(Chapter(0, title), *chapters))


def join_scripts(parts: Sequence[Script], title: str, session: Session) -> Script:
    """Concatenate chapter scripts (chapter marks shifted) and validate the whole."""
    turns: list[Any] = []
    chapters: list[Chapter] = []
    for part in parts:
        chapters += [Chapter(c.turn + len(turns), c.title) for c in part.chapters]
        turns += part.turns
    script = Script(session.language, tuple(turns), session.speakers, tuple(chapters), title)
    try:
        validate_script(script, session.language, session.speakers)
    except ScriptProblems as exc:
        raise UnusableAnswer(
            f"{session.client.label}: the joined script is unusable: {exc}"
        ) from None
    return script


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
