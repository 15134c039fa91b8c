"""What running with a regions file (regions.py) is made of: a file's name in it, a photo's entry as the
detector makes it, a detector that answers with a photo's decisions, and the tracks a video's search gathers.

Each kind of media puts these to work behind its one interface (kinds.py: `search` detects only and records
the decisions, `apply` writes what was decided), through the shared per-file runner (runner.py), so every
failure is the same one line as in a plain run.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path

import numpy as np

from unseen import regions, stop
from unseen.config import PhotoOptions as Options
from unseen.digest import file_sha256
from unseen.errors import FileError
from unseen.faces import Detector, Faces
from unseen.media.image import read_image
from unseen.names import display
from unseen.paths import Job


def name_of(source: Path, inputs: list[Path]) -> str:
    """How a file is named in a regions file (and a report): from the folder or file given, not from the file
    system's root, so that the file stays valid when the folder moves and names no folder above it."""
    for given in inputs:
        if given.is_dir() and source.is_relative_to(given):
            root = given.name or given.resolve().name
            return display((Path(root) / source.relative_to(given)).as_posix())  # `/` on every system
        if source == given:
            return display(given.name)
    return display(source.name)


def detect_entry(job: Job, detector: Detector, options: Options, name: str) -> tuple[regions.Entry, np.ndarray]:
    """One photo's decisions as the detector makes them, with its pixels as shown (the review page keeps them)."""
    decoded = read_image(job.source, options.max_pixels)
    if decoded.frames:
        raise FileError("animated and multi-page photos are not in regions files yet: run it without")
    stop.check()
    faces = detector(np.ascontiguousarray(decoded.pixels[..., :3]))
    height, width = decoded.pixels.shape[:2]
    return regions.detected(name, file_sha256(job.source), width, height, faces), decoded.pixels


def decided(source: Path, entry: regions.Entry, grow: float) -> Detector:
    """A detector that answers with the decisions, once it is sure the photo is the one they were made on (same
    bytes, same size): a changed photo fails in its one line, never obscured with stale regions."""
    kept = entry.kept(grow)

    def detect(image: np.ndarray) -> Faces:
        regions.check_unchanged(entry, source)
        if image.shape[:2] != (entry.height, entry.width):
            raise FileError(f"is {image.shape[1]}×{image.shape[0]}, not the {entry.width}×{entry.height} decided on")
        return kept

    return detect


class TrackGatherer:
    """The boxes a run covers in each frame, gathered per track (a sink for video.search_video); `built` may be
    called from another thread while the search goes on."""

    def __init__(self) -> None:
        self.turns = 0  # quarter turns that show the frames upright
        self.frames: dict[int, list[int]] = defaultdict(list)
        self.faces: dict[int, list[Faces]] = defaultdict(list)
        self.released = 0  # frames released so far
        self._lock = threading.Lock()

    def add(self, index: int, faces: Faces, ids: np.ndarray, turns: int) -> None:
        with self._lock:
            self.turns = turns
            self.released = max(self.released, index + 1)
            for ident in np.unique(ids).tolist():
                mine = faces[ids == ident]
                self.frames[ident].extend([index] * len(mine))
                self.faces[ident].append(mine)

    def built(self, width: int, height: int) -> list[regions.VideoTrack]:
        """The tracks in the pixels of the frames as shown (`width`×`height`), by id; boxes so far off the frame
        that no mask reaches it (regions.REACH) are left out: they cover nothing."""
        with self._lock:
            return self._built(width, height)

    def _built(self, width: int, height: int) -> list[regions.VideoTrack]:
        tracks: list[regions.VideoTrack] = []
        for ident in sorted(self.frames):
            faces = Faces.concat(self.faces[ident]).unturned(-self.turns % 4, width, height)
            frames = np.array(self.frames[ident], np.int64)
            near = _near(faces.boxes, width, height)
            if near.any():
                tracks.append(regions.DetectorTrack(ident, frames[near], faces.boxes[near], faces.scores[near]))
        return tracks


def _near(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Which boxes lie on the frame or within regions.REACH of their own sizes of it (as a regions file's may)."""
    boxes = boxes.astype(np.float64)  # as the regions file's check computes it
    reach = np.max(boxes[:, 2:] - boxes[:, :2], axis=1, initial=0.0) * regions.REACH + 4.0
    return (
        (boxes[:, 2] > -reach) & (boxes[:, 3] > -reach) & (boxes[:, 0] < width + reach) & (boxes[:, 1] < height + reach)
    )
