from __future__ import annotations

from pathlib import Path

import pytest

from podcast.config import load_config, parse_voice
from podcast.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "podcast.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_precedence_file_then_env_then_flags(tmp_path):
    path = write(tmp_path, '[pipeline]\nwrite = "offline"\nsynthesize = "espeak"\noutput = "from-file"\nminutes = 3\n')
    config = load_config(path, env={"PODCAST_GEN_SYNTH": "moss-ttsd", "PODCAST_GEN_OUTPUT": "from-env"})
    assert config.selection["write"] == "offline"
    assert config.selection["synthesize"] == "moss-ttsd"
    assert config.output == Path("from-env")
    assert config.minutes == 3
    flagged = load_config(path, env={"PODCAST_GEN_SYNTH": "moss-ttsd"}, overrides={"synthesize": "espeak", "output": "flag"})
    assert flagged.selection["synthesize"] == "espeak"
    assert flagged.output == Path("flag")


def test_stage_options_from_file_and_set(tmp_path):
    path = write(tmp_path, "[stages.synthesize.espeak]\nrate = 120\npitch_range = 10\n")
    config = load_config(path, sets=["synthesize.espeak.rate=200", "stages.master.standard.lufs=-18"], env={})
    assert config.options_for("synthesize", "espeak") == {"rate": "200", "pitch_range": 10}
    assert config.options_for("master", "standard") == {"lufs": "-18"}


def test_stage_selection_flag_and_order(tmp_path):
    path = write(tmp_path, '[pipeline]\nstages = ["ingest", "write", "signoff", "normalize", "synthesize", "master"]\n')
    config = load_config(path, stages=["write=offline"], env={})
    assert config.order[2] == "signoff"
    assert config.selection["write"] == "offline"


def test_speakers_and_voices(tmp_path):
    path = write(tmp_path, '[speakers.S1]\nname = "Ada"\nrole = "host"\n')
    config = load_config(path, voices=['S2=ref.wav:"Hello there."', "S1=en-gb"], env={})
    s1, s2 = config.speaker_list("en")
    voices = config.voices()  # voices are not part of the script's speakers
    assert (s1.name, voices["S1"].preset) == ("Ada", "en-gb")
    assert s2.name == "Sam" and voices["S2"].ref_audio == Path("ref.wav") and voices["S2"].ref_text == "Hello there."
    assert [s.name for s in load_config(None, env={}).speaker_list("zh")] == ["小雨", "阿杰"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"sets": ["synthesize.espeak"]}, "expected kind.name.key=value"),
        ({"sets": ["rate=1"]}, "expected kind.name.key=value"),
        ({"stages": ["write"]}, "expected kind=name"),
        ({"voices": ["X1=foo"]}, "speaker must be S1"),
        ({"overrides": {"language": "fr"}}, "unsupported language 'fr'"),
        ({"overrides": {"minutes": "-2"}}, "more than 0 and at most 300"),
        ({"overrides": {"minutes": 0}}, "more than 0"),
        ({"overrides": {"minutes": "nan"}}, "more than 0"),
        ({"overrides": {"minutes": 1e9}}, "at most 300"),
        ({"overrides": {"lock_timeout": "inf"}}, "non-negative"),
        ({"overrides": {"seed": "x"}}, "seed must be an integer"),
    ],
)
def test_bad_flags_are_one_line_config_errors(kwargs, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(None, env={}, **kwargs)
    assert fragment in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[pipeline\n"), env={})
    with pytest.raises(ConfigError, match="unknown section"):
        load_config(write(tmp_path, "[pipe]\n"), env={})
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.toml", env={})


def test_parse_voice_preset_with_colon_is_not_a_path():
    assert parse_voice("S1=en-us+m3") == ("S1", {"voice": "en-us+m3"})
    assert parse_voice("S1=a.flac:字幕") == ("S1", {"ref_audio": "a.flac", "ref_text": "字幕"})
