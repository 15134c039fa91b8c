"""Detectors built from other detectors: several passes merged, horizontal flips."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unseen.detectors.merge import nms
from unseen.faces import Detector, Faces


class Passes:
    """Runs every detector on the image and merges what they found."""

    def __init__(self, detectors: Sequence[Detector], nms_iou: float = 0.3) -> None:
        if not detectors:
            raise ValueError("at least one detector is needed")
        self.detectors = list(detectors)
        self.nms_iou = nms_iou

    def __call__(self, image: np.ndarray) -> Faces:
        return nms(Faces.concat([detect(image) for detect in self.detectors]), self.nms_iou)


class Flipped:
    """Runs a detector on the mirror image, returning boxes in the original's coordinates."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector

    def __call__(self, image: np.ndarray) -> Faces:
        width = image.shape[1]
        found = self.detector(np.ascontiguousarray(image[:, ::-1]))
        boxes = found.boxes.copy()
        boxes[:, [0, 2]] = width - found.boxes[:, [2, 0]]
        return Faces(boxes, found.scores)
