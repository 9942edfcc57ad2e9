"""The ``master.standard`` stage: loudness mastering and packaging of the rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from podcast.stage import Stage, StageContext

from .options import MasterOptions

if TYPE_CHECKING:
    from podcast.models import Episode

__all__ = ["MasterStage"]


class MasterStage(Stage):
    """Join clips with natural gaps, level speakers, master to -16 LUFS stereo (-19 mono)
    and ≤ -1 dBTP on the decoded file, encode (MP3 by default), tag with chapters, and
    write VTT/SRT/JSON transcripts, JSON chapters and a mastering report."""

    kind: ClassVar[str] = "master"
    name: ClassVar[str] = "standard"
    version: ClassVar[str] = "1"
    reads: ClassVar[tuple[str, ...]] = ("rendering", "script", "normalized", "document")
    writes: ClassVar[tuple[str, ...]] = ("segments", "outputs")
    Options: ClassVar[type] = MasterOptions

    def check(self, ctx: StageContext) -> None:
        from podcast.errors import ConfigError

        from .codecs import ffmpeg_binary

        if self.options.format == "m4a" and ffmpeg_binary() is None:
            raise ConfigError(
                "master format m4a needs an ffmpeg binary on PATH; install ffmpeg or use format mp3"
            )
        if self.options.cover is not None and not self.options.cover.is_file():
            raise ConfigError(f"cover image not found: {self.options.cover}")

    def run(self, episode: Episode, ctx: StageContext) -> Episode:
        from .produce import EPISODE_STEPS, master_episode

        done = [0]

        def step(label: str) -> None:
            ctx.progress(done[0], EPISODE_STEPS, label)
            done[0] += 1

        result = master_episode(episode, self.options, ctx.require_run_dir(), ctx.seed, step)
        ctx.progress(EPISODE_STEPS, EPISODE_STEPS, "done")
        return result
