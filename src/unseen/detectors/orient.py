"""Finding which way up an image is before looking for faces in it.

CenterFace finds upright faces. A photo that lies on its side (a camera held sideways whose orientation tag
was lost or never written, a frame grabbed from a portrait video, a scan) hides most of its faces from it:
on the dev images turned 90°, the balanced preset protected about half of the faces. A cheap probe looks at
the image upright and turned both ways; when it is surer of faces turned, the image is searched turned too.
Videos are probed every so many frames and searched turned once the frames seen so far say so.
"""

from __future__ import annotations

import numpy as np

from unseen.detectors.centerface import INT8_MODEL_NAME, CenterFace
from unseen.detectors.compose import Turned
from unseen.detectors.merge import nms
from unseen.faces import Detector, Faces

SURE = 0.5  # a raw probe score this high is a face whose way up the probe can tell
PROBE_MODEL = INT8_MODEL_NAME
PROBE_LONG_SIDE = 512
TURNS = (1, 3)  # the quarter turns (counter-clockwise) the probe looks at besides the image as it is


class Upright:
    """Runs `detector` on the image as it is and, where `probe` finds more sure faces in the image turned a
    quarter one way than as it is, on the image turned that way too. Both results are kept: a wrong guess
    costs a second detection, never a face found upright."""

    def __init__(self, detector: Detector, probe: Detector) -> None:
        self.detector = detector
        self.probe = probe

    def __call__(self, image: np.ndarray) -> Faces:
        return also_turned(self.detector, image, self.detector(image), self.quarter_turns(image))

    def quarter_turns(self, image: np.ndarray) -> int:
        """0 when the image looks upright; else the quarter turns (counter-clockwise) that set it upright."""
        return best_turn(sure_faces(self.probe, image))


class Orientation:
    """Which way up a video's frames are, from the probe's sure faces summed over the frames it has seen: a
    video whose rotation tag was lost shows every frame on its side, and one frame may hold no face."""

    def __init__(self, probe: Detector) -> None:
        self.probe = probe
        self.counts = dict.fromkeys((0, *TURNS), 0)

    def observe(self, image: np.ndarray) -> None:
        for turns, count in sure_faces(self.probe, image).items():
            self.counts[turns] += count

    @property
    def quarter_turns(self) -> int:
        return best_turn(self.counts)


def also_turned(detector: Detector, image: np.ndarray, found: Faces, quarter_turns: int) -> Faces:
    """`found` (the faces upright) and, when `quarter_turns` is not 0, those `detector` finds in the image
    turned that way, merged."""
    if not quarter_turns:
        return found
    return nms(Faces.concat([found, Turned(detector, quarter_turns)(image)]))


def sure_faces(probe: Detector, image: np.ndarray) -> dict[int, int]:
    """How many sure faces the probe finds in the image as it is (0) and turned a quarter each way (1, 3)."""
    # One turned copy at a time (3 bytes a pixel), freed once looked at: holding both at once cost 1.5 GB at 250
    # megapixels. Shrinking before turning would cost none, but it changes the shrunk pixels by a level here and
    # there (the resize does not commute with a turn to the bit), and so 3 of 732 of the probe's decisions on the
    # dev images turned three ways.
    return {
        k: int((probe(np.ascontiguousarray(np.rot90(image, k)) if k else image).scores >= SURE).sum())
        for k in (0, *TURNS)
    }


def best_turn(counts: dict[int, int]) -> int:
    """The quarter turns with the most sure faces, when that is more than upright; else 0."""
    turn = max(TURNS, key=lambda k: counts[k])
    return turn if counts[turn] > counts[0] else 0


class Probe:
    """CenterFace (the int8 model) on the image shrunk to `long_side` pixels at most: faces of about 30 px
    and more in a 1024-px photo, at a small fraction of a detection's cost."""

    def __init__(self, long_side: int = PROBE_LONG_SIDE) -> None:
        self.long_side = long_side

    def __call__(self, image: np.ndarray) -> Faces:
        scale = min(1.0, self.long_side / max(image.shape[:2]))
        return CenterFace(threshold=SURE, scale=scale, model=PROBE_MODEL)(image)
