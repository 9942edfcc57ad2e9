"""The reference profiles reproduce MOSS-TTSD's normalize_text byte for byte."""

from __future__ import annotations

import json

import pytest

from podcast.stages.normalize import profiles as P
from tests.conftest import moss_fixtures

FIXTURES = moss_fixtures()
CASES_FILE = FIXTURES / "normalize" / "cases.json"
VERSIONS = {"v0_5": "moss-v0.5", "v0_7": "moss-v0.7", "v1_0": "moss-v1.0"}


def _cases() -> list[dict]:
    if not CASES_FILE.exists():
        return []
    return json.loads(CASES_FILE.read_text(encoding="utf-8"))


CASES = _cases()
needs_fixtures = pytest.mark.skipif(
    not CASES, reason=f"MOSS fixtures not found at {CASES_FILE} (set MOSS_FIXTURES)"
)


@needs_fixtures
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
@pytest.mark.parametrize("field", sorted(VERSIONS))
def test_published_case(case: dict, field: str) -> None:
    assert P.PROFILES[VERSIONS[field]].normalize(case["input"], "zh") == case[field]


@needs_fixtures
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
@pytest.mark.parametrize("field", ["v0_7_twice", "v1_0_twice"])
def test_published_twice(case: dict, field: str) -> None:
    profile = P.PROFILES[VERSIONS[field.removesuffix("_twice")]]
    assert profile.normalize(profile.normalize(case["input"], "en"), "en") == case[field]


@needs_fixtures
def test_every_rule_tag_is_covered() -> None:
    tags = {tag for case in CASES for tag in case["rules"]}
    assert {"merge", "bracket_number", "punct_collapse", "laugh_en", "removal_set"} <= tags


# Examples from docs/moss_ttsd.md §2 (outputs of the reference functions); they run
# without the fixture folder.
DOC_TABLE = [
    (
        "[S1]你好。今天天气不错。[S2]是啊！我们出去走走吧？",
        "[S1]你好，今天天气不错。[S2]是啊，我们出去走走吧。",
        "[S1]你好，今天天气不错。[S2]是啊！我们出去走走吧？",
        "[S1]你好，今天天气不错。[S2]是啊！我们出去走走吧？",
    ),
    (
        "[S1]第一句。\n[S1]第二句；还有：这个、那个。[S2]哈哈哈，太好笑了……真的——是这样",
        "[S1]第一句。[S1]第二句，还有，这个，那个。[S2](笑)，太好笑了，真的，是这样",
        "[S1]第一句。第二句，还有，这个，那个。[S2][笑]，太好笑了，真的，是这样",
        "[S1]第一句。第二句，还有，这个，那个。[S2][笑]，太好笑了，真的，是这样",
    ),
    (
        "[S1] Haha, that's funny. ha ha ha. [S2] Yeah: right; ok",
        "[S1](laughs), that's funny. (laughs).[S2]Yeah, right, ok",
        "[S1][laugh], that's funny. [laugh].[S2]Yeah, right, ok",
        "[S1][laugh], that's funny. [laugh].[S2]Yeah, right, ok",
    ),
    (
        "[S1]Wait... what?! Really?? Yes!!",
        "[S1]Wait... what,, Really,, Yes,.",
        "[S1]Wait... what?! Really?? Yes!!",
        "[S1]Wait， what? Really? Yes!",
    ),
    (
        "[S1]It’s ‘quoted’ text—with em dash… and ellipsis",
        "[S1]It's 'quoted' text—with em dash… and ellipsis",
        "[S1]It's 'quoted' text—with em dash… and ellipsis",
        "[S1]Its quoted text，with em dash， and ellipsis",
    ),
    ("[S1]Hello. [S1]World.", "[S1]Hello.[S1]World.", "[S1]Hello.World.", "[S1]Hello.World."),
    (
        "[S1]See reference [3] and year [2021].",
        "[S1]See reference[S3]and year[S2021].",
        "[S1]See reference[S3]and year[S2021].",
        "[S1]See reference[S3]and year[S2021].",
    ),
]


@pytest.mark.parametrize("row", DOC_TABLE, ids=range(len(DOC_TABLE)))
def test_doc_examples(row: tuple[str, str, str, str]) -> None:
    text, *expected = row
    got = [
        P.PROFILES[name].normalize(text, "en") for name in ("moss-v0.5", "moss-v0.7", "moss-v1.0")
    ]
    assert got == expected


def test_v10_is_not_idempotent_across_merges() -> None:
    once = P.PROFILES["moss-v1.0"].normalize("[S1]嗯。[S1]对。[S2]好[S2]的", "zh")
    assert once == "[S1]嗯。对。[S2]好的"
    assert P.PROFILES["moss-v1.0"].normalize(once, "zh") == "[S1]嗯，对。[S2]好的"


@pytest.mark.parametrize("name", ["moss-v0.5", "moss-v0.7", "moss-v1.0"])
def test_reference_idempotent_without_merges(name: str) -> None:
    # Where no merge happens the reference is a projection: a second pass changes nothing.
    profile = P.PROFILES[name]
    for text in (
        "[S1]你好，世界。[S2]好的！",
        "[S1]A, b; c: d.[S2]e —— f …… g",
        "[S1]哈哈哈 ha ha[S2]x",
    ):
        once = profile.normalize(text, "zh")
        assert profile.normalize(once, "zh") == once


@pytest.mark.parametrize("name", ["moss-v0.5", "moss-v0.7", "moss-v1.0"])
def test_reference_per_turn_keeps_turn_structure(name: str) -> None:
    profile = P.PROFILES[name]
    # On whole text the bracketed number becomes a tag; per turn it must not.
    assert profile.normalize_turn("See [3] and [S2] here.", "en") == "See 3 and S2 here."
    assert profile.normalize_turn("", "en") == ""
