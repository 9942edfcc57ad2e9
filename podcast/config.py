"""Configuration: ``podcast.toml``, then environment variables, then flags.

```toml
[pipeline]
stages = ["ingest", "write", "normalize", "synthesize", "master"]   # order; add custom kinds
write = "auto"            # which implementation runs for each kind
synthesize = "auto"
language = "en"
output = "podcasts"
lock_timeout = 300
commercial_only = false   # refuse synthesizers whose output may not be used commercially

[speakers.S1]
name = "Alex"
role = "host"
voice = "en-us+m3"        # preset, or ref_audio / ref_text for cloning engines
style = "calm, warm"      # speaking style in words, for engines that take instructions

[stages.synthesize.espeak] # options of one implementation
rate = 170
```

``--set kind.name.key=value`` overrides any stage option; ``--stage kind=name`` (and the
``--writer``/``--synth`` shortcuts) choose implementations.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .models import Speaker, Voice, frozen_mapping

__all__ = ["Config", "config_from_data", "load_config", "parse_voice"]

DEFAULT_ORDER = ("ingest", "write", "normalize", "synthesize", "master")
DEFAULT_SELECTION = {
    "write": "auto",
    "normalize": "standard",
    "synthesize": "auto",
    "master": "standard",
}
DEFAULT_NAMES = {
    "en": (("Alex", "host"), ("Sam", "co-host")),
    "zh": (("小雨", "主持人"), ("阿杰", "搭档")),
}
ENV_SELECTION = {"PODCAST_GEN_WRITER": "write", "PODCAST_GEN_SYNTH": "synthesize"}
CONFIG_NAME = "podcast.toml"
MAX_MINUTES = 300.0  # five hours: longer asks are typos (1e9) that would synthesize for days


@dataclass(frozen=True, slots=True)
class Config:
    """The resolved configuration of one run (immutable)."""

    order: tuple[str, ...] = DEFAULT_ORDER
    selection: Mapping[str, str] = field(default_factory=lambda: frozen_mapping(DEFAULT_SELECTION))
    language: str | None = None
    output: Path = Path("podcasts")
    lock_timeout: float = 300.0
    seed: int = 0
    #: target episode length; ``None`` follows the source (see ``stages.write.length``)
    minutes: float | None = None
    commercial_only: bool = False
    speakers: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: frozen_mapping())
    stage_options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: frozen_mapping())
    show: Mapping[str, Any] = field(default_factory=lambda: frozen_mapping())
    prompts_dir: Path | None = None
    path: Path | None = None
    #: ``--rewrite``: let the writer replace a hand-edited script.txt (kept as script.<n>.txt).
    rewrite: bool = False

    def options_for(self, kind: str, name: str) -> Mapping[str, Any]:
        """Raw option values for ``[stages.<kind>.<name>]`` (validated by the stage)."""
        return self.stage_options.get(f"{kind}.{name}", frozen_mapping())

    def speaker_list(self, language: str) -> tuple[Speaker, ...]:
        """S1 and S2 (and any further configured speakers) with names and roles."""
        defaults = DEFAULT_NAMES.get(language, DEFAULT_NAMES["en"])
        result = []
        for index, sid in enumerate(self.speaker_ids()):
            name, role = defaults[index] if index < len(defaults) else (sid, "guest")
            raw = self.speakers.get(sid, {})
            result.append(Speaker(sid, str(raw.get("name", name)), str(raw.get("role", role))))
        return tuple(result)

    def voices(self) -> dict[str, Voice]:
        """The configured voice of S1, S2 and any further configured speaker (``--voice``,
        ``[speakers.S1]``); an empty :class:`Voice` lets the engine choose."""
        return {sid: _voice(self.speakers.get(sid, {})) for sid in self.speaker_ids()}

    def speaker_ids(self) -> list[str]:
        """S1, S2 and every further configured speaker id, in order."""
        return sorted({"S1", "S2", *self.speakers}, key=lambda s: int(s[1:]))


def _voice(raw: Mapping[str, Any]) -> Voice:
    ref = raw.get("ref_audio")
    path = Path(ref).expanduser() if ref else None
    return Voice(preset=raw.get("voice"), ref_audio=path, ref_text=raw.get("ref_text"), style=raw.get("style") or None)


def load_config(
    path: Path | None = None,
    *,
    sets: Iterable[str] = (),
    stages: Iterable[str] = (),
    voices: Iterable[str] = (),
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Build the run's :class:`Config`.

    :param path: ``--config`` file; else ``./podcast.toml`` when present.
    :param sets: ``--set kind.name.key=value`` strings (highest precedence).
    :param stages: ``--stage kind=name`` strings.
    :param voices: ``--voice S1=...`` strings (see :func:`parse_voice`).
    :param overrides: other flags: ``language``, ``output``, ``lock_timeout``, ``seed``, ``minutes``, ``rewrite``,
        ``prompts_dir`` and selections such as ``write``/``synthesize`` (``None`` = unset).
    """
    env = os.environ if env is None else env
    data, source = _read_toml(path)
    config = _from_toml(data, source)
    config = _apply_env(config, env)
    for text in stages:
        kind, name = _split_pair(text, "--stage", "kind=name")
        config = replace(config, selection=frozen_mapping({**config.selection, kind: name}))
    config = _apply_overrides(config, overrides or {})
    for text in voices:
        config = _apply_voice(config, text)
    return _apply_sets(config, sets)


def config_from_data(data: Mapping[str, Any], source: Path | None, env: Mapping[str, str] | None = None) -> Config:
    """A :class:`Config` from already parsed TOML ``data`` (``[pipeline]``, ``[speakers]``,
    ``[stages.*]``; ``source`` names it in errors) and the environment, without flags. Shows
    use it for the pipeline sections of ``show.toml``."""
    return _apply_env(_from_toml(data, source), os.environ if env is None else env)


def _read_toml(path: Path | None) -> tuple[dict[str, Any], Path | None]:
    if path is None:
        default = Path(CONFIG_NAME)
        if not default.is_file():
            return {}, None
        path = default
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle), path
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _from_toml(data: Mapping[str, Any], source: Path | None) -> Config:
    unknown = set(data) - {"pipeline", "speakers", "stages", "show", "plugins"}
    if unknown:
        raise ConfigError(f"unknown section(s) in {source}: {', '.join(sorted(unknown))}")
    pipeline = dict(data.get("pipeline", {}))
    order = tuple(pipeline.pop("stages", DEFAULT_ORDER))
    base = Config(path=source)
    selection = {**base.selection}
    fields = {}
    for key, value in pipeline.items():
        if key in {"language", "output", "lock_timeout", "seed", "prompts_dir", "minutes", "commercial_only"}:
            fields[key] = value
        elif isinstance(value, str):
            selection[key] = value
        else:
            raise ConfigError(f"bad [pipeline] entry {key!r} in {source}")
    stage_options = {}
    for kind, names in data.get("stages", {}).items():
        for name, values in names.items():
            stage_options[f"{kind}.{name}"] = dict(values)
    config = replace(
        base,
        order=order,
        selection=frozen_mapping(selection),
        speakers=frozen_mapping({k: dict(v) for k, v in data.get("speakers", {}).items()}),
        stage_options=frozen_mapping(stage_options),
        show=frozen_mapping(data.get("show", {})),
    )
    return _apply_overrides(config, fields)


def _apply_env(config: Config, env: Mapping[str, str]) -> Config:
    overrides: dict[str, Any] = {}
    for var, kind in ENV_SELECTION.items():
        if env.get(var):
            overrides[kind] = env[var]
    if env.get("PODCAST_GEN_OUTPUT"):
        overrides["output"] = env["PODCAST_GEN_OUTPUT"]
    if env.get("PODCAST_GEN_COMMERCIAL_ONLY"):
        overrides["commercial_only"] = env["PODCAST_GEN_COMMERCIAL_ONLY"]
    return _apply_overrides(config, overrides)


def _apply_overrides(config: Config, overrides: Mapping[str, Any]) -> Config:
    selection = dict(config.selection)
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key in {"output", "prompts_dir"}:
            changes[key] = Path(value).expanduser()
        elif key == "minutes":
            changes[key] = _minutes(value)
        elif key == "lock_timeout":
            changes[key] = _positive(key, value)
        elif key == "commercial_only":
            changes[key] = _flag(key, value)
        elif key == "seed":
            try:
                changes[key] = int(value)
            except (TypeError, ValueError, OverflowError):
                raise ConfigError(f"pipeline.seed must be an integer, got {value!r}") from None
        elif key == "rewrite":
            changes[key] = bool(value)
        elif key == "language":
            changes[key] = _language(value)
        else:
            selection[key] = str(value)
    return replace(config, selection=frozen_mapping(selection), **changes)


def _positive(key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = -1.0
    if isinstance(value, bool) or not math.isfinite(number) or number < 0:
        raise ConfigError(f"pipeline.{key} must be a non-negative number, got {value!r}")
    return number


def _flag(key: str, value: Any) -> bool:
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in {"1", "0", "true", "false", "yes", "no"}:
        return value if isinstance(value, bool) else text in {"1", "true", "yes"}
    raise ConfigError(f"pipeline.{key} must be true or false, got {value!r}")


def _minutes(value: Any) -> float:
    """An episode length: more than 0 and at most :data:`MAX_MINUTES`."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if isinstance(value, bool) or not 0 < number <= MAX_MINUTES:  # NaN fails every comparison
        raise ConfigError(f"--minutes must be more than 0 and at most {MAX_MINUTES:g}, got {value!r}")
    return number


def _language(value: Any) -> str:
    text = str(value).lower()
    if text not in {"en", "zh"}:
        raise ConfigError(f"unsupported language {value!r}; use en or zh")
    return text


def _apply_sets(config: Config, sets: Iterable[str]) -> Config:
    options = {k: dict(v) for k, v in config.stage_options.items()}
    for text in sets:
        key, value = _split_pair(text, "--set", "kind.name.key=value")
        parts = key.removeprefix("stages.").split(".")
        if len(parts) != 3 or not all(parts):
            raise ConfigError(f"--set {text!r}: expected kind.name.key=value")
        options.setdefault(f"{parts[0]}.{parts[1]}", {})[parts[2]] = value
    return replace(config, stage_options=frozen_mapping(options))


def _split_pair(text: str, flag: str, shape: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{flag} {text!r}: expected {shape}")
    return key.strip(), value.strip()


def parse_voice(text: str) -> tuple[str, dict[str, str]]:
    """Parse ``S1=preset`` or ``S1=path.wav:exact transcript`` into (speaker, settings)."""
    speaker, value = _split_pair(text, "--voice", "S1=preset or S1=ref.wav:transcript")
    if not speaker.startswith("S") or not speaker[1:].isdigit():
        raise ConfigError(f"--voice {text!r}: speaker must be S1, S2, …")
    path, colon, transcript = value.partition(":")
    if colon and Path(path).suffix.lower() in {".wav", ".flac", ".mp3", ".ogg"}:
        return speaker, {"ref_audio": path, "ref_text": transcript.strip().strip('"')}
    return speaker, {"voice": value}


def _apply_voice(config: Config, text: str) -> Config:
    speaker, settings = parse_voice(text)
    speakers = {k: dict(v) for k, v in config.speakers.items()}
    speakers.setdefault(speaker, {}).update(settings)
    return replace(config, speakers=frozen_mapping(speakers))
