from __future__ import annotations

import multiprocessing
import time

import pytest

from podcast.errors import LockedError, OutputError
from podcast.runfiles import (
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    episode_lock,
    remove_partials,
    run_dir_name,
    slugify,
)


def test_atomic_write_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "file.txt"
    atomic_write_text(target, "one")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")
    assert target.read_text() == "one"
    assert [p.name for p in target.parent.iterdir()] == ["file.txt"]


def test_atomic_path_keeps_the_suffix_and_requires_output(tmp_path):
    with atomic_path(tmp_path / "a.mp3") as tmp:
        assert tmp.suffix == ".mp3" and tmp.parent == tmp_path and tmp.name.startswith(".a.")
        tmp.write_bytes(b"x")
    with pytest.raises(OutputError), atomic_path(tmp_path / "b.wav"):
        pass
    assert not (tmp_path / "b.wav").exists()


def test_remove_partials(tmp_path):
    atomic_write_json(tmp_path / "x.json", {"a": 1})
    (tmp_path / ".x.abcd1234.part.json").write_text("{")
    assert remove_partials(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]


def _hold(path, seconds, ready):
    with episode_lock(path, timeout=5):
        ready.set()
        time.sleep(seconds)


def test_lock_waits_then_times_out(tmp_path):
    ready = multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold, args=(tmp_path, 1.5, ready))
    holder.start()
    assert ready.wait(10)
    started = time.monotonic()
    with pytest.raises(LockedError, match="another run is writing"), episode_lock(tmp_path, timeout=0.3):
        pass
    assert 0.25 < time.monotonic() - started < 1.4
    with episode_lock(tmp_path, timeout=10):  # waits for the holder to finish
        assert not holder.is_alive() or holder.join(0) is None
    holder.join()


@pytest.mark.parametrize(
    ("title", "slug"),
    [("Sailing on Sunlight: How Solar Sails Work", "sailing-on-sunlight-how-solar-sails-work"), ("茶的简史", "茶的简史"), ("Café — déjà vu!", "cafe-deja-vu"), ("***", "episode")],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_run_dir_name():
    assert run_dir_name("A B", "0123456789abcdef") == "a-b-01234567"
    assert run_dir_name("A B", "0123456789abcdef", "zh") == "a-b-01234567-zh"
