"""Ultra-Light-Fast-Generic-Face-Detector-1MB (MIT), RFB variant, run with ONNX Runtime.

Its ONNX files have a fixed input (320×240 or 640×480, RGB scaled to (x - 127) / 128) and decode their
anchors inside the graph: `scores` (N×2 softmax: background, face) and `boxes` (N×4 corners, as shares of
the input's width and height). The image is resized to the input whatever its shape (as the origin's own
demo does), so `scale` only sets how large a part of the image each run sees: above 1 the image, resized to
scale × the input, is cut into overlapping windows of the input's size.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from unseen import device
from unseen.detectors.centerface import check_pass
from unseen.detectors.merge import nms
from unseen.faces import Faces

MODEL_NAME = "ultralight_640"
_INPUT = {"ultralight_320": (320, 240), "ultralight_640": (640, 480)}


class UltraLight:
    def __init__(
        self,
        threshold: float = 0.5,
        scale: float = 1.0,
        nms_iou: float = 0.3,
        model: str = MODEL_NAME,
        mirror: bool = False,
    ) -> None:
        check_pass(threshold, max(1.0, scale))  # below 1 the whole image is one window: taken as 1
        if model not in _INPUT:
            raise ValueError(f"unknown Ultra-Light model {model!r}")
        self.threshold = threshold
        self.scale = max(1.0, scale)
        self.nms_iou = nms_iou
        self.model = model
        self.mirror = mirror

    def __call__(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        in_w, in_h = _INPUT[self.model]
        big_w, big_h = round(in_w * self.scale), round(in_h * self.scale)
        resized = cv2.resize(image[..., :3], (big_w, big_h), interpolation=cv2.INTER_AREA)
        if self.mirror:
            resized = resized[:, ::-1]
        found = []
        for y in _starts(big_h, in_h):
            for x in _starts(big_w, in_w):
                window = resized[y : y + in_h, x : x + in_w].astype(np.float32)
                blob = ((window - 127.0) / 128.0).transpose(2, 0, 1)[None]
                scores, boxes = device.session(self.model).run(None, {"input": np.ascontiguousarray(blob)})
                keep = scores[0, :, 1] >= self.threshold
                faces = Faces(boxes[0, keep] * np.array([in_w, in_h, in_w, in_h], np.float32), scores[0, keep, 1])
                found.append(faces.shifted(x, y))
        faces = Faces.concat(found).scaled(width / big_w, height / big_h).clipped(width, height)
        faces = nms(faces, self.nms_iou)
        return faces.mirrored(width) if self.mirror else faces


def _starts(length: int, window: int) -> list[int]:
    """Window origins along one side, overlapping by a quarter of the window, the last flush with the end."""
    if length <= window:
        return [0]
    count = math.ceil((length - window) / (window * 3 / 4)) + 1
    return [round(i * (length - window) / (count - 1)) for i in range(count)]
