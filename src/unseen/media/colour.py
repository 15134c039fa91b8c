"""Colour in a video's frames: the tags kept on the output, and the YCbCr ↔ RGB conversion of face regions.

The writer encodes 4:2:0 frames as the decoder gave them; only the pixels of the face regions are converted
to RGB, painted, and converted back, so the rest of each frame stays bit-exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np


@dataclass(frozen=True)
class Colours:
    """The colour tags of the video, kept on the output and used to convert face regions to RGB and back."""

    space: int
    range: int
    primaries: int
    trc: int

    @property
    def full_range(self) -> bool:
        return self.range == 2  # AVCOL_RANGE_JPEG

    def coefficients(self, height: int) -> tuple[float, float]:
        """(Kr, Kb) of the YCbCr matrix; untagged HD video is BT.709, as players assume."""
        table = {1: (0.2126, 0.0722), 5: (0.299, 0.114), 6: (0.299, 0.114), 7: (0.212, 0.087), 9: (0.2627, 0.0593)}
        return table.get(self.space, table[1] if height >= 720 else table[5])


def colours(frame: av.VideoFrame) -> Colours:
    return Colours(frame.colorspace, frame.color_range, frame.color_primaries, frame.color_trc)


def working_pixels(frame: av.VideoFrame, fmt: str) -> np.ndarray:
    """A private copy of the frame's pixels in the format the writer encodes from (never the decoder's buffer,
    and without the frame's side data)."""
    if fmt == "rgb24":
        return frame.to_ndarray(format="rgb24")
    if frame.width % 2 or frame.height % 2:
        # 4:2:0 needs even sides: repeat the last column or row rather than cut any of the picture.
        rgb = frame.to_ndarray(format="rgb24")
        rgb = np.pad(rgb, ((0, frame.height % 2), (0, frame.width % 2), (0, 0)), mode="edge")
        return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p").to_ndarray()
    if frame.format.name != "yuv420p":
        frame = frame.reformat(format="yuv420p")
    return frame.to_ndarray()


def paint_yuv420(
    pixels: np.ndarray, box: tuple[int, int, int, int], paint: Callable[[np.ndarray], np.ndarray], colours: Colours
) -> None:
    """Run `paint` (RGB crop → changed RGB crop) on one even-aligned box of an I420 frame, in place.

    Only the pixels `paint` changed are written back, so the rest of the frame stays bit-exact.
    """
    height, width = pixels.shape[0] * 2 // 3, pixels.shape[1]
    x1, y1, x2, y2 = box
    luma = pixels[:height]
    u = pixels[height : height + height // 4].reshape(height // 2, width // 2)
    v = pixels[height + height // 4 :].reshape(height // 2, width // 2)
    cy, cu, cv = luma[y1:y2, x1:x2], u[y1 // 2 : y2 // 2, x1 // 2 : x2 // 2], v[y1 // 2 : y2 // 2, x1 // 2 : x2 // 2]
    kr, kb = colours.coefficients(height)
    rgb = _yuv_to_rgb(cy, _up(cu), _up(cv), kr, kb, colours.full_range)
    painted = paint(rgb)
    changed = (painted != rgb).any(axis=2)
    if not changed.any():
        return
    ny, nu, nv = _rgb_to_yuv(painted, kr, kb, colours.full_range)
    cy[changed] = ny[changed]
    block = changed.reshape(changed.shape[0] // 2, 2, changed.shape[1] // 2, 2).any(axis=(1, 3))
    cu[block] = _down(nu)[block]
    cv[block] = _down(nv)[block]


def fill_yuv420(pixels: np.ndarray, box: tuple[int, int, int, int], mask: np.ndarray, colours: Colours) -> None:
    """Paint black where `mask` (the box's size) is set, in one even-aligned box of an I420 frame, in place:
    luma where the mask is, both chroma samples of every 2×2 block it touches. What `paint_yuv420` does with
    a painter that blacks out the mask, without converting the box to RGB and back (that conversion cost
    more than detecting, in a 1080p video with a few dozen faces a frame)."""
    height, width = pixels.shape[0] * 2 // 3, pixels.shape[1]
    x1, y1, x2, y2 = box
    u = pixels[height : height + height // 4].reshape(height // 2, width // 2)
    v = pixels[height + height // 4 :].reshape(height // 2, width // 2)
    kr, kb = colours.coefficients(height)
    black_y, black_u, black_v = _rgb_to_yuv(np.zeros((1, 1, 3), np.uint8), kr, kb, colours.full_range)
    pixels[y1:y2, x1:x2][mask] = black_y[0, 0]
    block = mask.reshape(mask.shape[0] // 2, 2, mask.shape[1] // 2, 2).any(axis=(1, 3))
    u[y1 // 2 : y2 // 2, x1 // 2 : x2 // 2][block] = round(float(black_u[0, 0]))
    v[y1 // 2 : y2 // 2, x1 // 2 : x2 // 2][block] = round(float(black_v[0, 0]))


def _up(plane: np.ndarray) -> np.ndarray:
    return plane.repeat(2, axis=0).repeat(2, axis=1)


def _down(plane: np.ndarray) -> np.ndarray:
    h, w = plane.shape
    return np.round(plane.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))).clip(0, 255).astype(np.uint8)


def _yuv_to_rgb(y: np.ndarray, u: np.ndarray, v: np.ndarray, kr: float, kb: float, full: bool) -> np.ndarray:
    yf = y.astype(np.float32)
    luma = yf / 255 if full else (yf - 16) / 219
    scale = 255 if full else 224
    cb, cr = (u.astype(np.float32) - 128) / scale, (v.astype(np.float32) - 128) / scale
    r = luma + 2 * (1 - kr) * cr
    b = luma + 2 * (1 - kb) * cb
    g = (luma - kr * r - kb * b) / (1 - kr - kb)
    return np.round(np.stack([r, g, b], axis=2) * 255).clip(0, 255).astype(np.uint8)


def _rgb_to_yuv(rgb: np.ndarray, kr: float, kb: float, full: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r, g, b = (rgb[..., i].astype(np.float32) / 255 for i in range(3))
    luma = kr * r + (1 - kr - kb) * g + kb * b
    cb, cr = (b - luma) / (2 * (1 - kb)), (r - luma) / (2 * (1 - kr))
    scale = 255 if full else 224
    y = luma * 255 if full else 16 + luma * 219
    as_u8 = lambda a: np.round(a).clip(0, 255).astype(np.uint8)  # noqa: E731
    return as_u8(y), cb * scale + 128, cr * scale + 128
