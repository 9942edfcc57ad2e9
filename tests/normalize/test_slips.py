"""Issue 10, item 13: money said twice, URLs read in full, Chinese numerals inside Latin names,
upper-case words spelled by chance.  Exact spoken forms; the table in
``verbalization_cases.json`` holds more of them (and checks idempotence and the engines'
fixed point for every row)."""

from __future__ import annotations

import re
import tomllib

import pytest

from podcast.models import Script, Speaker, Turn
from podcast.stages.normalize.acronyms import pronounceable, spelled
from podcast.stages.normalize.lexicon import parse_lexicon
from podcast.stages.normalize.profiles import PROFILES, normalize_script

PODCAST = PROFILES["podcast"]


def say(text: str, language: str, lexicon=None) -> str:
    return PODCAST.normalize_turn(text, language, lexicon)


# ── the issue's own examples ───────────────────────────────────────────────────


def test_yuan_sign_and_yuan_word_are_read_once() -> None:
    assert say("¥1,250元", "zh") == "一千二百五十元。"
    assert say("It costs ¥1,250元.", "en") == "It costs one thousand two hundred fifty yuan."


def test_url_is_read_as_its_host() -> None:
    url = "https://example.org/a/b/1?x=2#frag"
    assert say(f"Go to {url} now.", "en") == "Go to example dot org now."
    assert say(f"请访问{url}。", "zh") == "请访问example点org。"


def test_no_chinese_numeral_inside_a_latin_name() -> None:
    assert say("我们今天聊一下GPT-4o。", "zh") == "我们今天聊一下G P T four o。"


def test_ikaros_is_read_like_nasa() -> None:
    assert say("IKAROS and NASA", "en") == "IKAROS and NASA."
    assert say("IKAROS和NASA合作", "zh") == "IKAROS和NASA合作。"


# ── money ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("￥30元", "zh", "三十元。"),
        ("$5 dollars", "en", "five dollars."),
        ("$5美元", "zh", "五美元。"),
        ("€3 euros", "en", "three euros."),
        ("€3欧元", "zh", "三欧元。"),
        ("1,250元", "zh", "一千二百五十元。"),
        ("About 1,250元 a month.", "en", "About one thousand two hundred fifty yuan a month."),
        ("¥1,250", "zh", "一千二百五十元。"),
        ("¥1,250", "en", "one thousand two hundred fifty yuan."),
        ("共1.5万元", "zh", "共一点五万元。"),
        ("They paid 1.5万元.", "en", "They paid fifteen thousand yuan."),
        ("US$5 each", "en", "five dollars each."),
        ("每张US$5", "zh", "每张五美元。"),
        ("It fell -$30.", "en", "It fell minus thirty dollars."),
        ("跌了-$30", "zh", "跌了负三十美元。"),
        ("It fell to $-2.50.", "en", "It fell to minus two dollars fifty."),
        ("¥12.50元", "zh", "十二点五元。"),
        ("¥12.50元 only.", "en", "twelve yuan fifty only."),
        ("¥500円", "zh", "五百日元。"),
        ("¥500 yen", "en", "five hundred yen."),
        ("$5 euros", "en", "five dollars euros."),  # another currency is not swallowed
    ],
)
def test_money(text: str, language: str, expected: str) -> None:
    assert say(text, language) == expected


def test_money_never_repeats_its_currency() -> None:
    words = ("元", "美元", "欧元", "yuan", "dollars", "euros")
    for text, language in [
        ("¥1,250元", "zh"), ("￥30元", "zh"), ("$5 dollars", "en"), ("€3 euros", "en"),
        ("$5美元", "zh"), ("¥1.5万元", "zh"), ("US$2 dollars", "en"), ("-¥30元", "zh"),
    ]:  # fmt: skip
        out = say(text, language)
        assert not any(out.count(w) > 1 for w in words), (text, out)


# ── web addresses and files ────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("See www.example.org/path?q=1, then go.", "en", "See example dot org, then go."),
        ("See http://example.org:8080/x.", "en", "See example dot org."),
        ("Visit example.org.", "en", "Visit example dot org."),
        ("访问example.org。", "zh", "访问example点org。"),
        ("访问www.example.org/a/b。", "zh", "访问example点org。"),
        ("Mail john.doe@example.org.", "en", "Mail john dot doe at example dot org."),
        ("发到john.doe@example.org。", "zh", "发到john点doe艾特example点org。"),
        ("Read report.pdf first.", "en", "Read report dot P D F first."),
        ("打开report.pdf。", "zh", "打开report点P D F。"),
        ("Pi is 3.14.", "en", "Pi is three point one four."),
        ("See v2.1.3 notes.", "en", "See version two point one point three notes."),
        ("Version v2.1.3 is out.", "en", "Version two point one point three is out."),
        ("It ended. Then it began.", "en", "It ended. Then it began."),
        ("It ended.so we left.", "en", "It ended.so we left."),
    ],
)
def test_web_addresses(text: str, language: str, expected: str) -> None:
    assert say(text, language) == expected


def test_no_url_path_is_read() -> None:
    url = "https://docs.python.org/3/library/re.html?highlight=x#module-re"
    assert say(f"See {url} today", "en") == "See docs dot python dot org today."
    assert say(f"看看{url}吧", "zh") == "看看docs点python点org吧。"


# ── Latin names with digits ────────────────────────────────────────────────────

NAMES = {
    "GPT-4o": "G P T four o",
    "iPhone 15": "iPhone fifteen",
    "H200": "H two hundred",
    "COVID-19": "COVID nineteen",
    "Qwen2.5-7B": "Qwen two point five seven B",
    "5G": "five G",
    "A100": "A one hundred",
    "RTX 4090": "R T X forty ninety",
}


@pytest.mark.parametrize(("name", "spoken"), NAMES.items())
def test_names_read_the_same_in_both_languages(name: str, spoken: str) -> None:
    assert say(f"我们聊聊{name}吧", "zh") == f"我们聊聊{spoken}吧。"
    assert say(f"Let us talk about {name} now", "en") == f"Let us talk about {spoken} now."
    assert not re.search("[零一二三四五六七八九十百千万]", say(f"{name}很好", "zh").replace("很好", ""))


def test_plain_chinese_numbers_stay_chinese() -> None:
    assert say("2021年有5个人，花了30元，GPU 8个。", "zh") == "二零二一年有五个人，花了三十元，G P U 八个。"
    assert say("iPhone 15发布于2023年9月12日。", "zh") == "iPhone fifteen发布于二零二三年九月十二日。"


# ── upper-case words ───────────────────────────────────────────────────────────


@pytest.mark.parametrize("word", ["NASA", "IKAROS", "NATO", "UNESCO", "LASER", "JAXA", "CERN"])
def test_pronounceable_words_are_said(word: str) -> None:
    assert pronounceable(word) and not spelled(word)


@pytest.mark.parametrize(
    "word",
    [
        *("FBI", "CPU", "GPU", "USA", "BBC", "HTML", "URL", "API", "SQL", "AI", "UK", "EU"),
        *("PDF", "ID", "TV", "NHK", "HTTP", "ESPN", "IEEE", "OECD", "WWII"),
    ],
)
def test_initialisms_are_spelled(word: str) -> None:
    assert spelled(word)


def test_the_same_word_is_read_the_same_in_every_turn() -> None:
    words = ["NASA", "IKAROS", "NHK", "FBI", "HTTP", "JAXA", "CPU", "UNESCO"]
    contexts = [
        ("{w} said so.", "en"),
        ("Then {w}, NHK, FBI, HTTP and JAXA all agreed.", "en"),  # many capitals, no shouting
        ("WE ASKED {w} ABOUT IT AND THE ANSWER WAS YES.", "en"),  # shouting
        ("我们问了{w}。", "zh"),
        ("他说{w}'s plan is good，然后走了。", "zh"),
    ]
    for word in words:
        readings = set()
        for template, language in contexts:
            out = say(template.format(w=word), language)
            spelled_form = " ".join(word)
            readings.add(spelled_form in out if len(word) > 1 else None)
        assert len(readings) == 1, (word, readings)


def test_plural_and_possessive_forms() -> None:
    assert say("GPUs, CEO's, MP3s and NASA's", "en") == "G P Us, C E O's, M P threes and NASA's."


def test_shouting_keeps_short_words() -> None:
    assert say("This is NOT a drill.", "en") == "This is NOT a drill."
    assert say("THIS IS BIG NEWS FROM THE FBI.", "en") == "THIS IS BIG NEWS FROM THE F B I."


def test_lexicon_overrides_both_lists_and_the_rule() -> None:
    lexicon = parse_lexicon(
        tomllib.loads('[en]\n"NASA" = "N A S A"\n"NHK" = "NHK"\n"GPU" = "graphics chip"\n'
                      '"IKAROS" = "ee karos"\n')
    )  # fmt: skip
    out = say("NASA, NHK, IKAROS's sail and two GPUs", "en", lexicon)
    assert out == "N A S A, NHK, ee karos's sail and two graphics chips."


# ── rates ──────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("3 km/s", "en", "three kilometers per second."),
        ("1 km/s", "en", "one kilometer per second."),
        ("速度3km/s", "zh", "速度每秒三公里。"),
        ("速度7.66 km/s", "zh", "速度每秒七点六六公里。"),
        ("120 km/h", "en", "one hundred twenty kilometers per hour."),
        ("限速120km/h", "zh", "限速每小时一百二十公里。"),
        ("时速60 mph", "zh", "时速每小时六十英里。"),
        ("10 m/s", "en", "ten meters per second."),
        ("风速5-10 km/h", "zh", "风速每小时五到十公里。"),
        ("3 km/s", "zh", "three kilometers per second."),  # a Latin-only turn is read in English
    ],
)
def test_rates(text: str, language: str, expected: str) -> None:
    assert say(text, language) == expected


# ── nothing else moved ─────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Due on 2021-05-01 at 10:30, up 3.5%, the 21st try since 1999.", "en",
         "Due on May first, twenty twenty one at ten thirty, up three point five percent, "
         "the twenty first try since nineteen ninety nine."),
        ("2021年3月5日10:30开会，涨了3.5%，第21名，0.5倍。", "zh",
         "二零二一年三月五日十点三十分开会，涨了百分之三点五，第二十一名，零点五倍。"),
    ],
)  # fmt: skip
def test_dates_times_percentages_decimals_ordinals_years(text: str, language: str, expected: str) -> None:
    assert say(text, language) == expected


def test_script_turns_keep_their_readings() -> None:
    speakers = (Speaker("S1", "Ann"), Speaker("S2", "Bo"))
    script = Script(
        "zh",
        (Turn("S1", "价格是¥1,250元。"), Turn("S2", "See https://example.org/a?b=1 and GPT-4o.")),
        speakers,
    )
    out = normalize_script(script, PODCAST)
    assert [t.text for t in out.turns] == ["价格是一千二百五十元。", "See example dot org and G P T four o."]
