"""Protection metrics for face anonymization against WIDER FACE ground truth.

Pure functions over numpy arrays, so they can be reused by tests and other scripts:

* :func:`load_ground_truth` parses the official WIDER txt layout plus the difficulty keep-index file.
* :func:`changed_mask` tells which pixels an anonymizer changed.
* :func:`score_image` says which ground-truth faces are protected and counts collateral pixels.
* :class:`Tally` aggregates image scores into the rows of the benchmark table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LEVELS = ("easy", "medium", "hard")
GT_FILE = Path("wider_face_split/wider_face_val_bbx_gt.txt")
KEEP_FILE = Path("wider_face_split/difficulty_keep_indices.txt")

#: A pixel is changed when any channel moved by more than this.
CHANGE_TOLERANCE = 8
#: A face is protected when at least this share of its box pixels changed.
PROTECTED_FRACTION = 0.7
#: Face height buckets (label, lower bound inclusive, upper bound exclusive), by ground-truth box height.
HEIGHT_BUCKETS: tuple[tuple[str, int, float], ...] = (
    ("<10", 0, 10),
    ("10–16", 10, 16),
    ("16–32", 16, 32),
    ("32–64", 32, 64),
    ("≥64", 64, float("inf")),
)


@dataclass(frozen=True)
class GTImage:
    """Ground truth for one image: valid boxes (N×4 int x, y, w, h) and per-level keep masks (N bools)."""

    name: str
    boxes: np.ndarray
    keep: dict[str, np.ndarray]
    face_heights: np.ndarray | None = None  # the faces' own heights where the image was turned

    @property
    def heights(self) -> np.ndarray:
        return self.boxes[:, 3] if self.face_heights is None else self.face_heights


@dataclass(frozen=True)
class ImageScore:
    """Result for one image: per-box protected flags and collateral pixel counts."""

    protected: np.ndarray
    box_fraction: np.ndarray
    collateral_changed: int
    collateral_total: int


def _is_box_row(line: str) -> bool:
    return all(tok.lstrip("-").isdigit() for tok in line.split())


def _parse_boxes(lines: list[str], pos: int) -> tuple[str, np.ndarray, int]:
    name = lines[pos].strip()
    count = int(lines[pos + 1])
    rows = [[int(v) for v in lines[pos + 2 + i].split()[:4]] for i in range(count)]
    boxes = np.array(rows, dtype=np.int64).reshape(-1, 4)
    end = pos + 2 + count
    # The official file follows a count of 0 with one all-zero row; skip it if present.
    if count == 0 and end < len(lines) and _is_box_row(lines[end]):
        end += 1
    return name, boxes, end


def parse_gt_boxes(text: str) -> dict[str, np.ndarray]:
    """Parse WIDER `*_bbx_gt.txt` text into raw (unfiltered) N×4 box arrays, in file order."""
    lines = [line for line in text.splitlines() if line.strip()]
    result: dict[str, np.ndarray] = {}
    pos = 0
    while pos < len(lines):
        name, boxes, pos = _parse_boxes(lines, pos)
        result[name] = boxes
    return result


def parse_keep_indices(text: str) -> dict[str, dict[str, list[int]]]:
    """Parse `difficulty_keep_indices.txt` into {image: {level: 1-based box indices}}."""
    result: dict[str, dict[str, list[int]]] = {}
    current: dict[str, list[int]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, sep, rest = line.partition(":")
        if sep and key in LEVELS:
            current[key] = [int(v) for v in rest.split()]
        else:
            current = result.setdefault(line, {})
    return result


def _make_gt_image(name: str, raw: np.ndarray, keep_idx: dict[str, list[int]]) -> GTImage:
    valid = (raw[:, 2] > 0) & (raw[:, 3] > 0)
    keep = {}
    for level in LEVELS:
        mask = np.zeros(len(raw), dtype=bool)
        idx = np.array(keep_idx.get(level, []), dtype=np.int64) - 1
        mask[idx[(idx >= 0) & (idx < len(raw))]] = True
        keep[level] = mask[valid]
    return GTImage(name=name, boxes=raw[valid], keep=keep)


def load_ground_truth(data_dir: Path) -> dict[str, GTImage]:
    """Load ground truth for every image (keyed by `<event>/<name>.jpg`, in file order)."""
    raw = parse_gt_boxes((data_dir / GT_FILE).read_text())
    keep = parse_keep_indices((data_dir / KEEP_FILE).read_text())
    missing = set(raw) - set(keep)
    if missing:
        raise ValueError(f"{len(missing)} images have no difficulty keep indices, e.g. {min(missing)}")
    return {name: _make_gt_image(name, boxes, keep[name]) for name, boxes in raw.items()}


def changed_mask(original: np.ndarray, output: np.ndarray, tolerance: int = CHANGE_TOLERANCE) -> np.ndarray:
    """H×W bool mask of pixels where any channel moved by more than `tolerance`."""
    if original.shape != output.shape:
        raise ValueError(f"shape mismatch: original {original.shape} vs output {output.shape}")
    a = original.astype(np.int16)
    diff = np.abs(a - output.astype(np.int16))
    return diff.max(axis=2) > tolerance if diff.ndim == 3 else diff > tolerance


def clip_boxes(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """Convert x, y, w, h boxes to clipped half-open x0, y0, x1, y1 pixel ranges."""
    x0 = np.clip(boxes[:, 0], 0, width)
    y0 = np.clip(boxes[:, 1], 0, height)
    x1 = np.clip(boxes[:, 0] + boxes[:, 2], 0, width)
    y1 = np.clip(boxes[:, 1] + boxes[:, 3], 0, height)
    return np.stack([x0, y0, x1, y1], axis=1)


def box_change_fraction(changed: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Share of changed pixels inside each box (clipped to the image), using a summed-area table."""
    h, w = changed.shape
    sat = np.zeros((h + 1, w + 1), dtype=np.int64)
    sat[1:, 1:] = changed.cumsum(axis=0, dtype=np.int64).cumsum(axis=1)
    x0, y0, x1, y1 = clip_boxes(boxes, h, w).T
    inside = sat[y1, x1] - sat[y0, x1] - sat[y1, x0] + sat[y0, x0]
    area = (x1 - x0) * (y1 - y0)
    return np.where(area > 0, inside / np.maximum(area, 1), 0.0)


def grown_box_mask(boxes: np.ndarray, height: int, width: int) -> np.ndarray:
    """H×W bool mask of the union of boxes each grown by its own size max(w, h) on every side."""
    s = np.maximum(boxes[:, 2], boxes[:, 3])
    grown = np.stack([boxes[:, 0] - s, boxes[:, 1] - s, boxes[:, 2] + 2 * s, boxes[:, 3] + 2 * s], axis=1)
    mask = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in clip_boxes(grown, height, width):
        mask[y0:y1, x0:x1] = True
    return mask


def score_image(changed: np.ndarray, gt: GTImage, min_fraction: float = PROTECTED_FRACTION) -> ImageScore:
    """Score one image's changed mask against its ground truth."""
    fraction = box_change_fraction(changed, gt.boxes)
    near = grown_box_mask(gt.boxes, *changed.shape)
    far = ~near
    return ImageScore(
        protected=fraction >= min_fraction,
        box_fraction=fraction,
        collateral_changed=int(np.count_nonzero(changed & far)),
        collateral_total=int(np.count_nonzero(far)),
    )


@dataclass(frozen=True)
class Row:
    """One recall row of the table: `hits` protected faces out of `total`."""

    label: str
    hits: int
    total: int

    @property
    def recall(self) -> float:
        return self.hits / self.total if self.total else float("nan")


@dataclass
class Tally:
    """Accumulates per-image scores into recall rows and collateral."""

    protected: list[np.ndarray] = field(default_factory=list)
    heights: list[np.ndarray] = field(default_factory=list)
    keep: dict[str, list[np.ndarray]] = field(default_factory=lambda: {lv: [] for lv in LEVELS})
    collateral_changed: int = 0
    collateral_total: int = 0
    images: int = 0

    def add(self, gt: GTImage, score: ImageScore) -> None:
        self.protected.append(score.protected)
        self.heights.append(gt.heights)
        for level in LEVELS:
            self.keep[level].append(gt.keep[level])
        self.collateral_changed += score.collateral_changed
        self.collateral_total += score.collateral_total
        self.images += 1

    @property
    def collateral(self) -> float:
        return self.collateral_changed / self.collateral_total if self.collateral_total else float("nan")

    def rows(self) -> Iterator[Row]:
        """Recall rows: all, easy, medium, hard, then one per height bucket."""
        protected = _concat(self.protected, bool)
        heights = _concat(self.heights, np.int64)
        yield _row("all", protected, np.ones_like(protected))
        for level in LEVELS:
            yield _row(level, protected, _concat(self.keep[level], bool))
        for label, lo, hi in HEIGHT_BUCKETS:
            yield _row(label, protected, (heights >= lo) & (heights < hi))


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _row(label: str, protected: np.ndarray, select: np.ndarray) -> Row:
    return Row(label, int(np.count_nonzero(protected & select)), int(np.count_nonzero(select)))
