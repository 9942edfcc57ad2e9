"""The normalize.standard stage on a real episode folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from podcast.config import Config
from podcast.errors import StageError, UnknownStageError
from podcast.models import Chapter, Episode, Script, Turn
from podcast.stage import StageContext
from podcast.stages.normalize.stage import NORMALIZED_FILE, NormalizeOptions, NormalizeStage
from podcast.synthesis import Capabilities


class DeclaringSynth:
    """A configured synthesize stage as the pipeline hands it over: it only has to say
    which profile its engine expects."""

    def __init__(self, profile: str) -> None:
        self.profile = profile

    def capabilities(self) -> Capabilities:
        return Capabilities(
            languages=frozenset({"en", "zh"}), sample_rate=24000, normalizer=self.profile
        )


SCRIPT = Script(
    "en",
    (
        Turn("S1", "In 2021 we bought 3 GPUs [1]."),
        Turn("S1", "Nice!"),
        Turn("S2", "哈哈，10:30见。"),
    ),
    chapters=(Chapter(0, "Intro"), Chapter(2, "End")),
    title="Demo",
)


def run(tmp_path: Path, options: NormalizeOptions, synth: object | None = None) -> Episode:
    # The pipeline asks the selected synthesizer for its profile once and passes it on.
    normalizer = synth.capabilities().normalizer if synth is not None else "podcast"
    ctx = StageContext(config=Config(), run_dir=tmp_path, normalizer=normalizer)
    episode = Episode(sources=("x",), run_dir=tmp_path, script=SCRIPT)
    stage = NormalizeStage(options)
    stage.check(ctx)
    return stage.run(episode, ctx)


def test_default_is_podcast_and_file_is_written(tmp_path: Path) -> None:
    out = run(tmp_path, NormalizeOptions())
    assert out.normalized is not None and out.script == SCRIPT
    assert [t.speaker for t in out.normalized.turns] == ["S1", "S1", "S2"]
    assert out.normalized.chapters == SCRIPT.chapters
    assert out.normalized.turns[0].text == "In twenty twenty one we bought three G P Us one."
    assert out.normalized.turns[2].text == "[笑]，十点三十分见。"
    saved = (tmp_path / NORMALIZED_FILE).read_text(encoding="utf-8")
    assert saved == out.normalized.to_file_text()
    assert Script.parse(saved, "en").turns == out.normalized.turns
    assert not list(tmp_path.glob("*.part*"))
    assert out.meta["normalize.details"]["profile"] == "podcast"


def test_auto_uses_the_synthesizer_profile_per_turn(tmp_path: Path) -> None:
    out = run(tmp_path, NormalizeOptions(), DeclaringSynth("moss-v0.7"))
    assert out.meta["normalize.details"]["profile"] == "moss-v0.7"
    # Same-speaker turns stay separate and [1] does not become a speaker tag.
    assert [t.text for t in out.normalized.turns] == [
        "In 2021 we bought 3 GPUs 1.",
        "Nice!",
        "[笑]，10,30见。",
    ]


def test_explicit_profile_and_lexicon(tmp_path: Path) -> None:
    lexicon = tmp_path / "lex.toml"
    lexicon.write_text('[en]\n"GPUs" = "graphics cards"\n', encoding="utf-8")
    out = run(
        tmp_path, NormalizeOptions(profile="podcast", lexicon=lexicon), DeclaringSynth("moss-v1.0")
    )
    assert (
        out.normalized.turns[0].text == "In twenty twenty one we bought three graphics cards one."
    )


def test_unknown_profile_fails_in_check(tmp_path: Path) -> None:
    with pytest.raises(UnknownStageError, match="installed"):
        run(tmp_path, NormalizeOptions(profile="nope"))


def test_missing_script_is_a_stage_error(tmp_path: Path) -> None:
    ctx = StageContext(config=Config(), run_dir=tmp_path)
    with pytest.raises(StageError, match="needs a script"):
        NormalizeStage().run(Episode(sources=("x",), run_dir=tmp_path), ctx)


def test_cache_key_follows_the_synthesizer_profile_and_lexicon_content(tmp_path: Path) -> None:
    from podcast.pipeline import stage_key

    episode = Episode(sources=("x",), run_dir=tmp_path, script=SCRIPT)
    lexicon = tmp_path / "lex.toml"
    lexicon.write_text('[en]\n"GPUs" = "graphics cards"\n', encoding="utf-8")
    stage = NormalizeStage(NormalizeOptions(lexicon=lexicon))

    def key(profile: str) -> str:
        declared = DeclaringSynth(profile).capabilities().normalizer
        return stage_key(stage, episode, StageContext(Config(), tmp_path, normalizer=declared))

    first = key("podcast")
    assert key("podcast") == first
    assert key("moss-v0.7") != first  # switching --synth re-normalizes
    lexicon.write_text('[en]\n"GPUs" = "video cards"\n', encoding="utf-8")
    assert key("podcast") != first  # editing the lexicon re-normalizes
