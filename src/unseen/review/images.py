"""The pictures the review page shows: thumbnails, a downscaled view, full resolution on zoom, and the obscured
preview, rendered here with the same obscure function the output is written with (what you see is what will
be written). Encoded from the decoded pixels as shown (orientation applied): no metadata of the original
reaches the page. Decoded photos are kept for a few files only; encoded pictures in a small cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from unseen.faces import Faces
from unseen.media import sensor_noise
from unseen.media.image import read_image
from unseen.obscure import obscure
from unseen.photo import Options

THUMB_SIDE = 160  # px, the longer side of a thumbnail in the list
VIEW_SIDE = 1600  # px, the longer side of the view shown before zooming in past it
DECODED_KEPT = 3  # decoded photos kept (a 12-MP photo is 36 MB): the one shown and its neighbours
ENCODED_KEPT = 32  # encoded views kept
SMALL_KEPT = 8  # downscaled photos kept, to obscure at the view's size (5.8 MB each at 1600×1200)
QUALITY = 90  # JPEG quality of views: for looking, never written anywhere


class Images:
    def __init__(self, sources: list[Path], options: Options) -> None:
        self.sources, self.options = sources, options
        self._lock = threading.Lock()
        self._decoding = [threading.Lock() for _ in sources]  # one decode of a file at a time
        self._decoded: OrderedDict[int, np.ndarray] = OrderedDict()
        self._encoded: OrderedDict[Hashable, bytes] = OrderedDict()
        self._thumbs: dict[int, bytes] = {}
        self._smalls: OrderedDict[int, tuple[np.ndarray, float, float]] = OrderedDict()
        self._warmer = ThreadPoolExecutor(1, thread_name_prefix="unseen-warm")

    def warm(self, index: int) -> None:
        """Make the view of `index` ahead of its request (the next photo, while this one is looked at): switching
        to it is then a cache hit. The browser cannot keep it: nothing the page shows may be cached there."""
        with self._lock:
            if (index, False, None) in self._encoded:
                return
        self._warmer.submit(self._quietly, index)

    def _quietly(self, index: int) -> None:
        try:
            self.view(index, False, None, 0)
        except Exception:  # a file that cannot be read now says so when it is asked for, not here
            return

    def pixels(self, index: int) -> np.ndarray:
        """The photo's pixels as shown (H×W×C), decoded once and kept for the next few requests."""
        with self._decoding[index]:
            with self._lock:
                if index in self._decoded:
                    self._decoded.move_to_end(index)
                    return self._decoded[index]
            pixels = read_image(self.sources[index], self.options.max_pixels).pixels
            self.keep(index, pixels)
            return pixels

    def keep(self, index: int, pixels: np.ndarray) -> None:
        with self._lock:
            self._decoded[index] = pixels
            self._decoded.move_to_end(index)
            while len(self._decoded) > DECODED_KEPT:
                self._decoded.popitem(last=False)
            if index not in self._thumbs:
                self._thumbs[index] = jpeg(fit(pixels, THUMB_SIDE), 80)

    def thumbnail(self, index: int) -> bytes:
        with self._lock:
            if index in self._thumbs:
                return self._thumbs[index]
        self.pixels(index)  # keeps its thumbnail
        with self._lock:
            return self._thumbs[index]

    def view(self, index: int, full: bool, obscured: Faces | None, revision: int) -> bytes:
        """The photo as a JPEG, downscaled to VIEW_SIDE unless `full`; with `obscured`, those regions obscured as
        the output will have them (for the decisions of `revision`, which names the cached copy)."""
        key = (index, full, None if obscured is None else revision)
        with self._lock:
            if key in self._encoded:
                self._encoded.move_to_end(key)
                return self._encoded[key]
        if full:
            pixels = self.pixels(index)
            faces = obscured
        else:
            # The downscaled view is obscured at its own size, with the regions scaled to it: the same function
            # and geometry as the output, about 50× less work on a 12-MP photo (a drawn region's preview at once).
            pixels, sx, sy = self._small(index)
            faces = None if obscured is None else obscured.scaled(sx, sy)
        if faces is not None:
            o = self.options
            pixels = obscure(pixels, faces, o.method, o.strength, o.grow)
            pixels = sensor_noise.clean(pixels) if o.sensor_noise else pixels  # as the output will have them
        data = jpeg(pixels, QUALITY)
        with self._lock:
            self._encoded[key] = data
            while len(self._encoded) > ENCODED_KEPT:
                self._encoded.popitem(last=False)
        return data

    def _small(self, index: int) -> tuple[np.ndarray, float, float]:
        """The photo downscaled to VIEW_SIDE, and the scales (x, y) from the photo's pixels to it."""
        with self._lock:
            if index in self._smalls:
                self._smalls.move_to_end(index)
                return self._smalls[index]
        pixels = self.pixels(index)
        small = fit(pixels, VIEW_SIDE)
        found = (small, small.shape[1] / pixels.shape[1], small.shape[0] / pixels.shape[0])
        with self._lock:
            self._smalls[index] = found
            while len(self._smalls) > SMALL_KEPT:
                self._smalls.popitem(last=False)
        return found


def fit(pixels: np.ndarray, side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    scale = side / max(width, height)
    if scale >= 1:
        return pixels
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """JPEG bytes of RGB(A) or grey pixels: alpha dropped (the page shows colour only), nothing but pixels."""
    if pixels.ndim == 2 or pixels.shape[2] == 1:
        bgr = pixels.reshape(pixels.shape[:2])
    else:
        bgr = cv2.cvtColor(np.ascontiguousarray(pixels[..., :3]), cv2.COLOR_RGB2BGR)
    if bgr.dtype != np.uint8:
        bgr = (bgr >> 8).astype(np.uint8) if bgr.dtype == np.uint16 else np.clip(bgr, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the view")
    return data.tobytes()
