"""Metadata on the deliverable with mutagen: ID3v2.4 (MP3, WAV) with ``CHAP``/``CTOC``
chapter frames, Vorbis comments (FLAC, Opus) with the ``CHAPTERnnn`` convention, and MP4
atoms (M4A; its chapters go in through ffmpeg's metadata file at encode time)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from podcast.errors import OutputError

from .transcripts import ChapterMark, clock

__all__ = ["Tags", "ffmetadata", "write_tags"]


@dataclass(frozen=True, slots=True)
class Tags:
    """What to write: episode title, show (album), hosts (artist), date (YYYY[-MM-DD]),
    a comment (the source URL goes here), language code, optional cover image and chapters."""

    title: str = ""
    show: str = ""
    artist: str = ""
    date: str = ""
    comment: str = ""
    url: str = ""
    language: str = ""
    cover: Path | None = None
    chapters: tuple[ChapterMark, ...] = ()


def _mime(path: Path) -> str:
    return "image/png" if path.suffix.lower() == ".png" else "image/jpeg"


def _ordered_id3() -> object:
    """An empty ID3 tag that writes its chapter frames last and in the order they were
    added.  mutagen sorts frames by size, so chapters with longer titles ended up after
    shorter ones, and players that read ``CHAP`` frames in file order (not through the
    ``CTOC``) showed them out of time order."""
    from mutagen.id3 import ID3

    try:
        from mutagen.id3._tags import save_frame
    except ImportError:  # another mutagen layout: its own order
        return ID3()

    class OrderedID3(ID3):
        def _write(self, config: object) -> bytes:
            chapters = [f for f in self.values() if f.FrameID in ("CTOC", "CHAP")]
            for frame in chapters:
                del self[frame.HashKey]
            try:
                data = super()._write(config)
            finally:
                for frame in chapters:
                    self.add(frame)
            return bytes(data) + b"".join(save_frame(f, config=config) for f in chapters)

    return OrderedID3()


def _id3(tags: Tags) -> object:
    from mutagen.id3 import APIC, COMM, TALB, TDRC, TIT2, TLAN, TPE1, TSSE, WXXX

    frames = _ordered_id3()
    pairs = [
        (TIT2, tags.title),
        (TALB, tags.show),
        (TPE1, tags.artist),
        (TDRC, tags.date),
        (TLAN, tags.language),
    ]
    for frame, value in pairs:
        if value:
            frames.add(frame(encoding=3, text=[value]))
    frames.add(TSSE(encoding=3, text=["podcast-gen"]))
    if tags.comment:
        frames.add(COMM(encoding=3, lang="eng", desc="", text=[tags.comment]))
    if tags.url:
        frames.add(WXXX(encoding=3, desc="source", url=tags.url))
    if tags.cover:
        frames.add(
            APIC(
                encoding=3,
                mime=_mime(tags.cover),
                type=3,
                desc="cover",
                data=tags.cover.read_bytes(),
            )
        )
    _add_chapters(frames, tags.chapters)
    return frames


def _add_chapters(frames: object, chapters: Sequence[ChapterMark]) -> None:
    """``CHAP`` frames (times in ms, byte offsets unused) under one ordered top-level ``CTOC``."""
    from mutagen.id3 import CHAP, CTOC, TIT2, CTOCFlags

    if not chapters:
        return
    ids = [f"chp{i}" for i in range(len(chapters))]
    frames.add(
        CTOC(
            element_id="toc",
            flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[TIT2(encoding=3, text=["Chapters"])],
        )
    )
    for cid, mark in zip(ids, chapters, strict=True):
        frames.add(
            CHAP(
                element_id=cid,
                start_time=round(mark.start * 1000),
                end_time=round(mark.end * 1000),
                start_offset=0xFFFFFFFF,
                end_offset=0xFFFFFFFF,
                sub_frames=[TIT2(encoding=3, text=[mark.title])],
            )
        )


def _vorbis(target: object, tags: Tags) -> None:
    values = {
        "TITLE": tags.title,
        "ALBUM": tags.show,
        "ARTIST": tags.artist,
        "DATE": tags.date,
        "COMMENT": tags.comment,
        "LANGUAGE": tags.language,
        "CONTACT": tags.url,
    }
    for key, value in values.items():
        if value:
            target[key] = [value]
    for i, mark in enumerate(tags.chapters, 1):
        target[f"CHAPTER{i:03d}"] = [clock(mark.start)]
        target[f"CHAPTER{i:03d}NAME"] = [mark.title]


def _mp4(path: Path, tags: Tags) -> None:
    from mutagen.mp4 import MP4, MP4Cover

    audio = MP4(str(path))
    values = {
        "\xa9nam": tags.title,
        "\xa9alb": tags.show,
        "\xa9ART": tags.artist,
        "\xa9day": tags.date,
        "\xa9cmt": tags.comment,
        "\xa9too": "podcast-gen",
    }
    for key, value in values.items():
        if value:
            audio[key] = [value]
    if tags.cover:
        kind = MP4Cover.FORMAT_PNG if _mime(tags.cover) == "image/png" else MP4Cover.FORMAT_JPEG
        audio["covr"] = [MP4Cover(tags.cover.read_bytes(), imageformat=kind)]
    audio.save()


def write_tags(path: Path, fmt: str, tags: Tags) -> None:
    """Tag the file at ``path`` (format ``fmt``) in place.

    :raises OutputError: mutagen could not write, or the cover image is missing.
    """
    if tags.cover is not None and not tags.cover.is_file():
        raise OutputError(f"cover image not found: {tags.cover}")
    try:
        if fmt == "mp3":
            _id3(tags).save(str(path), v2_version=4)
        elif fmt == "wav":
            from mutagen.wave import WAVE

            wave = WAVE(str(path))
            wave.add_tags()
            for frame in _id3(tags).values():
                wave.tags.add(frame)
            wave.save()
        elif fmt in ("flac", "opus"):
            _tag_vorbis(path, fmt, tags)
        elif fmt == "m4a":
            _mp4(path, tags)
    except Exception as exc:  # mutagen raises many unrelated types; report them as one
        cause = exc if isinstance(exc, OSError) else (exc.__cause__ or exc.__context__)
        if isinstance(cause, OSError):
            raise cause from None  # a write failure: the caller names the file and cause
        raise OutputError(f"could not tag {path.name}: {exc}") from None


def _tag_vorbis(path: Path, fmt: str, tags: Tags) -> None:
    if fmt == "flac":
        from mutagen.flac import FLAC, Picture

        audio = FLAC(str(path))
        if tags.cover:
            picture = Picture()
            picture.type, picture.mime, picture.data = 3, _mime(tags.cover), tags.cover.read_bytes()
            audio.add_picture(picture)
    else:
        from mutagen.oggopus import OggOpus

        audio = OggOpus(str(path))
    _vorbis(audio, tags)
    audio.save()


def ffmetadata(tags: Tags) -> str:
    """ffmpeg's FFMETADATA1 text (global tags and chapters) for encoders that take it."""

    def esc(text: str) -> str:
        return "".join("\\" + c if c in "=;#\\\n" else c for c in text)

    lines = [";FFMETADATA1"]
    for key, value in (
        ("title", tags.title),
        ("album", tags.show),
        ("artist", tags.artist),
        ("date", tags.date),
        ("comment", tags.comment),
    ):
        if value:
            lines.append(f"{key}={esc(value)}")
    for mark in tags.chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={round(mark.start * 1000)}",
            f"END={round(mark.end * 1000)}",
            f"title={esc(mark.title)}",
        ]
    return "\n".join(lines) + "\n"
