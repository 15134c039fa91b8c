"""The re-identification check: would a face recogniser still match an obscured face to the original?

For each obscured face at least MIN_HEIGHT px tall, dlib's 5-point landmarks are found on the original, and
dlib's ResNet embedding (both models CC0, see models/MODELS.md) is computed from the original and from the
output through those same landmarks, so both crops cover the same region. A distance under SAME_PERSON,
dlib's own same-person threshold, means the recogniser takes the two for one person.

That alone is not a failure: measured on the dev set, a face filled solid black was within 0.6 of its
original for 47 of 189 faces of 48 px or more (every third image), each as close as a featureless crop is
(±0.012), because dlib maps featureless crops near many plain, dark or low-quality faces. Such an output
carries nothing of the face. So the output's crop is also compared with a featureless one (the same crop
filled with its own mean colour): a face fails only when its output is under SAME_PERSON *and* closer to the
original than that featureless crop by more than MARGIN. Then a solid fill failed 0 of those 189 faces and a
15-px Gaussian blur 182; on all 506 such faces, 3 and 473 (README, "Verification").
dlib is an optional extra (`pip install 'unseen[verify]'`).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from unseen.errors import UsageError
from unseen.faces import Faces
from unseen.verify.reid_models import EMBEDDING_MODEL, SHAPE_MODEL, unpacked

MIN_HEIGHT = 48  # dlib's embedding needs this much face; below it, distances say little
SAME_PERSON = 0.6  # dlib's threshold: closer embeddings are taken for the same person
MARGIN = 0.05  # over 4× the JPEG noise seen between a solid fill and a featureless crop (0.012)
CHIP = 150  # the crop dlib's embedding takes (its own default size and padding)
PADDING = 0.25
_DLIB_LOCK = threading.Lock()
MISSING_EXTRA = "the re-identification check needs the verify extra: pip install 'unseen[verify]'"


class ReidUnavailable(UsageError):
    """dlib is not installed; the message says how to get it, in one line."""


@dataclass(frozen=True)
class ReidResult:
    """One obscured face: its box, the embedding distance from the original to the output and to a
    featureless crop, and the verdict."""

    box: tuple[float, float, float, float]
    distance: float
    featureless: float

    @property
    def passed(self) -> bool:
        return self.distance >= SAME_PERSON or self.distance >= self.featureless - MARGIN

    def to_dict(self) -> dict[str, object]:
        return {
            "box": [round(v, 1) for v in self.box],
            "distance": round(self.distance, 4),
            "featureless_distance": round(self.featureless, 4),
            "passed": self.passed,
        }


def _dlib() -> ModuleType:
    try:
        return importlib.import_module("dlib")
    except ImportError:
        raise ReidUnavailable(MISSING_EXTRA) from None


@cache
def _models() -> tuple[Any, Any]:
    """The landmark and embedding models, loaded once per process."""
    dlib = _dlib()
    with unpacked(SHAPE_MODEL) as shape_path, unpacked(EMBEDDING_MODEL) as embedding_path:
        return dlib.shape_predictor(str(shape_path)), dlib.face_recognition_model_v1(str(embedding_path))


def ensure_available() -> None:
    """Raises ReidUnavailable (or ModelError) now, before any file is processed, if the check cannot run."""
    _models()


def reidentify(original: np.ndarray, output: np.ndarray, faces: Faces) -> list[ReidResult]:
    """The re-identification distance of every obscured face at least MIN_HEIGHT px tall.

    `original` and `output` are the same size, RGB(A) uint8; `faces` are the faces that were obscured.
    """
    before, after = _rgb(original), _rgb(output)
    with _DLIB_LOCK:  # dlib's network keeps state between layers while it runs: one photo at a time
        return _distances(before, after, faces)


def _distances(before: np.ndarray, after: np.ndarray, faces: Faces) -> list[ReidResult]:
    dlib = _dlib()
    predictor, embedder = _models()
    results = []
    for box in faces.boxes:
        x1, y1, x2, y2 = (float(v) for v in box)
        if y2 - y1 < MIN_HEIGHT:
            continue
        # Landmarks from the original only: on the output there may be nothing left to find them on.
        shape = predictor(before, dlib.rectangle(round(x1), round(y1), round(x2), round(y2)))
        chip, out = (dlib.get_face_chip(image, shape, size=CHIP, padding=PADDING) for image in (before, after))
        a, b, c = (np.asarray(embedder.compute_face_descriptor(x)) for x in (chip, out, _featureless(out)))
        results.append(ReidResult((x1, y1, x2, y2), float(np.linalg.norm(a - b)), float(np.linalg.norm(a - c))))
    return results


def _featureless(chip: np.ndarray) -> np.ndarray:
    """The crop filled with its own mean colour: what an output that kept nothing of the face is compared with."""
    return np.broadcast_to(np.rint(chip.reshape(-1, 3).mean(axis=0)).astype(np.uint8), chip.shape).copy()


def _rgb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[..., :3], dtype=np.uint8)
