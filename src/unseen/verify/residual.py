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

# The check's scales (a preset may choose its own: detectors/presets.py) and threshold, as measured on the dev
# set: docs/measurements-detection.md, "The residual check".
SCALES = (0.75,)
THRESHOLD = 0.4
COVERED = 0.5  # a found face with at least this share of its box inside the obscured regions is not a residual


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
