"""The ``podcast.testing`` pytest plugin that stage authors use (loaded through pytest11)."""

from __future__ import annotations

from podcast.stages.normalize.stage import NormalizeStage
from podcast.stages.write.offline import OfflineWriter


def test_fixtures_run_real_stages(podcast_plugins, episode_factory, run_stage):
    assert ("write", "offline") in podcast_plugins.stages()
    episode = episode_factory("Solar sails ride on sunlight. They need no fuel at all, which is why engineers love them.")
    written = run_stage(OfflineWriter, episode)
    assert written.script is not None and {t.speaker for t in written.script.turns} == {"S1", "S2"}
    assert (episode.run_dir / "script.txt").is_file()
    normalized = run_stage(NormalizeStage, written, {"profile": "moss-v0.7"})
    assert len(normalized.normalized.turns) == len(written.script.turns)


def test_episode_factory_builds_scripts(episode_factory):
    episode = episode_factory(turns=(("S1", "Hi."), ("S2", "Hello.")), language="zh")
    assert episode.language == "zh" and [t.speaker for t in episode.script.turns] == ["S1", "S2"]
    assert [s.name for s in episode.script.speakers] == ["小雨", "阿杰"]
