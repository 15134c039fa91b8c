"""Faces found in one image: plain arrays in one small dataclass, so detectors compose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


def turned_size(width: int, height: int, quarter_turns: int) -> tuple[int, int]:
    """The sides of a width × height image turned by `quarter_turns` quarter turns (either way)."""
    return (width, height) if quarter_turns % 2 == 0 else (height, width)


@dataclass(frozen=True)
class Faces:
    """N face boxes (x1, y1, x2, y2 in pixels of the image they were found in) and N scores in 0..1."""

    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    scores: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))

    def __post_init__(self) -> None:
        boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        scores = np.asarray(self.scores, np.float32).reshape(-1)
        if len(boxes) != len(scores):
            raise ValueError(f"{len(boxes)} boxes but {len(scores)} scores")
        object.__setattr__(self, "boxes", boxes)
        object.__setattr__(self, "scores", scores)

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: np.ndarray | slice) -> Faces:
        return Faces(self.boxes[index], self.scores[index])

    @staticmethod
    def concat(parts: list[Faces]) -> Faces:
        if not parts:
            return Faces()
        return Faces(np.concatenate([p.boxes for p in parts]), np.concatenate([p.scores for p in parts]))

    def scaled(self, sx: float, sy: float) -> Faces:
        """The same faces in an image resized by (sx, sy)."""
        return Faces(self.boxes * np.array([sx, sy, sx, sy], np.float32), self.scores)

    def shifted(self, dx: float, dy: float) -> Faces:
        """The same faces in a larger image in which this one's origin is at (dx, dy)."""
        return Faces(self.boxes + np.array([dx, dy, dx, dy], np.float32), self.scores)

    def unturned(self, quarter_turns: int, width: int, height: int) -> Faces:
        """The same faces in a width×height image, for faces found in it turned by np.rot90(image, quarter_turns)
        (counter-clockwise): where each turned box's corners came from."""
        x1, y1, x2, y2 = self.boxes.T
        k = quarter_turns % 4
        if k == 1:  # turned (x, y) is original (width - y, x)
            corners = [width - y2, x1, width - y1, x2]
        elif k == 2:
            corners = [width - x2, height - y2, width - x1, height - y1]
        elif k == 3:  # turned (x, y) is original (y, height - x)
            corners = [y1, height - x2, y2, height - x1]
        else:
            return self
        return Faces(np.stack(corners, axis=1), self.scores)

    def mirrored(self, width: int) -> Faces:
        """The same faces in the mirror image of a `width`-pixel-wide image (and back again)."""
        boxes = self.boxes.copy()
        boxes[:, [0, 2]] = width - self.boxes[:, [2, 0]]
        return Faces(boxes, self.scores)

    def clipped(self, width: int, height: int) -> Faces:
        boxes = np.clip(self.boxes, 0, [width, height, width, height])
        keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        return Faces(boxes[keep], self.scores[keep])

    def to_list(self) -> list[dict[str, object]]:
        """Boxes and scores as JSON-ready dicts (rounded; never pixels)."""
        return [
            {"box": [round(float(v), 1) for v in box], "score": round(float(score), 4)}
            for box, score in zip(self.boxes, self.scores, strict=True)
        ]


# A detector takes an RGB uint8 image (H×W×3) and returns the faces in it.
Detector = Callable[[np.ndarray], Faces]
