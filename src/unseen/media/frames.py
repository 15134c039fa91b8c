"""Animated WebP and multi-page TIFF: every frame decoded as a still is, and all of them written back as one file."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageSequence

from unseen import formats, publish
from unseen.media.pixels import Decoded, ImageReadError, frame_pixels, to_image


def read_frames(image: Image.Image, max_pixels: int) -> Decoded:
    """Every frame of an open multi-frame image; `max_pixels` bounds the sum over the frames.

    read_image has judged the whole file from its header already (media/budget.py: the canvas × the frame count
    of an animation, the sum over the pages of a TIFF, against --max-pixels and the file's size). The sum is
    kept here too, from each frame's size before it is decoded, so that a count the header got wrong costs no
    frame past the limit.
    """
    frames, durations, gray = decode_each(ImageSequence.Iterator(image), max_pixels)
    return Decoded(
        pixels=frames[0],
        format=formats.photo(image.format or "").writes_as,
        gray=gray,
        frames=tuple(frames),
        durations=tuple(durations),
        loop=int(image.info.get("loop", 0) or 0),
        animated=image.format == "WEBP",
    )


def decode_each(frames: Iterable[Image.Image], max_pixels: int) -> tuple[list[np.ndarray], list[int], bool]:
    """Each frame decoded in turn, its size added to the sum `max_pixels` bounds before it is decoded: the
    pixels, each frame's duration (ms, 0 if none) and whether all are grey."""
    decoded: list[np.ndarray] = []
    durations: list[int] = []
    grays: list[bool] = []
    total = 0
    for frame in frames:
        width, height = frame.size
        total += width * height
        if total > max_pixels:
            raise ImageReadError(f"image frames add up to over the {max_pixels:,}-pixel limit (--max-pixels)")
        frame.load()
        pixels, gray = frame_pixels(frame)
        decoded.append(pixels)
        grays.append(gray)
        durations.append(max(int(frame.info.get("duration") or 0), 0))
    return decoded, durations, all(grays)


def write_frames(
    decoded: Decoded,
    frames: Sequence[np.ndarray],
    path: Path,
    fmt: str,
    overwrite: bool = False,
    check: Callable[[Path], None] | None = None,
) -> None:
    """Write `frames` as one animated WebP or multi-page TIFF, atomically, as write_image writes one image.

    Only pixels, the frame durations and the loop count are passed to the encoder: no EXIF, XMP or ICC profile.
    """
    images = [to_image(pixels, fmt, decoded.gray) for pixels in frames]
    options = dict(formats.photo(fmt).encoder or {}) | {"save_all": True, "append_images": images[1:]}
    if fmt == "WEBP":
        durations = list(decoded.durations) or [0] * len(images)
        options |= {"duration": durations, "loop": decoded.loop, "lossless": False}
    publish.save(path, overwrite, check, lambda stream: images[0].save(stream, format=fmt, **options))
