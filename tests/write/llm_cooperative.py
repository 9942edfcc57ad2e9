"""A cooperative fake model: answers every writer prompt the way a good LLM would, with
exactly the length the prompt asks for, so tests can check planning and length control."""

from __future__ import annotations

import json
import re

from .llm_server import Reply, Seen

WORDS = ["the", "study", "shows", "that", "careful", "testing", "finds", "most", "bugs", "early", "and", "saves", "a", "lot", "of", "time", "for", "every", "team", "that", "ships", "software", "to", "real", "users", "every", "single", "week"]
ZH = "研究表明认真测试能够尽早发现大多数问题并为每个团队节省大量时间"


def cooperative(seen: Seen) -> Reply:
    """Notes, condensed notes, an outline covering every part, or a script of the asked length."""
    user = seen.prompt
    if user.startswith("Below is part") or ("下面是原始资料" in user and "部分（共" in user):
        part = re.search(r"part (\d+)|第 (\d+) 部分", user)
        number = next(g for g in part.groups() if g)
        return Reply(
            f"- part {number}: the text explains how testing finds bugs early.\n- it gives numbers and names."
        )
    if "Merge them into one set of notes" in user or "合并为一份" in user:
        return Reply("- condensed: testing finds bugs early, with numbers and names.")
    if "Plan a podcast episode" in user or "请把一期长度为" in user:
        parts = int(re.search(r"notes on the (\d+) parts|全部 (\d+) 个部分", user).group(1) or 0)
        chapters = [
            {
                "title": f"Chapter {i}",
                "points": [f"point {i}"],
                "parts": [p for p in (i, i + 1) if p <= parts],
            }
            for i in range(1, parts + 1, 2)
        ]
        return Reply(json.dumps({"title": "Planned episode", "chapters": chapters}))
    zh = re.search(r"约 (\d+) 字", user)
    if zh:
        return Reply(script_json(int(zh.group(1)), "zh"))
    target = int(re.search(r"about (\d+) words", user).group(1))
    return Reply(script_json(target, "en"))


def script_json(units: int, language: str = "en", chapter: str = "Opening") -> str:
    """A JSON script of about ``units`` words (en) or characters (zh), alternating S1/S2
    with a backchannel turn after every long turn."""
    turns, spoken, index = [], 0, 0
    while spoken < units:
        size = min(30 if language == "en" else 60, units - spoken)
        if language == "en":
            text = " ".join(WORDS[(index + i) % len(WORDS)] for i in range(size)).capitalize() + "."
        else:
            text = (ZH * (size // len(ZH) + 1))[:size] + "。"
        turns.append(
            {
                "speaker": "S1" if len(turns) % 2 == 0 else "S2",
                "text": text,
                "chapter": chapter if not turns else "",
            }
        )
        spoken += size
        index += size
    return json.dumps({"title": "Test episode", "turns": turns}, ensure_ascii=False)
