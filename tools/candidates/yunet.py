"""YuNet (Apache-2.0), run with ONNX Runtime from the copy shipped inside this package.

YuNet (Wu, Peng, Yu, 2023; the detector behind OpenCV's FaceDetectorYN) is anchor-free: at strides 8, 16 and
32 every cell of the input predicts a class score, an objectness score, a box (centre offset from the cell's
corner and log size, both in units of the stride) and 5 landmarks (unused). A cell's face score is the
geometric mean of class and objectness. The network takes BGR in 0..255, sides padded to multiples of 32.

It is a different network from CenterFace, trained differently, so it misses other faces: it is a second
opinion beside CenterFace's passes in the calibrated fusion (detectors/presets.py).
"""

from __future__ import annotations

import math

import numpy as np

from candidates import fitted
from unseen import device
from unseen.detectors.centerface import check_pass
from unseen.detectors.merge import nms
from unseen.faces import Faces

MODEL_NAME = "yunet_n"
_STRIDES = (8, 16, 32)
_ALIGN = 32
# Factors that would make YuNet's boxes CenterFace-like (width and height about the centre, and a shift of the
# centre down as a share of the height), so that obscure.py's mask covers a YuNet face as it covers a
# CenterFace one. Measured on the dev set against the annotated boxes (tools/box_convention.py, score >= 0.5,
# faces of 16 px and more, medians): YuNet-n's boxes are 0.999 of the annotated width and 1.008 of the
# height, centred 0.005 of the height low; CenterFace's 1.000, 0.987 and 0.013. Within 2%: left as they are.
BOX_WIDTH = 1.0
BOX_HEIGHT = 1.0
BOX_SHIFT = 0.0


class YuNet:
    """One YuNet pass over an image resized by `scale` (sides padded to multiples of 32).

    An input larger than MAX_RUN_PIXELS is shrunk to fit (YuNet is run for faces that a shrunk image keeps);
    with `mirror` it looks at the mirror image and gives the boxes in the image's own coordinates."""

    def __init__(
        self,
        threshold: float = 0.5,
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
        resized = fitted(image, self.scale, 1)
        in_h, in_w = resized.shape[:2]
        if self.mirror:
            resized = resized[:, ::-1]
        pad_w, pad_h = _padded(in_w), _padded(in_h)
        blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        blob[0, :, :in_h, :in_w] = resized[..., ::-1].transpose(2, 0, 1)  # RGB -> BGR
        outputs = dict(
            zip(_output_names(self.model), device.session(self.model).run(None, {"input": blob}), strict=True)
        )
        faces = decode(outputs, pad_w, self.threshold)
        faces = conventional(faces).scaled(width / in_w, height / in_h).clipped(width, height)
        faces = nms(faces, self.nms_iou)
        return faces.mirrored(width) if self.mirror else faces


def _padded(side: int) -> int:
    return max(_ALIGN, math.ceil(side / _ALIGN) * _ALIGN)


def _output_names(model: str) -> list[str]:
    return [o.name for o in device.session(model).get_outputs()]


def decode(outputs: dict[str, np.ndarray], width: int, threshold: float) -> Faces:
    """Boxes (in input pixels) and scores of the cells scoring at least `threshold`, at every stride, for an
    input `width` pixels wide (cells are numbered row by row)."""
    found = []
    for stride in _STRIDES:
        cols = width // stride
        cls = np.clip(outputs[f"cls_{stride}"].reshape(-1), 0.0, 1.0)
        obj = np.clip(outputs[f"obj_{stride}"].reshape(-1), 0.0, 1.0)
        score = np.sqrt(cls * obj)
        cells = np.nonzero(score >= threshold)[0]
        if not len(cells):
            continue
        box = outputs[f"bbox_{stride}"].reshape(-1, 4)[cells]
        rows, columns = np.divmod(cells, cols)
        cx = (columns + box[:, 0]) * stride
        cy = (rows + box[:, 1]) * stride
        w = np.exp(box[:, 2]) * stride
        h = np.exp(box[:, 3]) * stride
        found.append(Faces(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), score[cells]))
    return Faces.concat(found)


def conventional(faces: Faces) -> Faces:
    """YuNet's boxes made CenterFace-like (BOX_WIDTH, BOX_HEIGHT, BOX_SHIFT)."""
    return reshaped(faces, BOX_WIDTH, BOX_HEIGHT, BOX_SHIFT)


def reshaped(faces: Faces, width: float, height: float, shift: float) -> Faces:
    """Each box scaled by (width, height) about its centre, its centre moved down by `shift` of its height."""
    boxes = faces.boxes.astype(np.float64)
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    cy = cy + shift * h
    w, h = w * width, h * height
    return Faces(np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1), faces.scores)
