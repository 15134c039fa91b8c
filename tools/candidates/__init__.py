"""The candidate second detectors measured beside CenterFace and not shipped (src/unseen/models/MODELS.md says
why): YuNet, the 1 MB RetinaFace family, Ultra-Light. tools/calibrate_fusion.py and tools/box_convention.py run
them as extra passes (`family` picks the class by the model file's name); their model files are not in the
package, so a maintainer puts them in src/unseen/models/ to measure them. Also the voice disguise towards an
average voice (codebook.py, measured by bench/voice.py's `codebook*` methods), with its model file beside it,
and the envelope-structure changes (structure.py: the `band-*`, `bw-*` and `formant-target*` methods).
Run from tools/ (on sys.path when a tool there is run), with unseen installed or src/ on the path."""

from __future__ import annotations

import math

import cv2
import numpy as np

from unseen.detectors.centerface import MAX_RUN_PIXELS, CenterFace


def family(model: str) -> type:
    """The detector class that runs a model file, by the file's name (CenterFace's unless a candidate's)."""
    from candidates.retinaface import RetinaFace
    from candidates.ultralight import UltraLight
    from candidates.yunet import YuNet

    for prefix, kind in (("yunet", YuNet), ("retinaface", RetinaFace), ("ultralight", UltraLight)):
        if model.startswith(prefix):
            return kind
    return CenterFace


def fitted(image: np.ndarray, scale: float, least: int) -> np.ndarray:
    """The image's colour resized by `scale`, shrunk further to MAX_RUN_PIXELS, each side at least `least`: the
    input of a detector run once over the whole image."""
    height, width = image.shape[:2]
    scale = min(scale, math.sqrt(MAX_RUN_PIXELS / (width * height)))
    size = max(least, round(width * scale)), max(least, round(height * scale))
    interpolation = cv2.INTER_AREA if size[0] < width else cv2.INTER_LINEAR
    return cv2.resize(image[..., :3], size, interpolation=interpolation)
