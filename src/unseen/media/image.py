"""Still images: decode to plain pixels, write from plain pixels. Nothing else crosses."""

from __future__ import annotations

import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, UnidentifiedImageError

from unseen import errors, formats, publish
from unseen.media import budget, heif, quiet, sniff
from unseen.media.frames import read_frames
from unseen.media.pixels import Decoded, ImageReadError, frame_pixels, to_image

# 750 MB decoded; one such photo's whole run peaks at about 4.7 GB (media/budget.py, photo_memory).
DEFAULT_MAX_PIXELS = 250_000_000
# What Image.open may try: only the registry's decoders ever see the bytes (MPO comes through the JPEG plugin), in
# the registry's order (AVIF before HEIF: see formats.py).
_OPENERS = [f.name for f in formats.PHOTOS if f.name != "MPO"]
# What Pillow raises on a damaged file: those it documents, and those fuzzing found escaping its GIF and TIFF
# frame parsers (IndexError, TypeError, struct.error) when a frame header is cut or garbled, and its AVIF plugin
# (ZeroDivisionError) when an animation's timescale reads 0. RuntimeError, libheif's and libavif's: heif.decoding.
_DAMAGED = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    NotImplementedError,
    OverflowError,
    IndexError,
    TypeError,
    struct.error,
    ZeroDivisionError,
)


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    size = path.stat().st_size
    if size == 0:
        raise ImageReadError("empty file (0 bytes)")
    quiet.silence()
    try:
        with _pixel_limit(max_pixels), heif.decoding(), Image.open(path, formats=_OPENERS) as image:
            # Opening read the header only: what decoding would cost is judged before a pixel is decoded.
            budget.check(budget.image_claim(image, path), size, max_pixels)
            return _decode(image, max_pixels, path)
    except ImageReadError:
        raise
    except budget.OverBudget as error:
        raise ImageReadError(str(error)) from None
    except UnidentifiedImageError:
        raise ImageReadError(_unidentified(path)) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        limit = _pixel_count(max_pixels)
        raise ImageReadError(f"image (or a frame in it) is over the {limit} limit (--max-pixels)") from None
    except _DAMAGED as error:
        raise ImageReadError(f"corrupt or truncated image ({errors.first_line(error)})") from None


_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved: tuple[int | None, warnings.catch_warnings] | None = None


@contextmanager
def _pixel_limit(max_pixels: int) -> Iterator[None]:
    """Pillow's own bomb check, at our limit: it also guards GIF frames, which are sized only when reached.

    Other warnings (a corrupt EXIF block, say) are silenced: the pixels are what matters, and a warning
    printed by the decoder would break the one-line-per-problem output. Both settings are global to the
    process, and several photos are read at once: the first reader sets them, the last one restores them.
    """
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            caught = warnings.catch_warnings()
            caught.__enter__()
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            _limit_saved = (Image.MAX_IMAGE_PIXELS, caught)
            Image.MAX_IMAGE_PIXELS = max_pixels
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0 and _limit_saved is not None:
                Image.MAX_IMAGE_PIXELS, entered = _limit_saved
                entered.__exit__(None, None, None)
                _limit_saved = None


def _decode(image: Image.Image, max_pixels: int, path: Path) -> Decoded:
    if image.format not in _OPENERS and image.format != "MPO":
        raise ImageReadError(f"{image.format} images are not supported")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageReadError(f"image is {width}×{height}, over the {_pixel_count(max_pixels)} limit (--max-pixels)")
    if image.format in heif.FORMATS:
        return _decode_heif(image, max_pixels)
    # MPO holds a depth map or preview after the main picture: those frames are never read or written.
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        if not formats.photo(image.format).frames:
            raise ImageReadError("animated or multi-page images are not supported yet")
        return read_frames(image, max_pixels)
    if image.format in ("JPEG", "MPO"):
        _check_jpeg_data(path)
    image.load()
    pixels, gray = frame_pixels(image)
    return Decoded(pixels=pixels, format=formats.photo(image.format).writes_as, gray=gray)


def _decode_heif(image: Image.Image, max_pixels: int) -> Decoded:
    """A HEIC or AVIF as shown (media/heif.py): every top-level image of a HEIC, every frame of an animated AVIF."""
    heif.shown_as_decoded(image)
    if image.n_frames > 1:  # type: ignore[attr-defined]  # pillow-heif's image has it
        return heif.read_frames(image, max_pixels)
    image.load()
    pixels, gray = frame_pixels(image)
    return Decoded(pixels=pixels, format=formats.photo(image.format or "").writes_as, gray=gray)


def _check_jpeg_data(path: Path) -> None:
    """Refuse a JPEG whose coded data stops before the picture is complete.

    A file cut short and closed with an end marker (as repair tools leave it), or whose data meets a marker too
    early, decodes in libjpeg without an error: it warns and fills the rest of the picture with the last colour
    or grey, and Pillow does not pass the warning on. A file cut without an end marker is refused by Pillow
    already. FFmpeg's decoder, told to stop at the first error, does say so: it runs here at 1/8 scale (its entropy
    decoding is whole, its pictures 64 times smaller), about a third of Pillow's decoding time (25 megapixels:
    0.03 s). Data after the end marker is not read. Codings FFmpeg lacks (arithmetic, hierarchical) are left to
    libjpeg.
    """
    import av  # only photos that are JPEGs need it

    data = path.read_bytes()
    if _jpeg_frame_type(data) in _NOT_FOR_FFMPEG:
        return
    context = av.CodecContext.create("mjpeg", "r")
    context.options = {"err_detect": "explode", "lowres": "3"}
    try:
        context.decode(av.Packet(data))
        context.decode(None)
    except av.FFmpegError:
        raise ImageReadError(
            "corrupt or truncated image (its coded data stops or breaks before the picture is complete)"
        ) from None


# Lossless, hierarchical and arithmetic-coded frames. Cameras write baseline or progressive Huffman-coded frames
# (0xC0 to 0xC2); a file whose frame marker cannot be found is checked all the same.
_NOT_FOR_FFMPEG = (0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF)


def _jpeg_frame_type(data: bytes) -> int | None:
    """The start-of-frame marker (0xC0 to 0xCF) of a JPEG, found by skipping from segment to segment."""
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length, as libjpeg reads them
            at += 2
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # not DHT, JPG or DAC
            return marker
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return None


def write_image(
    decoded: Decoded,
    pixels: np.ndarray,
    path: Path,
    fmt: str,
    overwrite: bool = False,
    check: Callable[[Path], None] | None = None,
) -> None:
    """Write `pixels` as `fmt` to `path` atomically: a temporary file beside it, then a rename.

    Only pixels are passed to the encoder: no EXIF, XMP, ICC profile, comment or text chunk. `check`, when
    given, is called with the complete temporary file before it is published: if it raises, nothing is
    published and the temporary file is removed.
    """

    # The encoder's copy of the picture is made inside the write, so that it is freed before the check reads the
    # output back: 4 bytes a pixel less at the peak. `pixels` too is let go of once encoded: where the caller
    # holds no other reference (photo.py), they are freed before the check, 3 bytes a pixel more.
    held = [pixels]
    del pixels

    def write(stream: BinaryIO) -> None:
        to_image(held.pop(), fmt, decoded.gray).save(stream, format=fmt, **(formats.photo(fmt).encoder or {}))

    publish.save(path, overwrite, check, write)


def _pixel_count(pixels: int) -> str:
    return f"{pixels:,}-pixel"


def _unidentified(path: Path) -> str:
    start = sniff.head(path)  # read once: what it is, or what it is instead
    found = sniff.photo(start)
    if found is not None and found.name == "AVIF" and not heif.AVIF_READ:
        return "an AVIF file, which this installation's Pillow cannot read (built without libavif)"
    if found is not None:  # a file that begins as a photo does but cannot be opened is broken, not of another kind
        name = "WebP" if found.name == "WEBP" else found.name
        return f"corrupt or truncated image (a{'n' if name == 'AVIF' else ''} {name} file that cannot be opened)"
    misnamed = sniff.misnamed(start, "photo")
    if misnamed is not None:
        return misnamed
    return "not an image in a format unseen reads (JPEG, PNG, WebP, TIFF, HEIC/HEIF, AVIF, BMP, GIF)"
