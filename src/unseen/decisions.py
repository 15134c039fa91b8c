"""Running with a regions file (regions.py): detect only and record the decisions, or write what was decided.

Both go through the shared per-file runner (runner.py), so every failure is the same one line as in a plain
run; writing from decisions is the photo pipeline itself (photo.py) with the decided regions in place of the
detector, or the video pipeline (video.py) with each frame's decided boxes (video_decisions.py) in place of
detection and tracking.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path

import numpy as np

from unseen import regions, stop, video_decisions
from unseen.config import PhotoOptions as Options
from unseen.digest import file_sha256
from unseen.errors import FileError
from unseen.faces import Detector, Faces, turned_size
from unseen.media.image import read_image
from unseen.names import display
from unseen.paths import Job
from unseen.photo import process
from unseen.report import FileReport
from unseen.runner import Done, run_file
from unseen.verify.photo_check import Verifier
from unseen.video import VideoOptions, process_video, search_video


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


def detect_only(job: Job, detector: Detector, options: Options, name: str, found: list[regions.AnyEntry]) -> FileReport:
    """Detect the faces of one photo and add its entry to `found`; nothing is written."""

    def work(_record: object) -> Done:
        entry, _pixels = detect_entry(job, detector, options, name)
        found.append(entry)
        return Done(None, entry.width, entry.height, entry.kept(options.grow).to_list())

    return run_file(job, work)


def detect_entry(job: Job, detector: Detector, options: Options, name: str) -> tuple[regions.Entry, np.ndarray]:
    """One photo's decisions as the detector makes them, with its pixels as shown (the review page keeps them)."""
    decoded = read_image(job.source, options.max_pixels)
    if decoded.frames:
        raise FileError("animated and multi-page photos are not in regions files yet: run it without")
    stop.check()
    faces = detector(np.ascontiguousarray(decoded.pixels[..., :3]))
    height, width = decoded.pixels.shape[:2]
    return regions.detected(name, file_sha256(job.source), width, height, faces), decoded.pixels


def apply(job: Job, entry: regions.Entry, options: Options, verifier: Verifier | None) -> FileReport:
    """Write one photo with exactly the regions decided for it obscured: no detection. The residual check and
    --strict work as in a plain run (a face the decisions left visible is a residual)."""
    report = process(job, _decided(job.source, entry, options.grow), options, verifier)
    if report.status == "done":
        report.faces = [r.to_dict() for r in entry.regions]  # with their origin, and what a person removed
    return report


def _decided(source: Path, entry: regions.Entry, grow: float) -> Detector:
    """A detector that answers with the decisions, once it is sure the photo is the one they were made on (same
    bytes, same size): a changed photo fails in its one line, never obscured with stale regions."""
    kept = entry.kept(grow)

    def detect(image: np.ndarray) -> Faces:
        regions.check_unchanged(entry, source)
        if image.shape[:2] != (entry.height, entry.width):
            raise FileError(f"is {image.shape[1]}×{image.shape[0]}, not the {entry.width}×{entry.height} decided on")
        return kept

    return detect


def detect_only_video(
    job: Job,
    detector: Detector,
    options: Options,
    video: VideoOptions,
    name: str,
    found: list[regions.AnyEntry],
    tracks: TrackGatherer | None = None,
) -> FileReport:
    """Decode, detect and track one video as a plain run does, and add its entry (the boxes each track covers
    in each frame) to `found`; nothing is written. `tracks`, when given, gathers them (the review page reads
    the tracks found so far from it while the search goes on)."""

    def work(_record: object) -> Done:
        nonlocal tracks
        tracks = tracks or TrackGatherer()
        searched = search_video(job, detector, options, video, tracks.add)
        width, height = turned_size(searched.width, searched.height, tracks.turns)
        built = tracks.built(width, height)
        fps = round(searched.fps, 3)
        found.append(regions.VideoEntry(name, file_sha256(job.source), width, height, searched.frames, fps, built))
        return Done(None, width, height, searched.tracks)

    return run_file(job, work)


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


def apply_video(
    job: Job, entry: regions.VideoEntry, options: Options, video: VideoOptions, verifier: Verifier | None
) -> FileReport:
    """Write one video with exactly what was decided covered in each frame: no detection, no tracking. Frames,
    timestamps, rotation, audio, the residual check and --strict are as in a plain run."""
    plan = video_decisions.Plan(job.source, entry, options.grow)
    report = process_video(job, None, options, video, verifier, decided=plan)
    if report.status == "done":
        report.faces = video_decisions.summaries(entry)  # with person tracks, and what a person removed or trimmed
    return report
