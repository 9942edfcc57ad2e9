from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from podcast.errors import ConfigError
from podcast.options import build_options, describe_options, option


@dataclass(frozen=True, slots=True)
class Opts:
    """Example options."""

    rate: int = option(150, "words per minute")
    gain: float = option(0.0, "dB")
    loud: bool = option(False, "shout")
    mode: Literal["fast", "slow"] = option("fast", "speed")
    folder: Path | None = option(None, "a folder")
    urls: tuple[str, ...] = option((), "servers")


def test_cli_strings_are_coerced_by_annotation():
    opts = build_options(Opts, {"rate": "170", "gain": "-3.5", "loud": "yes", "mode": "slow", "folder": "~/x", "urls": "http://a, http://b"}, "stages.x.y")
    assert opts == Opts(170, -3.5, True, "slow", Path("~/x").expanduser(), ("http://a", "http://b"))


def test_toml_values_keep_their_types():
    opts = build_options(Opts, {"rate": 120, "loud": False, "urls": ["u"], "folder": None}, "stages.x.y")
    assert (opts.rate, opts.loud, opts.urls, opts.folder) == (120, False, ("u",), None)


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"rte": 1}, "unknown option stages.x.y.rte; known options: folder, gain, loud, mode, rate, urls"),
        ({"rate": "fast"}, "bad value for stages.x.y.rate"),
        ({"rate": 1.5}, "expected an integer"),
        ({"loud": "maybe"}, "expected true/false"),
        ({"mode": "medium"}, "is not one of fast, slow"),
        ({"rate": True}, "expected a number"),
    ],
)
def test_bad_values_name_the_option(values, fragment):
    with pytest.raises(ConfigError) as err:
        build_options(Opts, values, "stages.x.y")
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_every_option_is_described():
    infos = {i.name: i for i in describe_options(Opts)}
    assert infos["rate"].help == "words per minute"
    assert infos["mode"].type == "'fast' | 'slow'"
    assert infos["urls"].type == "list[str]"
    assert infos["folder"].default is None


def test_mutable_defaults_are_refused():
    with pytest.raises(TypeError):
        option([], "no lists")
