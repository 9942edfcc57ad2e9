"""Checks of the run's configuration that need no stage: they run before anything is done.

``check_voice_files`` (before ingest): every reference voice file exists, is a regular file
and is audio a decoder can open.  ``check_voice_speakers`` (after ingest, before the writer):
every configured voice belongs to a speaker the episode has — the speakers of a script given
as the source, else S1, S2 and the speakers the config names (``[speakers.S3] name = …``).
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .config import Config
from .errors import ConfigError, InputError
from .models import Document, Script

__all__ = ["check_voice_files", "check_voice_speakers", "episode_speakers"]

_VOICE_KEYS = frozenset({"voice", "ref_audio", "ref_text"})


def check_voice_files(config: Config) -> None:
    """Refuse a reference voice that is missing, not a regular file or not audio.

    :raises InputError: with the speaker, the path and what is wrong.
    """
    for sid, voice in config.voices().items():
        if voice.ref_audio is not None:
            _check_audio_file(sid, voice.ref_audio)


def _check_audio_file(sid: str, path: Path) -> None:
    where = f"the voice of {sid} ({path})"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{where} does not exist; pass an existing WAV/FLAC/MP3/OGG file") from None
    except OSError as exc:
        raise InputError(f"cannot read {where}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(mode):
        raise InputError(f"{where} is not a regular file; pass a WAV/FLAC/MP3/OGG file")
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile's errors are not OSError subclasses everywhere
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{where} is not audio a decoder can read ({reason[:120]})") from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise InputError(f"{where} holds no audio")


def episode_speakers(config: Config, document: Document) -> tuple[str, ...]:
    """The speakers the episode will have: a script source's own, else S1, S2 and every
    speaker the config names with a name or role."""
    if document.kind == "script":
        try:
            script = Script.parse(document.text, document.language or "en")
        except ValueError:
            return ()  # the ingester already accepted it; nothing to check against
        found = {t.speaker for t in script.turns}
    else:
        found = {"S1", "S2"} | {sid for sid, raw in config.speakers.items() if _declared(raw)}
    return tuple(sorted(found, key=lambda s: int(s[1:])))


def check_voice_speakers(config: Config, document: Document) -> None:
    """Refuse a voice for a speaker the episode does not have.

    :raises ConfigError: naming the speaker and the ones there are.
    """
    speakers = episode_speakers(config, document)
    if not speakers:
        return
    extra = [sid for sid, raw in config.speakers.items() if sid not in speakers and set(raw) & _VOICE_KEYS]
    if extra:
        names = ", ".join(sorted(extra, key=lambda s: int(s[1:])))
        raise ConfigError(
            f"a voice is set for {names}, but the episode's speakers are {', '.join(speakers)}; "
            "remove that --voice (or name the speaker under [speakers] in the config)"
        )


def _declared(raw: Mapping[str, Any]) -> bool:
    return bool(set(raw) - _VOICE_KEYS)
