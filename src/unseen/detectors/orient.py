"""Finding which way up an image is before looking for faces in it.

CenterFace finds upright faces. A photo that lies on its side (a camera held sideways whose orientation tag
was lost or never written, a frame grabbed from a portrait video, a scan) hides most of its faces from it:
on the dev images turned 90°, the balanced preset protected about half of the faces. A cheap probe looks at
the image upright and turned both ways; when it is surer of faces turned, the image is searched turned too.
"""

from __future__ import annotations

import numpy as np

from unseen.detectors.centerface import INT8_MODEL_NAME, CenterFace
from unseen.detectors.compose import Turned
from unseen.detectors.merge import nms
from unseen.faces import Detector, Faces

SURE = 0.5  # a raw probe score this high is a face whose way up the probe can tell
PROBE_MODEL = INT8_MODEL_NAME


class Upright:
    """Runs `detector` on the image as it is and, where `probe` finds more sure faces in the image turned a
    quarter one way than as it is, on the image turned that way too. Both results are kept: a wrong guess
    costs a second detection, never a face found upright."""

    def __init__(self, detector: Detector, probe: Detector) -> None:
        self.detector = detector
        self.probe = probe

    def __call__(self, image: np.ndarray) -> Faces:
        found = self.detector(image)
        quarter_turns = self.quarter_turns(image)
        if not quarter_turns:
            return found
        return nms(Faces.concat([found, Turned(self.detector, quarter_turns)(image)]))

    def quarter_turns(self, image: np.ndarray) -> int:
        """0 when the image looks upright; else the quarter turns (counter-clockwise) that set it upright."""
        sure = {k: self._sure(np.ascontiguousarray(np.rot90(image, k))) for k in (1, 3)}
        turn = max(sure, key=lambda k: sure[k])
        return turn if sure[turn] and sure[turn] > self._sure(image) else 0

    def _sure(self, image: np.ndarray) -> int:
        return int((self.probe(image).scores >= SURE).sum())


class Probe:
    """CenterFace (the int8 model) on the image shrunk to `long_side` pixels at most: faces of about 30 px
    and more in a 1024-px photo, at a small fraction of a detection's cost."""

    def __init__(self, long_side: int = 512) -> None:
        self.long_side = long_side

    def __call__(self, image: np.ndarray) -> Faces:
        scale = min(1.0, self.long_side / max(image.shape[:2]))
        return CenterFace(threshold=SURE, scale=scale, model=PROBE_MODEL)(image)
