"""The anchor-based detectors of Face-Detector-1MB-with-landmark (MIT): RetinaFace on MobileNet-0.25, and the
slim and RFB 1 MB networks, run with ONNX Runtime from copies converted by tools/convert_retinaface.py.

Each cell of a feature map at stride s holds anchors (square boxes of the sizes listed per level) centred on
the cell; the network gives per anchor a face probability and SSD-encoded offsets: the centre moves by
offset × 0.1 × anchor size, the size is anchor size × exp(offset × 0.2). The input is BGR with the training
means subtracted. The anchors and this decoding are unseen's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from candidates import fitted
from candidates.yunet import reshaped
from unseen import device
from unseen.detectors.centerface import check_pass
from unseen.detectors.merge import nms
from unseen.faces import Faces

_MEAN_BGR = np.array([104.0, 117.0, 123.0], np.float32)
_VARIANCE = (0.1, 0.2)


@dataclass(frozen=True)
class Anchors:
    """Per level: its stride and the sizes of the anchors each of its cells holds."""

    steps: tuple[int, ...]
    sizes: tuple[tuple[int, ...], ...]
    # The model's boxes made CenterFace-like (width and height factors, centre moved down by a share of the
    # height), measured on the dev set against the annotated boxes (tools/box_convention.py).
    box: tuple[float, float, float] = (1.0, 1.0, 0.0)


MODELS = {
    "retinaface_mnet": Anchors((8, 16, 32), ((10, 20), (32, 64), (128, 256))),
    "retinaface_slim": Anchors((8, 16, 32, 64), ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))),
    "retinaface_rfb": Anchors((8, 16, 32, 64), ((10, 16, 24), (32, 48), (64, 96), (128, 192, 256))),
}
MODEL_NAME = "retinaface_mnet"


@lru_cache(maxsize=16)
def anchors(model: str, width: int, height: int) -> np.ndarray:
    """The model's anchors for a width×height input: N×4 (centre x, centre y, size), in input pixels, in the
    order of the network's outputs (level, row, column, size)."""
    spec = MODELS[model]
    parts = []
    for step, sizes in zip(spec.steps, spec.sizes, strict=True):
        rows, cols = math.ceil(height / step), math.ceil(width / step)
        cy, cx, size = np.meshgrid(
            (np.arange(rows) + 0.5) * step, (np.arange(cols) + 0.5) * step, np.array(sizes, np.float64), indexing="ij"
        )
        parts.append(np.stack([cx.ravel(), cy.ravel(), size.ravel()], axis=1))
    return np.concatenate(parts)


def decode(loc: np.ndarray, conf: np.ndarray, priors: np.ndarray, threshold: float) -> Faces:
    """Boxes (input pixels) and face probabilities of the anchors scoring at least `threshold`."""
    score = conf[:, 1]
    keep = np.nonzero(score >= threshold)[0]
    offsets, prior = loc[keep].astype(np.float64), priors[keep]
    cx = prior[:, 0] + offsets[:, 0] * _VARIANCE[0] * prior[:, 2]
    cy = prior[:, 1] + offsets[:, 1] * _VARIANCE[0] * prior[:, 2]
    w = prior[:, 2] * np.exp(offsets[:, 2] * _VARIANCE[1])
    h = prior[:, 2] * np.exp(offsets[:, 3] * _VARIANCE[1])
    return Faces(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), score[keep])


class RetinaFace:
    """One pass of an anchor-based 1 MB detector over an image resized by `scale` (shrunk further to fit
    MAX_RUN_PIXELS); with `mirror` it looks at the mirror image and gives boxes in the image's coordinates."""

    def __init__(
        self,
        threshold: float = 0.5,
        scale: float = 1.0,
        nms_iou: float = 0.3,
        model: str = MODEL_NAME,
        mirror: bool = False,
    ) -> None:
        check_pass(threshold, scale)
        if model not in MODELS:
            raise ValueError(f"unknown anchor-based model {model!r}")
        self.threshold = threshold
        self.scale = scale
        self.nms_iou = nms_iou
        self.model = model
        self.mirror = mirror

    def __call__(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        resized = fitted(image, self.scale, 32)
        in_h, in_w = resized.shape[:2]
        if self.mirror:
            resized = resized[:, ::-1]
        blob = (resized[..., ::-1].astype(np.float32) - _MEAN_BGR).transpose(2, 0, 1)[None]
        loc, conf = device.session(self.model).run(None, {"input": np.ascontiguousarray(blob)})
        priors = anchors(self.model, in_w, in_h)
        if len(priors) != loc.shape[1]:
            raise RuntimeError(f"{self.model}: {loc.shape[1]} outputs for {len(priors)} anchors")
        faces = decode(loc[0], conf[0], priors, self.threshold)
        faces = reshaped(faces, *MODELS[self.model].box)
        faces = faces.scaled(width / in_w, height / in_h).clipped(width, height)
        faces = nms(faces, self.nms_iou)
        return faces.mirrored(width) if self.mirror else faces
