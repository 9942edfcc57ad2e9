"""Options of the ``master.standard`` stage (also used by ``podcast-gen master``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from podcast.options import option

__all__ = ["MasterOptions"]

STEREO_LUFS = -16.0
MONO_LUFS = -19.0
DEFAULT_BITRATE = {
    ("mp3", 1): 96,
    ("mp3", 2): 128,
    ("m4a", 1): 64,
    ("m4a", 2): 96,
    ("opus", 1): 32,
    ("opus", 2): 48,
}


@dataclass(frozen=True, slots=True)
class MasterOptions:
    """Loudness targets, delivery format, gaps and processing of the master stage."""

    format: Literal["mp3", "wav", "flac", "opus", "m4a"] = option(
        "mp3", "Delivery format (m4a needs an ffmpeg binary)."
    )
    mono: bool = option(False, "Deliver one channel (target -19 LUFS) instead of two (-16 LUFS).")
    lufs: float | None = option(
        None, "Integrated loudness of the decoded file, LUFS [default: -16 stereo, -19 mono]."
    )
    true_peak: float = option(-1.0, "Maximum true peak of the decoded file, dBTP.")
    limiter_margin: float = option(
        0.5, "Limiter ceiling below the true-peak maximum, dB (room for codec overshoot)."
    )
    tolerance: float = option(
        0.5, "Re-encode (at most twice) when decoded loudness misses the target by more LU."
    )
    bitrate: int | None = option(
        None, "Bitrate in kbps [default: mp3 128 stereo / 96 mono; m4a 96/64]."
    )
    sample_rate: int = option(44100, "Delivery sample rate in Hz (Opus always uses 48000).")
    mp3_quality: int = option(
        7,
        "LAME algorithm quality 2 (best, slowest) to 7 (fastest); the bitrate is unchanged. "
        "At 7 a mono master goes into stereo MP3 as one mono encode (half the time; the "
        "voice gets 112 of the 128 kbps).",
    )
    gap: float = option(0.4, "Silence between turns, seconds.")
    gap_jitter: float = option(0.08, "Random (seeded) variation of each gap, ± seconds.")
    backchannel_gap: float = option(
        0.2, "Shorter gap before short replies such as 'Yeah.' or '嗯。', seconds."
    )
    lead_in: float = option(0.3, "Silence before the first turn, seconds.")
    tail: float = option(1.0, "Silence after the last turn, seconds.")
    fade_ms: float = option(8.0, "Raised-cosine fade on every clip edge, milliseconds.")
    highpass_hz: float = option(
        70.0, "2nd-order high-pass cutoff (DC and rumble), Hz; 0 turns it off."
    )
    trim_db: float = option(
        55.0, "Trim clip edges quieter than this many dB below the clip's peak; 0 keeps them."
    )
    level_speakers: bool = option(
        True, "Give each speaker one static gain so all speakers sound equally loud."
    )
    max_speaker_gain_db: float = option(15.0, "Largest per-speaker correction, dB.")
    compress_ratio: float = option(
        1.0, "Light compression ratio after leveling (e.g. 2.0); 1 turns it off."
    )
    compress_threshold_lu: float = option(
        6.0, "Compressor threshold above the speech loudness, dB."
    )
    show: str = option("podcast-gen", "Show name written to the album tag.")
    cover: Path | None = option(None, "Cover image (JPEG or PNG) embedded in the tags.")  # noqa: RUF009
    filename: str = option("episode", "Base name of the deliverable and its transcript files.")

    @property
    def target_lufs(self) -> float:
        """The loudness target in force (explicit, or by channel count)."""
        if self.lufs is not None:
            return self.lufs
        return MONO_LUFS if self.mono else STEREO_LUFS

    @property
    def channels(self) -> int:
        """Channels of the deliverable."""
        return 1 if self.mono else 2

    @property
    def delivery_rate(self) -> int:
        """Sample rate of the deliverable in Hz."""
        return 48000 if self.format == "opus" else self.sample_rate

    @property
    def kbps(self) -> int:
        """Bitrate in force for lossy formats."""
        return self.bitrate or DEFAULT_BITRATE.get((self.format, self.channels), 128)
