"""Making face regions unrecognisable: the region geometry and the fill methods."""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np

from unseen.faces import Faces

DEFAULT_GROW = 1.6  # the mask is 1.6× as wide as the face box (0.3 of its width more on each side): hair, ears
# The mask is an ellipse about each face box. Measured on the dev set against the annotated head boxes:
TALLER = 1.1  # heads reach further past a detector's box vertically (hair, chin) than sideways,
RAISE = 1 / 6  # and further up than down: the centre moves up by this share of the extra height.
CONFIDENT = 0.5  # a face scored this high is almost surely one: its mask is CONFIDENT_GROW× larger, to cover
CONFIDENT_GROW = 1.25  # turned heads and loose boxes; false alarms are rare that high, so this costs little collateral


class Method(str, Enum):
    SOLID = "solid"
    NOISE = "noise"
    PIXELATE = "pixelate"
    BLUR = "blur"

    @property
    def destructive(self) -> bool:
        """Whether nothing of the original pixels survives in the region."""
        return self in (Method.SOLID, Method.NOISE)


WEAK_METHOD_WARNING = (
    "warning: {method} keeps some of each face; face recognisers can still match lightly blurred or "
    "pixelated faces. Use --method solid or noise for footage that puts people at risk."
)


def ellipses(faces: Faces, grow: float = DEFAULT_GROW) -> tuple[np.ndarray, np.ndarray]:
    """Each face's mask as an ellipse: centres (N×2, x y) and half-axes (N×2), in pixels."""
    boxes = faces.boxes.astype(np.float64)
    size = boxes[:, 2:] - boxes[:, :2]
    factor = grow * np.where(faces.scores >= CONFIDENT, CONFIDENT_GROW, 1.0)
    axes = size * factor[:, None] * np.array([1.0, TALLER]) / 2
    centres = (boxes[:, :2] + boxes[:, 2:]) / 2
    centres[:, 1] -= RAISE * np.maximum(axes[:, 1] - size[:, 1] / 2, 0)
    return centres, axes


def covered_rects(faces: Faces, grow: float = DEFAULT_GROW) -> np.ndarray:
    """Each face's mask's bounding rectangle (x1, y1, x2, y2, not clipped): what a review page shows and edits
    as the area a detection covers."""
    centres, axes = ellipses(faces, grow)
    return np.concatenate([centres - axes, centres + axes], axis=1).reshape(-1, 4)


def face_boxes_covering(rects: np.ndarray, scores: np.ndarray, grow: float = DEFAULT_GROW) -> np.ndarray:
    """The face boxes whose masks (`ellipses`) each cover a whole rectangle (x1, y1, x2, y2): what a person
    draws is what must be covered, corners included. The ellipse through the rectangle's corners with its
    aspect (half-axes √2 × the half-sides), plus a pixel for the polygon cv2 draws it with; its area is about
    1.6× the rectangle's, the price of an ellipse's shape, shown in the preview."""
    rects = np.asarray(rects, np.float64).reshape(-1, 4)
    # Every pixel the box touches, even by a sliver: the box grown to whole pixels first.
    rects = np.concatenate([np.floor(rects[:, :2]), np.ceil(rects[:, 2:])], axis=1)
    factor = grow * np.where(np.asarray(scores) >= CONFIDENT, CONFIDENT_GROW, 1.0)
    axes = (rects[:, 2:] - rects[:, :2]) / 2 * np.sqrt(2) + 1.0
    size = 2 * axes / (factor[:, None] * np.array([1.0, TALLER]))
    centres = (rects[:, :2] + rects[:, 2:]) / 2
    centres[:, 1] += RAISE * np.maximum(axes[:, 1] - size[:, 1] / 2, 0)  # undo the mask's raise
    return np.concatenate([centres - size / 2, centres + size / 2], axis=1)


def _drawn(faces: Faces, grow: float) -> tuple[np.ndarray, np.ndarray]:
    """The ellipses as drawn: integer centres and integer half-axes (+0.5 px, so that even a 1-pixel face
    gets a non-empty mask)."""
    centres, axes = ellipses(faces, grow)
    return np.round(centres).astype(np.int64), np.ceil(axes + 0.5).astype(np.int64)


def head_boxes(faces: Faces, width: int, height: int, grow: float = DEFAULT_GROW) -> np.ndarray:
    """The bounding box of each face's mask (x1, y1, x2, y2, x2 and y2 exclusive), clipped to the image."""
    centres, axes = _drawn(faces, grow)
    boxes = np.concatenate([centres - axes, centres + axes + 1], axis=1)
    return np.clip(boxes, 0, [width, height, width, height]).reshape(-1, 4)


def region_mask(faces: Faces, width: int, height: int, grow: float = DEFAULT_GROW) -> np.ndarray:
    """A boolean mask with each face's ellipse filled."""
    mask = np.zeros((height, width), np.uint8)
    for (cx, cy), (ax, ay) in zip(*_drawn(faces, grow), strict=True):
        cv2.ellipse(mask, (int(cx), int(cy)), (int(ax), int(ay)), 0, 0, 360, 255, thickness=-1)
    return mask.astype(bool)


def obscure(
    image: np.ndarray,
    faces: Faces,
    method: Method = Method.SOLID,
    strength: float = 1.0,
    grow: float = DEFAULT_GROW,
    seed: int | None = None,
) -> np.ndarray:
    """A copy of `image` (H×W×C uint8) with every face region replaced by `method`.

    `strength` in (0, 1] sets how coarse pixelate and blur are; solid and noise keep nothing at any strength.
    """
    if not 0.0 < strength <= 1.0:
        raise ValueError(f"strength must be in (0, 1], not {strength}")
    out = image.copy()
    if len(faces) == 0:
        return out
    height, width = image.shape[:2]
    mask = region_mask(faces, width, height, grow)
    colour = out[..., :3]  # alpha, where there is one, stays as it was
    if method is Method.SOLID:
        colour[mask] = 0
    elif method is Method.NOISE:
        rng = np.random.default_rng(seed)
        colour[mask] = rng.integers(0, 256, size=(int(mask.sum()), colour.shape[2]), dtype=np.uint8)
    else:
        for x1, y1, x2, y2 in head_boxes(faces, width, height, grow):
            if x2 > x1 and y2 > y1:
                patch = colour[y1:y2, x1:x2]
                filtered = _pixelate(patch, strength) if method is Method.PIXELATE else _blur(patch, strength)
                filtered = filtered.reshape(patch.shape)  # OpenCV drops a single channel's axis
                inside = mask[y1:y2, x1:x2]
                patch[inside] = filtered[inside]
    return out


def _pixelate(patch: np.ndarray, strength: float) -> np.ndarray:
    # strength 1 leaves 4 blocks across the region, strength 0.1 about 20.
    blocks = max(2, round(4 / strength**0.7))
    h, w = patch.shape[:2]
    small = cv2.resize(patch, (min(w, blocks), min(h, blocks)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)


def _blur(patch: np.ndarray, strength: float) -> np.ndarray:
    # The kernel is relative to the region so that a large face is blurred as much as a small one.
    sigma = max(1.0, strength * max(patch.shape[:2]) / 4)
    return cv2.GaussianBlur(patch, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)
