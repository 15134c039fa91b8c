"""Detectors built from other detectors: several passes merged, horizontal flips, quarter turns, a size floor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from unseen.detectors.merge import nms
from unseen.faces import Detector, Faces


class Merged:
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
        return self.detector(np.ascontiguousarray(image[:, ::-1])).mirrored(width)


class Turned:
    """Runs a detector on the image turned by a multiple of 90° counter-clockwise, returning boxes in the
    original's coordinates: CenterFace finds upright faces, so a face lying down or upside down (a fallen
    person, a tilted camera, a head hanging over a rail) is found only in the turned image."""

    def __init__(self, detector: Detector, quarter_turns: int) -> None:
        if quarter_turns % 4 == 0:
            raise ValueError("a turn of 90, 180 or 270 degrees is needed")
        self.detector = detector
        self.quarter_turns = quarter_turns % 4

    def __call__(self, image: np.ndarray) -> Faces:
        height, width = image.shape[:2]
        found = self.detector(np.ascontiguousarray(np.rot90(image, self.quarter_turns)))
        return found.unturned(self.quarter_turns, width, height)


class AtLeast:
    """Keeps only the faces a detector finds whose box is at least `height` pixels high."""

    def __init__(self, detector: Detector, height: float) -> None:
        self.detector = detector
        self.height = height

    def __call__(self, image: np.ndarray) -> Faces:
        found = self.detector(image)
        return found[(found.boxes[:, 3] - found.boxes[:, 1]) >= self.height]
