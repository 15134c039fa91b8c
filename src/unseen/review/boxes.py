"""A box the page sends (drawn by a person), made one unseen keeps: four finite numbers, clipped to the picture,
at least MIN_SIDE pixels each way, rounded to a tenth of a pixel."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MIN_SIDE = 2.0  # px: a smaller box is a slip of the mouse, not a region


def clipped_box(box: Sequence[float], width: int, height: int, what: str) -> tuple[float, float, float, float]:
    """`box` inside a `width`×`height` picture; ValueError naming `what` ("a region … inside the photo") if
    too little of it is left."""
    if not all(np.isfinite(box)):
        raise ValueError("a box is four numbers")
    x1, x2 = sorted((min(max(box[0], 0.0), width), min(max(box[2], 0.0), width)))
    y1, y2 = sorted((min(max(box[1], 0.0), height), min(max(box[3], 0.0), height)))
    if x2 - x1 < MIN_SIDE or y2 - y1 < MIN_SIDE:
        raise ValueError(what)
    return (round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1))
