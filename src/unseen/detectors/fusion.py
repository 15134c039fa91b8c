"""Calibrated fusion: several passes run at a low threshold, their evidence weighed by a logistic model.

Each pass (a scale, a flip) finds candidates down to a low raw score. Candidates that overlap are grouped,
and a logistic model fitted on the dev set (tools/calibrate_fusion.py) turns a group's evidence (the score
each pass gave it, how many passes agree, its size) into the probability that it is a face.

What to keep is decided on that probability *and* the candidate's size: a false alarm costs the picture as
many pixels as its mask covers, so a tiny candidate is kept on weaker evidence than a large one. A group is
kept when  logit(p) - size_penalty * ln(height²) >= threshold.  With size_penalty 0 this is a plain threshold
on p; on the dev set 0.25–0.4 found most of the faces under 16 px that a plain threshold misses, at the
same collateral.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unseen.detectors.merge import cluster
from unseen.faces import Detector, Faces


@dataclass(frozen=True)
class Fusion:
    """One preset's calibration: logistic weights over `features` (bias last) and the keep rule."""

    weights: tuple[float, ...]
    size_penalty: float
    threshold: float

    def probability(self, boxes: np.ndarray, evidence: np.ndarray) -> np.ndarray:
        x = features(boxes, evidence)
        w = np.asarray(self.weights, np.float64)
        if len(w) != x.shape[1] + 1:
            raise ValueError(f"{len(w)} weights for {x.shape[1]} features and a bias")
        return 1.0 / (1.0 + np.exp(-(x @ w[:-1] + w[-1])))

    def keep(self, boxes: np.ndarray, probability: np.ndarray) -> np.ndarray:
        height = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
        p = np.clip(probability, 1e-9, 1 - 1e-9)
        return np.log(p / (1 - p)) - self.size_penalty * 2 * np.log(height) >= self.threshold


def features(boxes: np.ndarray, evidence: np.ndarray) -> np.ndarray:
    """Per group: each pass's score, whether each pass found it, log2 height and its square, the best
    score times log2 height (large boxes need surer scores), and how many passes found it."""
    found = evidence > 0
    log_h = np.log2(np.maximum(boxes[:, 3] - boxes[:, 1], 1.0))[:, None]
    best = evidence.max(axis=1, initial=0.0)[:, None]
    columns = [evidence, found, log_h, log_h**2, best * log_h, found.sum(axis=1, keepdims=True)]
    return np.hstack(columns).astype(np.float64)


class Fused:
    """Runs every pass, groups what they found and keeps the groups the calibration says to keep.

    The faces returned carry the calibrated probability as their score.
    """

    def __init__(self, passes: Sequence[Detector], fusion: Fusion, iou: float = 0.3) -> None:
        if not passes:
            raise ValueError("at least one pass is needed")
        self.passes = list(passes)
        self.fusion = fusion
        self.iou = iou

    def __call__(self, image: np.ndarray) -> Faces:
        boxes, evidence = cluster([detect(image) for detect in self.passes], self.iou)
        if not len(boxes):
            return Faces()
        probability = self.fusion.probability(boxes, evidence)
        keep = self.fusion.keep(boxes, probability)
        return Faces(boxes[keep], probability[keep])
