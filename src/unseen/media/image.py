"""Still images: decode to plain pixels, write from plain pixels. Nothing else crosses."""

from __future__ import annotations

import io
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from unseen import publish
from unseen.media import budget, quiet

# 750 MB decoded; one such photo's whole run peaks at about 7 GB (media/budget.py, photo_memory).
DEFAULT_MAX_PIXELS = 250_000_000
# Formats unseen reads, and what each is written as by default.
READ_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "TIFF": "TIFF", "BMP": "PNG", "GIF": "PNG"}
WRITE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif"}
SEQUENCE_FORMATS = ("WEBP", "TIFF")  # read and written with all their frames (media/frames.py)
# What Image.open may try: only these decoders ever see the bytes (MPO comes through the JPEG plugin).
_OPENERS = [name for name in READ_FORMATS if name != "MPO"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".mpo"}
_SRGB = ImageCms.createProfile("sRGB")
# What Pillow raises on a damaged file: those it documents, and those fuzzing found escaping its GIF and TIFF
# frame parsers (IndexError, TypeError, struct.error) when a frame header is cut or garbled.
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
)


class ImageReadError(Exception):
    """The file is not a supported image that can be read safely; the message says why, in one line."""


@dataclass(frozen=True)
class Decoded:
    """Pixels as shown (orientation applied, sRGB): H×W×3 RGB or H×W×4 RGBA, uint8.

    An animated WebP or a multi-page TIFF also has every frame in `frames` (`pixels` is the first).
    """

    pixels: np.ndarray
    format: str  # the format it should be written in by default
    gray: bool  # whether to write it back as grayscale
    frames: tuple[np.ndarray, ...] = ()  # every frame, when there are several; else empty
    durations: tuple[int, ...] = ()  # each frame's duration in milliseconds (animated WebP)
    loop: int = 0  # how many times an animation plays (0: forever)
    animated: bool = False  # the frames are one scene in time (an animation), not unrelated pages

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    size = path.stat().st_size
    if size == 0:
        raise ImageReadError("empty file (0 bytes)")
    quiet.silence()
    try:
        with _pixel_limit(max_pixels), Image.open(path, formats=_OPENERS) as image:
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
        raise ImageReadError(f"corrupt or truncated image ({_first_line(error)})") from None


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
                Image.MAX_IMAGE_PIXELS, caught = _limit_saved
                caught.__exit__(None, None, None)
                _limit_saved = None


def _decode(image: Image.Image, max_pixels: int, path: Path) -> Decoded:
    if image.format not in READ_FORMATS:
        raise ImageReadError(f"{image.format} images are not supported")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageReadError(f"image is {width}×{height}, over the {_pixel_count(max_pixels)} limit (--max-pixels)")
    # MPO holds a depth map or preview after the main picture: those frames are never read or written.
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        if image.format not in SEQUENCE_FORMATS:
            raise ImageReadError("animated or multi-page images are not supported yet")
        from unseen.media.frames import read_frames  # it builds on this module

        return read_frames(image, max_pixels)
    if image.format in ("JPEG", "MPO"):
        _check_jpeg_data(path)
    image.load()
    pixels, gray = frame_pixels(image)
    return Decoded(pixels=pixels, format=READ_FORMATS[image.format], gray=gray)


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


def frame_pixels(image: Image.Image) -> tuple[np.ndarray, bool]:
    """One loaded frame as shown (orientation applied, sRGB) RGB or RGBA uint8, and whether it is grayscale."""
    # exif_transpose copies a picture it does not turn: a 250-megapixel photo's 1 GB is not copied for nothing.
    turned = image.getexif().get(ExifTags.Base.Orientation, 1) != 1
    shown = (ImageOps.exif_transpose(image) or image) if turned else image
    gray = shown.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
    return _to_rgb_array(_to_srgb(shown)), gray


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colour-manage into sRGB so the ICC profile need not be kept; without one, pixels stay as they are."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode) or image
    except (ImageCms.PyCMSError, OSError, ValueError):
        return image  # a broken profile: the plain conversion below is the best that is left


def _to_rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # Pillow's own conversion clips 16-bit values to 255; scale them instead.
        wide = np.asarray(image, dtype=np.float64)
        gray8 = np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8)
        return np.repeat(gray8[..., None], 3, axis=2)
    # "transparency" is a palette's tRNS, or the one colour a gray or RGB PNG marks as transparent.
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info
    mode = "RGBA" if has_alpha else "RGB"
    # convert() copies an image already in the mode: read as it is, the peak is the picture and its array once.
    return _array(image if image.mode == mode else image.convert(mode))


_BAND_PIXELS = 1 << 22  # 4 megapixels: 12 to 16 MB a band


def _array(image: Image.Image) -> np.ndarray:
    """np.asarray(image) of an RGB or RGBA image, read-only as that is, band by band into one array.

    np.asarray goes through Pillow's tobytes, which holds the picture's bytes twice (its chunks, then their
    join): 1.5 GB for a moment on a 250-megapixel photo, beside the 1 GB picture.
    """
    width, height = image.size
    if width * height <= _BAND_PIXELS:
        return np.asarray(image)
    pixels = np.empty((height, width, len(image.getbands())), np.uint8)
    rows = max(1, _BAND_PIXELS // width)
    for top in range(0, height, rows):
        pixels[top : top + rows] = np.asarray(image.crop((0, top, width, min(height, top + rows))))
    pixels.flags.writeable = False
    return pixels


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
    image = to_image(pixels, fmt, decoded.gray)
    publish.save(path, overwrite, check, lambda stream: image.save(stream, format=fmt, **encoder_options(fmt)))


def to_image(pixels: np.ndarray, fmt: str, gray: bool) -> Image.Image:
    """The Pillow image the encoder of `fmt` is given: pixels only, nothing under full transparency."""
    return _for_format(Image.fromarray(_clear_transparent(pixels, fmt)), fmt, gray)


def encoder_options(fmt: str) -> dict[str, object]:
    return dict(_ENCODER_OPTIONS[fmt])


def _clear_transparent(pixels: np.ndarray, fmt: str) -> np.ndarray:
    """What hides under full transparency (an erased person, say) must not travel with the file.

    With alpha kept, fully transparent pixels are made black; for JPEG, which has no alpha, the image is
    laid on white, as a viewer shows it, rather than revealing the colours under the transparent parts.
    """
    if pixels.shape[2] != 4:
        return pixels
    alpha = pixels[..., 3:].astype(np.float32) / 255.0
    if fmt == "JPEG":
        return np.rint(pixels[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.where(pixels[..., 3:] == 0, 0, pixels).astype(np.uint8)


def _for_format(image: Image.Image, fmt: str, gray: bool) -> Image.Image:
    alpha = image.mode == "RGBA"
    if gray and fmt != "WEBP":  # WebP has no grayscale
        return image.convert("LA" if alpha else "L")
    return image.convert("RGBA" if alpha else "RGB")


_ENCODER_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95, "subsampling": "4:2:0"},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 92, "method": 4},
    "TIFF": {"compression": "tiff_lzw"},
}


def _pixel_count(pixels: int) -> str:
    return f"{pixels:,}-pixel"


# How each format's files begin: a file that begins so but cannot be opened is broken, not of another kind.
_MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"GIF8": "GIF",
    b"BM": "BMP",
}


def _unidentified(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            head = stream.read(16)
    except OSError:
        head = b""
    kind = "WebP" if head[:4] == b"RIFF" and head[8:12] == b"WEBP" else None
    kind = kind or next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)
    if kind is not None:
        return f"corrupt or truncated image (a {kind} file that cannot be opened)"
    return "not an image in a format unseen reads (JPEG, PNG, WebP, TIFF, BMP, GIF)"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
