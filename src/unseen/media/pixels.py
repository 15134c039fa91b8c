"""A decoded photo as plain pixels, and plain pixels as the image an encoder is given. Nothing else crosses.

Pixels are as shown: orientation applied, colour-managed into sRGB, 16-bit scaled to 8, alpha kept where the
file has it. What the encoder gets holds nothing under full transparency.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import ExifTags, Image, ImageCms, ImageOps

from unseen.errors import InputError

_SRGB = ImageCms.createProfile("sRGB")


class ImageReadError(InputError):
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


def to_image(pixels: np.ndarray, fmt: str, gray: bool) -> Image.Image:
    """The Pillow image the encoder of `fmt` is given: pixels only, nothing under full transparency."""
    return _for_format(Image.fromarray(_clear_transparent(pixels, fmt)), fmt, gray)


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
