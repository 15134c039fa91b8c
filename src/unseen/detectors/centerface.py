"""CenterFace (MIT licence), run with ONNX Runtime (device.session) from the copy shipped inside this package."""

from __future__ import annotations

import math

import cv2
import numpy as np

from unseen import device
from unseen.detectors.merge import nms
from unseen.faces import Faces

MODEL_NAME = "centerface"
# The same network quantized to int8 by tools/quantize_centerface.py: about 1.6× faster, a little less sure
# of hard faces; `--quality fast` runs it for all its passes, balanced for its 1.5 pass (detectors/presets.py),
# and the orientation probe for its three small looks (detectors/orient.py).
INT8_MODEL_NAME = "centerface_int8"
_STRIDE = 4  # the heatmap has one cell per 4×4 input pixels
_ALIGN = 32  # input sides must be multiples of 32
# One model run sees at most this many input pixels: peak memory stays under about 1 GB whatever the
# image size. Larger inputs are cut into overlapping tiles (sides and steps multiples of 32).
MAX_RUN_PIXELS = 2048 * 2048
TILE = 1536
OVERLAP = 256  # a face up to this size (in model input pixels) is whole in at least one tile


def _faces_from_maps(heatmap: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float) -> Faces:
    """Boxes from the model's heatmap, log-size and centre-offset maps, in input pixels."""
    rows, cols = np.nonzero(heatmap[0, 0] > threshold)
    scores = heatmap[0, 0, rows, cols]
    height = np.exp(size[0, 0, rows, cols]) * _STRIDE
    width = np.exp(size[0, 1, rows, cols]) * _STRIDE
    cy = (rows + offset[0, 0, rows, cols] + 0.5) * _STRIDE
    cx = (cols + offset[0, 1, rows, cols] + 0.5) * _STRIDE
    boxes = np.stack([cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2], axis=1)
    return Faces(boxes, scores)


class CenterFace:
    """One CenterFace pass over an image resized by `scale` (sides rounded up to multiples of 32).

    With `mirror` it looks at the mirror image and gives the boxes in the image's own coordinates, as
    compose.Flipped would; but it mirrors the resized input, never a full-size copy of the image (3 bytes a
    pixel). Mirroring commutes exactly with the resize: the faces are the same, to the bit.
    """

    def __init__(
        self,
        threshold: float = 0.2,
        scale: float = 1.0,
        nms_iou: float = 0.3,
        model: str = MODEL_NAME,
        mirror: bool = False,
    ) -> None:
        check_pass(threshold, scale)
        self.threshold = threshold
        self.scale = scale
        self.nms_iou = nms_iou
        self.model = model
        self.mirror = mirror

    def __call__(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        resized = self._mirrored(_resize(image, self.scale))
        in_h, in_w = resized.shape[:2]
        if in_w * in_h <= MAX_RUN_PIXELS:
            faces = self._run(resized)
        else:
            # Tiles see small faces at full resolution; one run over the whole image, shrunk to fit,
            # sees the faces too large for a tile's overlap.
            whole = self._mirrored(_resize(image, _fit_scale(width, height)))
            overview = self._run(whole).scaled(in_w / whole.shape[1], in_h / whole.shape[0])
            faces = Faces.concat([overview, *self._tiles(resized)])
        faces = faces.scaled(width / in_w, height / in_h).clipped(width, height)
        faces = nms(faces, self.nms_iou)
        return faces.mirrored(width) if self.mirror else faces

    def _mirrored(self, resized: np.ndarray) -> np.ndarray:
        """The resized input, mirrored if asked (a view: the model's input is copied from it)."""
        return resized[:, ::-1] if self.mirror else resized

    def _run(self, blob_image: np.ndarray) -> Faces:
        blob = blob_image.transpose(2, 0, 1)[None].astype(np.float32)
        heatmap, size, offset, _landmarks = device.session(self.model).run(None, {"input.1": blob})
        return _faces_from_maps(heatmap, size, offset, self.threshold)

    def _tiles(self, resized: np.ndarray) -> list[Faces]:
        in_h, in_w = resized.shape[:2]
        found = []
        for y in _starts(in_h):
            for x in _starts(in_w):
                tile = np.ascontiguousarray(resized[y : y + TILE, x : x + TILE])
                found.append(self._run(tile).shifted(x, y))
        return found


def check_pass(threshold: float, scale: float) -> None:
    """A detector pass's settings, as every detector here takes them: a score threshold in (0, 1), a scale > 0."""
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
    if scale <= 0:
        raise ValueError(f"scale must be positive, not {scale}")


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    height, width = image.shape[:2]
    in_w = max(_ALIGN, math.ceil(width * scale / _ALIGN) * _ALIGN)
    in_h = max(_ALIGN, math.ceil(height * scale / _ALIGN) * _ALIGN)
    shrink = in_w < width
    return cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _fit_scale(width: int, height: int) -> float:
    """The scale at which the whole image fits one run. A side never goes under _ALIGN: along a very long, thin
    image (100000×1, say) the long side must shrink further, or the overview would grow past the limit."""
    scale = math.sqrt(MAX_RUN_PIXELS / (width * height)) * 0.98
    return min(scale, (MAX_RUN_PIXELS // _ALIGN - _ALIGN) / max(width, height))


def _starts(length: int) -> list[int]:
    """Tile origins along one side: steps of TILE - OVERLAP, the last tile flush with the end."""
    if length <= TILE:
        return [0]
    starts = list(range(0, length - TILE, TILE - OVERLAP))
    return [*starts, length - TILE]
