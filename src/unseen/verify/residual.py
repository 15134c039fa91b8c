"""The residual check: an independent detector looks at the written output for faces left visible.

It is not the detector that chose the regions: CenterFace at scales the presets do not run, mirrored, with
a plain raw-score threshold instead of the presets' calibrated fusion, so a face the fusion talked itself out
of, or one a pass missed at its scale, gets a second chance. A face it finds is a residual unless the obscured
regions cover most of its box.
"""

from __future__ import annotations

import numpy as np

from unseen.detectors.centerface import CenterFace
from unseen.detectors.compose import Merged
from unseen.faces import Detector, Faces
from unseen.obscure import DEFAULT_GROW, region_mask

# Chosen on the dev set (README, "Verification"): one mirrored pass at 0.75 adds about 26% to the balanced
# preset's read, detect, obscure and write. At 0.4 it flagged 4 of 244 default outputs, 2 of them for faces
# the preset had missed; at 0.3 it flagged 20 (21 of 24 residuals on no face); at 0.5 none. Scale 1.0
# mirrored cost 25% and found fewer missed faces; a second pass doubled the cost and the false alarms, not
# the finds.
SCALES = (0.75,)
# --quality fast runs the int8 model at 0.75 and 0.375, and the 0.75 check cost as much as that detection.
# Its check is the fp32 model at 0.5, mirrored: about half the cost, and on 82 dev images it still found
# 204 of the 224 faces of 32 px or more left unobscured (0.75: 211), with 1 residual on fast's outputs (0.75: 0).
FAST_SCALES = (0.5,)
THRESHOLD = 0.4
COVERED = 0.5  # a found face with at least this share of its box inside the obscured regions is not a residual


def scales_for(quality: str) -> tuple[float, ...]:
    """The check's scales for a --quality preset."""
    return FAST_SCALES if quality == "fast" else SCALES


def residual_detector(scales: tuple[float, ...] = SCALES, threshold: float = THRESHOLD) -> Detector:
    """The check's own detector: each scale run on the mirror image, which no preset pass does at that scale.

    CenterFace mirrors its resized input: mirroring the output first (compose.Flipped) made a full-size copy,
    3 bytes a pixel at the peak of a photo's run."""
    passes: list[Detector] = [CenterFace(threshold=threshold, scale=s, mirror=True) for s in scales]
    return passes[0] if len(passes) == 1 else Merged(passes)


def residuals(output: np.ndarray, obscured: Faces, detector: Detector, grow: float = DEFAULT_GROW) -> Faces:
    """The faces `detector` finds in `output` (as written and read back) that the obscured regions leave visible.

    `obscured` are the faces that were obscured, and `grow` the region size they were obscured with.
    """
    found = detector(np.ascontiguousarray(output[..., :3]))
    if not len(found):
        return found
    height, width = output.shape[:2]
    return uncovered(found, region_mask(obscured, width, height, grow))


def uncovered(found: Faces, mask: np.ndarray) -> Faces:
    """The found faces that the obscured regions (`mask`, in the same pixels as the boxes) do not cover."""
    return found[np.array([covered_share(mask, box) < COVERED for box in found.boxes], dtype=bool)]


def covered_share(mask: np.ndarray, box: np.ndarray) -> float:
    """The share of the box's pixels inside the mask (a box of no pixels counts as covered)."""
    x1, y1 = int(np.floor(box[0])), int(np.floor(box[1]))
    x2, y2 = int(np.ceil(box[2])), int(np.ceil(box[3]))
    inside = mask[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)]
    return float(inside.mean()) if inside.size else 1.0
