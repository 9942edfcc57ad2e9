"""The offline writer's extractive helpers: sentence splitting, centrality, key phrases, casing."""

from __future__ import annotations

from podcast.stages.write.extract import central_sentences, centrality, key_phrases, split_sentences
from podcast.stages.write.wording import Casing, follows_cause, heading_kind, split_title


def test_english_sentences_respect_abbreviations_decimals_and_ellipses():
    text = (
        "Dr. Smith paid $3.5 million in the U.S. The deal, e.g. the first one, closed at 5 p.m. Monday. "
        "Wait... what? He left... Then he came back. J. R. R. Tolkien wrote it, see Fig. 3 for more."
    )
    assert split_sentences(text, "en") == [
        "Dr. Smith paid $3.5 million in the U.S.",
        "The deal, e.g. the first one, closed at 5 p.m. Monday.",
        "Wait... what?",
        "He left...",
        "Then he came back.",
        "J. R. R. Tolkien wrote it, see Fig. 3 for more.",
    ]


def test_glued_sentences_and_paragraphs_are_split():
    text = "Rockets carry enormous amounts of propellant.The idea is older than the space age.\nIt is 3.5 times older."
    assert split_sentences(text, "en") == [
        "Rockets carry enormous amounts of propellant.",
        "The idea is older than the space age.",
        "It is 3.5 times older.",
    ]


def test_chinese_sentences_split_at_full_width_marks_and_keep_closing_quotes():
    text = "他说：“好。”然后走了。真的吗？是的；不过很难！长度是3.5米。"
    assert split_sentences(text, "zh") == ["他说：“好。”", "然后走了。", "真的吗？", "是的；", "不过很难！", "长度是3.5米。"]


def test_the_hub_sentence_is_the_most_central():
    sentences = [
        "Solar sails use sunlight for propulsion.",
        "A mirror reflects photons and gains momentum.",
        "Solar sails reflect photons with a large mirror, so sunlight gives momentum and propulsion.",
        "Cats sleep for most of the afternoon in warm places.",
        "The momentum of photons is tiny but constant.",
    ]
    scores = centrality(sentences, "en")
    assert max(range(5), key=scores.__getitem__) == 2 and min(range(5), key=scores.__getitem__) == 3
    assert central_sentences(sentences, 2, "en")[0] == 2
    assert centrality(sentences, "en") == scores  # deterministic


def test_key_phrases_are_names_and_recurring_nouns_of_the_section():
    section = (
        "Japan's IKAROS spacecraft flew in 2010. IKAROS also steered itself. The film was thin. "
        "The film had to be packed in a small box."
    )
    other = "Sails are light. The sail is thin."
    phrases = key_phrases(section, [other], "en")
    assert phrases[:2] == ["IKAROS", "the film"]
    assert "the small" not in phrases and "Japan" not in phrases  # an adjective; said once


def test_casing_lowers_common_words_and_keeps_names():
    casing = Casing.of("Japan's IKAROS flew. Missions like LightSail followed. Later a mission to Mars. Future sails.")
    assert casing.inline("Missions That Flew") == "missions that flew"
    assert casing.inline("IKAROS and LightSail") == "IKAROS and LightSail"
    assert casing.inline("How Solar Sails Work") == "how solar sails work"
    assert casing.after_connective("Future sails could fly.") == "future sails could fly."
    assert casing.after_connective("Japan's IKAROS flew.") is None  # not known either way: no glue
    assert casing.after_connective("IKAROS flew.") == "IKAROS flew."


def test_titles_headings_and_causes():
    assert split_title("Sailing on Sunlight: How Solar Sails Work") == ("Sailing on Sunlight", "How Solar Sails Work")
    assert split_title("一片叶子的旅行：茶的简史") == ("一片叶子的旅行", "茶的简史")
    assert split_title("Plain title") == ("Plain title", "")
    headings = ("Building a sail", "What comes next", "Why?", "Introduction", "The idea", "")
    kinds = [heading_kind(h, "en") for h in headings]
    assert kinds == ["gerund", "wh", "question", "generic", "noun", "none"]
    assert follows_cause("因为茶能解毒。", "人们开始种茶。", "zh")
    assert not follows_cause("茶树原产于云南。", "人们开始种茶。", "zh")


def test_list_markers_and_code_words_are_not_read_or_asked_about():
    text = "Settings:\n* SOURCE is a file.\n* Set PODCAST_GEN_WRITER or PODCAST_GEN_SYNTH.\n- Then SOURCE is read."
    assert split_sentences(text, "en") == [
        "Settings:",
        "SOURCE is a file.",
        "Set PODCAST_GEN_WRITER or PODCAST_GEN_SYNTH.",
        "Then SOURCE is read.",
    ]
    phrases = key_phrases(text, [], "en")
    assert "SOURCE" in phrases and not any("PODCAST" in p or "GEN" in p for p in phrases)
