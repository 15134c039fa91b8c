"""Merging overlapping boxes from one or more detection passes."""

from __future__ import annotations

import numpy as np

from unseen.faces import Faces


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in a (N×4) with every box in b (M×4)."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-6)


def nms(faces: Faces, iou: float = 0.3) -> Faces:
    """Greedy non-maximum suppression: keep the best-scoring box of each overlapping group."""
    if len(faces) < 2:
        return faces
    order = np.argsort(-faces.scores, kind="stable")
    boxes = faces.boxes[order]
    overlap = iou_matrix(boxes, boxes)
    suppressed = np.zeros(len(boxes), bool)
    for i in range(len(boxes)):
        if not suppressed[i]:
            suppressed[i + 1 :] |= overlap[i, i + 1 :] >= iou
    return faces[order[~suppressed]]
