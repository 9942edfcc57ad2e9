"""``podcast-gen show run``: feeds and inboxes become episodes and a podcast feed, through the
installed console script against a feed server on 127.0.0.1 (offline writer, espeak voices)."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from filelock import FileLock

from .show_helpers import FeedSite, run_show, start_show, write_show

BASE = "https://example.org/tidal/"


@pytest.fixture
def site(http_server, tmp_path: Path) -> FeedSite:
    return FeedSite(http_server, f"/show-{tmp_path.name}")


def _items(site: FeedSite, days: tuple[int, ...] = (3, 2, 1)) -> list[dict[str, str]]:
    return [
        {"title": f"Article {d}", "link": site.article(f"a{d}", f"Article {d}"), "guid": f"guid-{d}", "day": str(d)}
        for d in days
    ]


def _local(show: Path, url: str) -> Path:
    assert url.startswith(BASE), url
    return show / "public" / unquote(url[len(BASE) :])


def _check_feed(show: Path) -> feedparser.FeedParserDict:
    """The feed parses, carries the tags Apple and Podcasting 2.0 need, and points at real files."""
    raw = (show / "public" / "feed.xml").read_bytes()
    feed = feedparser.parse(raw)
    assert not feed.bozo, feed.bozo_exception
    channel = feed.feed
    assert channel.title == "Tidal Weekly" and channel.language == "en"
    assert channel.author == "Jane Doe" and b"<itunes:explicit>false</itunes:explicit>" in raw
    assert channel.image.href == BASE + "cover.png" and _local(show, channel.image.href).is_file()
    assert channel.tags[0].term == "Technology"
    assert channel.summary == "Short episodes about tidal energy."
    assert b"<podcast:guid>" in raw and b'<podcast:person role="host"' in raw
    from PIL import Image

    with Image.open(show / "public" / "cover.png") as cover:
        assert cover.size[0] == cover.size[1] and 1400 <= cover.size[0] <= 3000
    dates = [time.mktime(e.published_parsed) for e in feed.entries]
    assert dates == sorted(dates, reverse=True), "newest first"
    for entry in feed.entries:
        (enclosure,) = entry.enclosures
        mp3 = _local(show, enclosure.href)
        assert int(enclosure.length) == mp3.stat().st_size > 0 and enclosure.type == "audio/mpeg"
        assert entry.id and entry.itunes_duration.count(":") == 2
        for url in _refs(raw, entry.id, b"podcast:transcript") + _refs(raw, entry.id, b"podcast:chapters"):
            assert _local(show, url).is_file(), url
    transcripts = raw.count(b"<podcast:transcript ")
    assert transcripts == 3 * len(feed.entries) and raw.count(b"<podcast:chapters ") == len(feed.entries)
    return feed


def _refs(raw: bytes, guid: str, tag: bytes) -> list[str]:
    """URLs of ``tag`` elements inside the item with ``guid`` (feedparser keeps only some)."""
    from lxml import etree

    root = etree.fromstring(raw)
    ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
    for item in root.iter("item"):
        if item.findtext("guid") == guid:
            return [e.get("url") for e in item.findall(tag.decode(), ns)]
    return []


def _summary(result) -> dict:
    assert result.stdout.count("\n") == 1, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_a_feed_of_three_articles_then_nothing_then_one_more(tmp_path: Path, site: FeedSite) -> None:
    show = write_show(tmp_path / "tidal", site.feed(_items(site)))
    first = run_show(show)
    assert first.returncode == 0, first.stderr
    summary = _summary(first)
    assert summary["new"] == 3 and [p["title"] for p in summary["published"]] == ["Article 1", "Article 2", "Article 3"]
    assert summary["failed"] == [] and summary["feed"] == str(show / "public" / "feed.xml")
    assert first.stderr.count("published ") == 3  # one log line per item
    feed = _check_feed(show)
    assert [e.title for e in feed.entries] == ["Article 3", "Article 2", "Article 1"]
    before = (show / "public" / "feed.xml").read_bytes()

    again = run_show(show)
    assert again.returncode == 0 and _summary(again)["published"] == [] and _summary(again)["new"] == 0
    assert (show / "public" / "feed.xml").read_bytes() == before

    site.feed(_items(site, days=(4, 3, 2, 1)))
    more = run_show(show)
    assert more.returncode == 0 and [p["title"] for p in _summary(more)["published"]] == ["Article 4"]
    feed = _check_feed(show)
    assert [e.title for e in feed.entries] == ["Article 4", "Article 3", "Article 2", "Article 1"]
    assert len({e.id for e in feed.entries}) == 4 and len(list((show / "public" / "episodes").iterdir())) == 4


def test_a_failing_item_is_partial_success_then_retried_then_given_up(tmp_path: Path, site: FeedSite) -> None:
    items = _items(site)
    items[1]["link"] = site.url("/gone")  # Article 2 answers 404
    show = write_show(tmp_path / "tidal", site.feed(items))
    first = run_show(show)
    assert first.returncode == 8, first.stderr
    summary = _summary(first)
    assert sorted(p["title"] for p in summary["published"]) == ["Article 1", "Article 3"]
    (failed,) = summary["failed"]
    assert failed["id"] == "guid-2" and "404" in failed["reason"] and failed["attempts"] == 1
    assert not failed["gave_up"]
    _check_feed(show)

    second = run_show(show)
    assert second.returncode == 4  # nothing else to do and the retry failed again: upstream error
    assert _summary(second)["failed"][0]["attempts"] == 2

    site.article("gone", "Article 2 at last")
    third = run_show(show)
    assert third.returncode == 0 and [p["id"] for p in _summary(third)["published"]] == ["guid-2"]
    assert len(_check_feed(show).entries) == 3


def test_an_item_is_given_up_after_three_attempts(tmp_path: Path, site: FeedSite) -> None:
    show = write_show(tmp_path / "s", site.feed([{"title": "Gone", "link": site.url("/x"), "guid": "x", "day": "1"}]))
    codes = [run_show(show).returncode for _ in range(4)]
    assert codes == [4, 4, 4, 0]  # three attempts, then nothing new
    state = json.loads((show / "state.json").read_text())
    (entry,) = state["entries"]
    assert entry["status"] == "gave_up" and entry["attempts"] == 3 and "404" in entry["last_error"]


def test_digest_mode_makes_one_episode_with_a_chapter_per_item(tmp_path: Path, site: FeedSite) -> None:
    show = write_show(tmp_path / "digest", site.feed(_items(site)), mode="digest")
    result = run_show(show)
    assert result.returncode == 0, result.stderr
    (published,) = _summary(result)["published"]
    assert published["items"] == 3
    feed = _check_feed(show)
    (entry,) = feed.entries
    chapters = json.loads(_local(show, _refs((show / "public" / "feed.xml").read_bytes(), entry.id, b"podcast:chapters")[0]).read_text())
    titles = [c["title"] for c in chapters["chapters"]]
    for n in (1, 2, 3):
        assert any(f"Article {n}" in t for t in titles), titles
    assert run_show(show).returncode == 0 and not list(_summary(run_show(show))["published"])


def test_feed_content_is_used_without_fetching_the_link(tmp_path: Path, site: FeedSite) -> None:
    content = "<p>" + " ".join(["Tidal lagoons store water behind a wall and release it through turbines."] * 20) + "</p>"
    item = {"title": "Lagoons", "link": site.url("/never-served"), "guid": "lagoon", "day": "1", "content": content}
    show = write_show(tmp_path / "s", site.feed([item]))
    result = run_show(show)
    assert result.returncode == 0, result.stderr
    assert _summary(result)["published"][0]["title"] == "Lagoons"


def test_inbox_files_become_episodes_and_move_to_done(tmp_path: Path) -> None:
    show = write_show(tmp_path / "s", None, inbox=True)
    inbox = show / "inbox"
    inbox.mkdir()
    (inbox / "harbour-notes.md").write_text("# Harbour notes\n\n" + "Boats wait for the tide. " * 60, encoding="utf-8")
    result = run_show(show)
    assert result.returncode == 0, result.stderr
    assert (inbox / "done" / "harbour-notes.md").is_file() and not (inbox / "harbour-notes.md").exists()
    assert len(_check_feed(show).entries) == 1
    assert _summary(run_show(show))["published"] == []


def test_killed_runs_publish_every_item_exactly_once(tmp_path: Path, site: FeedSite) -> None:
    rng = random.Random(17)
    show = write_show(tmp_path / "tidal", site.feed(_items(site)))
    for _ in range(3):
        process = start_show(show)
        time.sleep(rng.uniform(0.3, 2.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
    final = run_show(show)
    assert final.returncode == 0, final.stderr
    feed = _check_feed(show)
    assert sorted(e.title for e in feed.entries) == ["Article 1", "Article 2", "Article 3"]
    assert len({e.id for e in feed.entries}) == 3
    folders = sorted(p.name for p in (show / "public" / "episodes").iterdir())
    assert len(folders) == 3 and not any(name.startswith(".") for name in folders), folders
    assert _summary(run_show(show))["published"] == []


def test_a_second_run_waits_for_the_lock_or_exits_6(tmp_path: Path, site: FeedSite) -> None:
    show = write_show(tmp_path / "tidal", site.feed(_items(site, days=(1,))))
    with FileLock(str(show / ".lock")):
        blocked = run_show(show, extra=("--lock-timeout", "0.5"))
    assert blocked.returncode == 6 and "another run" in _summary(blocked)["failed"][0]["error"]
    both = [start_show(show), start_show(show)]
    codes = sorted(p.wait(timeout=300) for p in both)
    assert codes in ([0, 0], [0, 6])
    assert len(_check_feed(show).entries) == 1


def test_command_publisher_reports_its_exit_status(tmp_path: Path, site: FeedSite) -> None:
    extra = '[publish]\npublishers = ["folder", "command"]\ncommand = "echo $PODCAST_PUBLIC_DIR > published.txt; exit 3"\n'
    show = write_show(tmp_path / "s", site.feed(_items(site, days=(1,))), extra="")
    (show / "show.toml").write_text((show / "show.toml").read_text().replace("[pipeline]", extra + "\n[pipeline]"))
    result = run_show(show)
    assert result.returncode == 8  # published, but the upload failed
    publishers = _summary(result)["shows"][0]["publishers"]
    assert [(p["name"], p["ok"], p["exit_status"]) for p in publishers] == [("folder", True, None), ("command", False, 3)]
    assert (show / "published.txt").read_text().strip() == str(show / "public")


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("", "does not exist"),
        ('[show]\ntitle = "x"\n', "description is required"),
        ('[show]\ntitle="x"\ndescription="d"\nauthor="a"\nbase_url="https://e/"\nmode="weekly"\n[[sources]]\nfolder="in"\n', "mode must be one of"),
        ('[show]\ntitle="x"\ndescription="d"\nauthor="a"\nbase_url="https://e/"\n', "no [[sources]]"),
        ('[show]\ntitle="x"\ndescription="d"\nauthor="a"\nbase_url="ftp://e/"\n[[sources]]\nfolder="in"\n', "http(s) URL"),
        ('[show]\ntitle="x"\ndescription="d"\nauthor="a"\nbase_url="https://e/"\nmax_new=0\n[[sources]]\nfolder="in"\n', "max_new"),
        ("[show\n", "not valid TOML"),
    ],
)
def test_bad_show_files_are_one_line_usage_errors(tmp_path: Path, toml: str, needle: str) -> None:
    show = tmp_path / "bad"
    show.mkdir()
    if toml:
        (show / "show.toml").write_text(toml)
    result = run_show(show)
    assert result.returncode == 2 and needle in _summary(result)["failed"][0]["error"]
    plain = run_show(show, extra=())
    assert "Traceback" not in plain.stderr


def test_show_init_writes_a_runnable_commented_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    exe = str(Path(sys.executable).with_name("podcast-gen"))
    show = tmp_path / "new"
    made = subprocess.run([exe, "show", "init", str(show), "--title", 'Tidal "Weekly"'], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    text = (show / "show.toml").read_text()
    assert text.count("#") > 10 and (show / "inbox").is_dir()
    import tomllib

    assert tomllib.loads(text)["show"]["title"] == 'Tidal "Weekly"'
    again = subprocess.run([exe, "show", "init", str(show)], capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr
    env = {**os.environ, "PODCAST_GEN_PLUGINS": ""}
    listed = subprocess.run([exe, "show", "--help"], capture_output=True, text=True, env=env, check=False)
    assert "run" in listed.stdout and "init" in listed.stdout
