"""Long documents: map-reduce keeps every prompt within budget and covers every paragraph."""

from __future__ import annotations

import json
import re

import pytest

from podcast.errors import UpstreamError
from podcast.stages.write import OpenAIWriter
from podcast.stages.write.longdoc import parse_outline, split_parts
from podcast.stages.write.parse import ScriptProblems

from .llm_cooperative import cooperative
from .llm_server import Reply
from .write_helpers import document

BUDGET = 8000


def _long_text(sections: int = 12, paragraphs: int = 4) -> str:
    blocks = []
    for s in range(1, sections + 1):
        blocks.append(f"## Topic {s}")
        for p in range(1, paragraphs + 1):
            blocks.append(
                f"Paragraph {s}.{p} marker-{s}-{p}. "
                + "Testing finds bugs early and keeps teams fast. " * 16
            )
    return "\n\n".join(blocks)


def test_long_document_is_map_reduced_within_budget(write, llm, keyed):
    text = _long_text()
    assert len(text) > 4 * BUDGET
    llm.responder = cooperative
    episode = write(
        OpenAIWriter, document(text), {"base_url": llm.url, "context_chars": BUDGET}, minutes=6
    )
    chats = llm.chats
    assert max(c.prompt_chars for c in chats) <= BUDGET
    details = episode.meta["write.details"]
    assert details["mode"] == "map-reduce" and details["calls"] == len(chats)
    by = details["calls_by_purpose"]
    assert (
        by["notes"] == details["parts"] >= 5
        and by["outline"] == 1
        and by["segment"] == details["chapters"] >= 3
    )
    assert details["largest_prompt_chars"] <= BUDGET
    notes_prompts = "\n".join(c.user for c in chats if c.user.startswith("Below is part"))
    markers = re.findall(r"marker-\d+-\d+", text)
    assert all(m in notes_prompts for m in markers)  # nothing dropped before the notes
    segment_prompts = [c.user for c in chats if "We are writing a long episode" in c.user]
    assert "nothing yet" in segment_prompts[0] and "The last turns:" in segment_prompts[1]
    assert "close the show naturally" in segment_prompts[-1]
    script = episode.script
    assert [c.title for c in script.chapters] == [
        f"Chapter {i}" for i in range(1, 2 * details["chapters"], 2)
    ]
    assert abs(details["units"] - 900) <= 180  # 6 minutes × 150 words, ±20 %


def test_notes_that_do_not_fit_are_condensed(write, llm, keyed):
    long_notes = "- " + "a very detailed note about testing " * 60

    def verbose(seen):
        return Reply(long_notes) if seen.user.startswith("Below is part") else cooperative(seen)

    llm.responder = verbose
    episode = write(
        OpenAIWriter,
        document(_long_text()),
        {"base_url": llm.url, "context_chars": BUDGET},
        minutes=4,
    )
    assert episode.meta["write.details"]["calls_by_purpose"]["condense"] >= 1
    assert max(c.prompt_chars for c in llm.chats) <= BUDGET


def test_outline_that_skips_parts_is_repaired_then_refused(write, llm, keyed):
    def forgetful(seen):
        if "Plan a podcast episode" in seen.prompt:
            return Reply(
                json.dumps(
                    {"title": "t", "chapters": [{"title": "Only one", "points": [], "parts": [1]}]}
                )
            )
        return cooperative(seen)

    llm.responder = forgetful
    with pytest.raises(UpstreamError, match="belong to no chapter"):
        write(OpenAIWriter, document(_long_text()), {"base_url": llm.url, "context_chars": BUDGET})
    outline_calls = [c for c in llm.chats if "Plan a podcast episode" in c.prompt]
    assert len(outline_calls) == 2 and "parts 2, 3" in outline_calls[1].user


def test_split_parts_respects_limit_and_keeps_all_text():
    doc = document(_long_text(3, 3) + "\n\n## Giant\n" + "x" * 5000)
    parts = split_parts(doc, 1500, "en")
    assert all(len(p) <= 1500 for p in parts)
    assert "".join(parts).count("x") == 5000
    assert all(m in "\n".join(parts) for m in re.findall(r"marker-\d+-\d+", doc.text))


def test_parse_outline_orders_and_deduplicates():
    answer = json.dumps(
        {
            "title": "T",
            "chapters": [
                {"title": "B", "points": ["p"], "parts": [3, 4]},
                {"title": "A", "points": [], "parts": [1, 2, 3]},
            ],
        }
    )
    title, plan = parse_outline(answer, 4)
    assert (
        title == "T"
        and [c.title for c in plan] == ["A", "B"]
        and plan[0].parts == (1, 2)
        and plan[1].parts == (3, 4)
    )
    with pytest.raises(ScriptProblems, match="do not exist"):
        parse_outline(json.dumps({"chapters": [{"title": "x", "parts": [1, 9]}]}), 1)
