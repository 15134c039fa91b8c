"""HEIC/HEIF and AVIF, the formats phones save photos in: what is read of them, and how.

HEIC is read and written by pillow-heif (its bundled libheif, with libde265 to decode and x265 to encode); AVIF by
Pillow's own plugin (libavif, with dav1d and libaom). Only the pictures a viewer shows are decoded:

- Every top-level image of a HEIC (a file may hold several, one marked primary: the one shown first). Their
  thumbnails, depth maps, HDR gain maps and other auxiliary images are never decoded, listed or written: pillow-heif
  is told to skip them, so that not even Pillow's draft mode can swap a thumbnail in for the picture.
- An AVIF's picture, or every frame of an animated AVIF (libavif shows the animation, not the still beside it).

Orientation: the file's own transformations (irot, imir) say how it is shown; an EXIF orientation tag in a HEIF
file is only a note of them, which viewers following the standard ignore (and which, applied as well, would turn
the picture twice). libheif applies irot and imir while decoding, and pillow-heif sets the EXIF tag to 1; libavif
does not apply them, and Pillow's plugin puts them in the EXIF tag instead, which frame_pixels then applies. Either
way the picture is turned once, as shown. XMP's orientation is dropped for the same reason (Pillow would apply it
where the EXIF tag is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pillow_heif
from PIL import Image, features

from unseen import formats
from unseen.media.frames import decode_each
from unseen.media.pixels import Decoded, ImageReadError

FORMATS = ("HEIF", "AVIF")  # Pillow's names for them
# The brands a file's ftyp box names (its bytes 8 to 12): a file that begins so and cannot be opened is broken.
_BRANDS = {
    b"avif": "AVIF",
    b"avis": "AVIF",
    **dict.fromkeys((b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"), "HEIF"),
}

# Pillow's wheels read and write AVIF from 11.3 (pyproject.toml asks for it); a Pillow built without libavif does not.
AVIF_READ = bool(features.check("avif"))

# Thumbnails, depth and auxiliary images off: never decoded, so never obscured or written either. An alpha plane is
# not among them: libheif joins it to its picture.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def shown_as_decoded(image: Image.Image) -> None:
    """Leave the orientation to the decoder's transformations alone (see above): XMP's is not applied."""
    for key in ("xmp", "XML:com.adobe.xmp"):
        image.info.pop(key, None)


@contextmanager
def decoding() -> Iterator[None]:
    """libheif's and libavif's failures to decode (a codec libheif lacks, such as AV1 in a file that calls itself
    HEIC; an image item missing; coded data they cannot follow) come as RuntimeError, when the file is opened or
    its pixels decoded: a file's problem, told in one line."""
    try:
        yield
    except RuntimeError as error:
        text = " ".join(str(error).split()) or type(error).__name__
        raise ImageReadError(f"corrupt or undecodable image ({text})") from None


def read_frames(image: Image.Image, max_pixels: int) -> Decoded:
    """Every picture of a multi-image HEIC (the primary first, so that it stays the one shown) or an animated AVIF
    (in order, with each frame's duration); `max_pixels` bounds the sum over them, each counted before it is
    decoded."""
    animated = image.format == "AVIF"  # frames of one scene in time; a HEIC's images are unrelated pictures
    primary = image.tell()  # pillow-heif opens a file at its primary image
    count = image.n_frames  # type: ignore[attr-defined]  # pillow-heif's image has it, Image.Image's stubs not
    order = [primary, *(index for index in range(count) if index != primary)]
    frames, durations, gray = decode_each(_in_order(image, order), max_pixels)
    return Decoded(
        pixels=frames[0],
        format=formats.photo(image.format or "").writes_as,
        gray=gray,
        frames=tuple(frames),
        durations=tuple(durations) if animated else (),
        animated=animated,
    )


def _in_order(image: Image.Image, order: list[int]) -> Iterator[Image.Image]:
    for index in order:
        image.seek(index)
        shown_as_decoded(image)  # seek reads each image's own metadata again
        yield image


def kind(head: bytes) -> str | None:
    """The format ("HEIF" or "AVIF") whose ftyp box a file begins with, else None."""
    if head[4:8] != b"ftyp":
        return None
    return _BRANDS.get(head[8:12])
