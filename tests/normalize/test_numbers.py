"""The hand-rolled hot-path readers agree with the maintained libraries they stand in for."""

from __future__ import annotations

import random

import pytest

from podcast.stages.normalize import numbers as n

RND = random.Random(20240664)
SAMPLE = sorted(
    {
        *range(0, 2100),
        *(RND.randrange(10**k) for k in range(1, 13) for _ in range(150)),
        10**11,
        10**12 - 1,
    }
)


def test_english_cardinal_matches_num2words() -> None:
    from num2words import num2words

    for value in SAMPLE:
        expected = " ".join(
            num2words(value, lang="en").replace(",", "").replace(" and ", " ").split()
        )
        assert n.en_cardinal(str(value)) == expected, value
    assert n.en_cardinal("-15") == "minus fifteen"


def _has_empty_middle_group(value: int) -> bool:
    # cn2an drops the 零 for an all-zero 万 group (100001000 → 一亿一千); we say 一亿零一千.
    return value >= 10**8 and value // 10**4 % 10**4 == 0 and value % 10**4 != 0


def test_chinese_integer_matches_cn2an() -> None:
    import cn2an

    for value in SAMPLE:
        if not _has_empty_middle_group(value):
            assert n._zh_integer(value) == cn2an.an2cn(str(value), "low"), value
    assert n._zh_integer(100001000) == "一亿零一千"
    assert n._zh_integer(10**13) == cn2an.an2cn(str(10**13), "low")


@pytest.mark.parametrize(
    ("digits", "expected"),
    [
        ("2", "二"),
        ("2000", "两千"),
        ("200", "两百"),
        ("22222", "两万两千二百二十二"),
        ("12", "十二"),
        ("2021", "两千零二十一"),
    ],
)
def test_chinese_liang(digits: str, expected: str) -> None:
    assert n.zh_cardinal(digits) == expected


def test_years_and_pairs() -> None:
    assert n.en_year("2021") == "twenty twenty-one"
    assert n.en_year("1905") == "nineteen oh-five"
    assert n.en_pair("4090") == "forty ninety"
    assert n.en_pair("3000") == "three thousand"
    assert n.zh_year("2021") == "二零二一"
