"""A plain square cover made from the show's title (used when ``[show] image`` is not given).

Apple requires 1400-3000 px square artwork; we draw 1400 px: a flat background whose colour
is derived from the title, the title wrapped in large type, and the author underneath.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from pathlib import Path

from podcast.errors import ConfigError

__all__ = ["COVER_SIZE", "cover_png"]

COVER_SIZE = 1400


def cover_png(title: str, author: str, image: Path | None = None) -> bytes:
    """PNG bytes of the show's cover: ``image`` checked and converted, or a generated one."""
    from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

    if image is not None:
        try:
            with Image.open(image) as picture:
                return _square_png(picture)
        except (OSError, UnidentifiedImageError) as exc:
            raise ConfigError(f"[show] image {image} is not a readable picture: {exc}") from None
    digest = hashlib.sha256(title.encode("utf-8")).digest()
    background = tuple(40 + b % 120 for b in digest[:3])
    canvas = Image.new("RGB", (COVER_SIZE, COVER_SIZE), background)
    draw = ImageDraw.Draw(canvas)
    big, small = ImageFont.load_default(size=130), ImageFont.load_default(size=60)
    # The built-in font has Latin glyphs only: text it cannot draw is left off, not drawn as boxes.
    lines = textwrap.wrap(title, width=16) if _drawable(title) else []
    y = COVER_SIZE // 2 - 80 * len(lines)
    for line in lines[:6]:
        draw.text((COVER_SIZE // 2, y), line, font=big, fill="white", anchor="mm")
        y += 160
    if _drawable(author):
        draw.text((COVER_SIZE // 2, COVER_SIZE - 160), author, font=small, fill=(235, 235, 235), anchor="mm")
    return _png(canvas)


def _drawable(text: str) -> bool:
    return all(ord(c) < 0x250 for c in text)


def _square_png(picture) -> bytes:
    from PIL import Image

    side = min(picture.size)
    if side < COVER_SIZE:
        raise ConfigError(f"[show] image must be at least {COVER_SIZE} px square (it is {picture.size[0]}x{picture.size[1]})")
    left, top = (picture.size[0] - side) // 2, (picture.size[1] - side) // 2
    square = picture.convert("RGB").crop((left, top, left + side, top + side))
    if side > 3000:
        square = square.resize((3000, 3000), Image.Resampling.LANCZOS)
    return _png(square)


def _png(picture) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()
