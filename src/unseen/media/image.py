"""Still images: decode to plain pixels, write from plain pixels. Nothing else crosses."""

from __future__ import annotations

import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

DEFAULT_MAX_PIXELS = 250_000_000  # a 250-megapixel image takes about 1 GB decoded
# Formats unseen reads, and what each is written as by default.
READ_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "TIFF": "TIFF", "BMP": "PNG", "GIF": "PNG"}
WRITE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "TIFF": ".tif"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".tif", ".tiff", ".bmp", ".gif", ".mpo"}
_SRGB = ImageCms.createProfile("sRGB")


class ImageReadError(Exception):
    """The file is not a supported image that can be read safely; the message says why, in one line."""


@dataclass(frozen=True)
class Decoded:
    """Pixels as shown (orientation applied, sRGB): H×W×3 RGB or H×W×4 RGBA, uint8."""

    pixels: np.ndarray
    format: str  # the format it should be written in by default
    gray: bool  # whether to write it back as grayscale

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4


def read_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Decoded:
    if path.stat().st_size == 0:
        raise ImageReadError("empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return _decode(image, max_pixels)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError("not an image in a format unseen reads (JPEG, PNG, WebP, TIFF, BMP, GIF)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(f"decompression bomb: over the {_mp(max_pixels)} limit (--max-pixels)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise ImageReadError(f"corrupt or truncated image ({_first_line(error)})") from None


def _decode(image: Image.Image, max_pixels: int) -> Decoded:
    if image.format not in READ_FORMATS:
        raise ImageReadError(f"{image.format} images are not supported")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageReadError(
            f"image is {width}×{height} ({_mp(width * height)}), over the {_mp(max_pixels)} limit (--max-pixels)"
        )
    # MPO holds a depth map or preview after the main picture: those frames are never read or written.
    if getattr(image, "n_frames", 1) > 1 and image.format != "MPO":
        raise ImageReadError("animated or multi-page images are not supported yet")
    image.load()
    shown = ImageOps.exif_transpose(image) or image
    gray = shown.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
    pixels = _to_rgb_array(_to_srgb(shown))
    return Decoded(pixels=pixels, format=READ_FORMATS[image.format], gray=gray)


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
        gray8 = np.clip(wide / 257.0, 0, 255).astype(np.uint8)
        return np.repeat(gray8[..., None], 3, axis=2)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (image.mode == "P" and "transparency" in image.info)
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def write_image(decoded: Decoded, pixels: np.ndarray, path: Path, fmt: str, overwrite: bool = False) -> None:
    """Write `pixels` as `fmt` to `path` atomically: a temporary file beside it, then a rename.

    Only pixels are passed to the encoder: no EXIF, XMP, ICC profile, comment or text chunk.
    """
    image = _for_format(Image.fromarray(pixels), fmt, decoded.gray)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".unseen-tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(handle, "wb") as stream:
            image.save(stream, format=fmt, **_ENCODER_OPTIONS[fmt])
            stream.flush()
            os.fsync(stream.fileno())
        _publish(tmp, path, overwrite)
    finally:
        tmp.unlink(missing_ok=True)


def _publish(tmp: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # fails if the name exists, even when another process made it a moment ago
    except FileExistsError:
        raise FileExistsError(f"{path} exists (use --overwrite to replace it)") from None
    except OSError:
        if path.exists():  # a file system without hard links: the check is as late as it can be
            raise FileExistsError(f"{path} exists (use --overwrite to replace it)") from None
        os.replace(tmp, path)


def _for_format(image: Image.Image, fmt: str, gray: bool) -> Image.Image:
    alpha = image.mode == "RGBA" and fmt != "JPEG"
    if gray and fmt != "WEBP":
        return image.convert("LA" if alpha and fmt != "TIFF" else "L")
    return image.convert("RGBA" if alpha else "RGB")


_ENCODER_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 95, "subsampling": "4:2:0"},
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 92, "method": 4},
    "TIFF": {"compression": "tiff_lzw"},
}


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} megapixels" if pixels >= 1e6 else f"{pixels} pixels"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
