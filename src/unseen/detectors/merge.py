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
    group = _groups(faces.boxes[order], iou)
    return faces[order[np.unique(group, return_index=True)[1]]]


def _groups(boxes: np.ndarray, iou: float) -> np.ndarray:
    """For boxes sorted best first: the group of each, numbered by its leader, the first box not yet in a
    group, which takes every later free box overlapping it by at least `iou`. Only leaders' rows of the
    IoU matrix are computed: passes at a low threshold give thousands of boxes but few groups."""
    group = np.full(len(boxes), -1)
    leaders = 0
    for i in range(len(boxes)):
        if group[i] < 0:
            free = np.nonzero(group[i:] < 0)[0] + i
            group[free[iou_matrix(boxes[i : i + 1], boxes[free])[0] >= iou]] = leaders
            group[i] = leaders  # even a box of no area, which overlaps nothing, not even itself
            leaders += 1
    return group


def cluster(found: list[Faces], iou: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Groups the boxes of several passes that overlap the group's best box by at least `iou`.

    Returns each group's best-scoring box (G×4) and, per group and pass, the best score that pass gave it
    (G×P, 0 where the pass found nothing there): the evidence a calibrated fusion weighs.
    """
    everything = Faces.concat(found)
    passes = np.concatenate([np.full(len(f), i) for i, f in enumerate(found)]) if found else np.zeros(0, int)
    order = np.argsort(-everything.scores, kind="stable")
    boxes, scores, passes = everything.boxes[order], everything.scores[order], passes[order]
    group = _groups(boxes, iou)
    leaders = np.unique(group, return_index=True)[1]
    evidence = np.zeros((len(leaders), len(found)), np.float32)
    np.maximum.at(evidence, (group, passes), scores)
    return boxes[leaders].reshape(-1, 4), evidence
