"""CenterFace (MIT licence), run with ONNX Runtime from the copy shipped inside this package."""

from __future__ import annotations

import hashlib
import math
import os
from functools import cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from unseen.detect.merge import nms
from unseen.faces import Faces

MODEL_NAME = "centerface"
_STRIDE = 4  # the heatmap has one cell per 4×4 input pixels
_ALIGN = 32  # input sides must be multiples of 32


def model_path() -> Path:
    return Path(str(resources.files("unseen.models").joinpath("centerface.onnx")))


@cache
def model_sha256() -> str:
    return hashlib.sha256(model_path().read_bytes()).hexdigest()


@cache
def _session() -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = os.cpu_count() or 1
    options.log_severity_level = 3  # warnings about the graph are not the user's concern
    # Accelerators first where this onnxruntime build has them; the CPU always works.
    providers = [p for p in ort.get_available_providers() if p != "TensorrtExecutionProvider"]
    return ort.InferenceSession(str(model_path()), options, providers=providers)


def _decode(heatmap: np.ndarray, size: np.ndarray, offset: np.ndarray, threshold: float) -> Faces:
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
    """One CenterFace pass over an image resized by `scale` (sides rounded up to multiples of 32)."""

    def __init__(self, threshold: float = 0.2, scale: float = 1.0, nms_iou: float = 0.3) -> None:
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        if scale <= 0:
            raise ValueError(f"scale must be positive, not {scale}")
        self.threshold = threshold
        self.scale = scale
        self.nms_iou = nms_iou

    def __call__(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        in_w = max(_ALIGN, math.ceil(width * self.scale / _ALIGN) * _ALIGN)
        in_h = max(_ALIGN, math.ceil(height * self.scale / _ALIGN) * _ALIGN)
        shrink = in_w < width
        resized = cv2.resize(image, (in_w, in_h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        blob = resized.transpose(2, 0, 1)[None].astype(np.float32)
        heatmap, size, offset, _landmarks = _session().run(None, {"input.1": blob})
        faces = _decode(heatmap, size, offset, self.threshold)
        faces = faces.scaled(width / in_w, height / in_h).clipped(width, height)
        return nms(faces, self.nms_iou)
