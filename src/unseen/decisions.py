"""Running with a regions file (regions.py): detect only and record the decisions, or write what was decided.

Both go through the shared per-file runner (runner.py), so every failure is the same one line as in a plain
run; writing from decisions is the photo pipeline itself (photo.py) with the decided regions in place of the
detector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unseen import regions, stop
from unseen.digest import file_sha256
from unseen.errors import FileError
from unseen.faces import Detector, Faces
from unseen.media.image import read_image
from unseen.names import display
from unseen.paths import Job
from unseen.photo import Options, process
from unseen.report import FileReport
from unseen.runner import Done, run_file
from unseen.verify.photo_check import Verifier


def name_of(source: Path, inputs: list[Path]) -> str:
    """How a file is named in a regions file (and a report): from the folder or file given, not from the file
    system's root, so that the file stays valid when the folder moves and names no folder above it."""
    for given in inputs:
        if given.is_dir() and source.is_relative_to(given):
            root = given.name or given.resolve().name
            return display(Path(root) / source.relative_to(given))
        if source == given:
            return display(given.name)
    return display(source.name)


def detect_only(job: Job, detector: Detector, options: Options, name: str, found: list[regions.Entry]) -> FileReport:
    """Detect the faces of one photo and add its entry to `found`; nothing is written."""

    def work(_record: object) -> Done:
        decoded = read_image(job.source, options.max_pixels)
        if decoded.frames:
            raise FileError("animated and multi-page photos are not in regions files yet: run it without")
        stop.check()
        faces = detector(np.ascontiguousarray(decoded.pixels[..., :3]))
        height, width = decoded.pixels.shape[:2]
        found.append(regions.detected(name, file_sha256(job.source), width, height, faces))
        return Done(None, width, height, faces.to_list())

    return run_file(job, work)  # type: ignore[arg-type]


def apply(job: Job, entry: regions.Entry, options: Options, verifier: Verifier | None) -> FileReport:
    """Write one photo with exactly the regions decided for it obscured: no detection. The residual check and
    --strict work as in a plain run (a face the decisions left visible is a residual)."""
    report = process(job, _decided(job.source, entry), options, verifier)
    if report.status == "done":
        report.faces = [r.to_dict() for r in entry.regions]  # with their origin, and what a person removed
    return report


def _decided(source: Path, entry: regions.Entry) -> Detector:
    """A detector that answers with the decisions, once it is sure the photo is the one they were made on (same
    bytes, same size): a changed photo fails in its one line, never obscured with stale regions."""
    kept = entry.kept()

    def detect(image: np.ndarray) -> Faces:
        regions.check_unchanged(entry, source)
        if image.shape[:2] != (entry.height, entry.width):
            raise FileError(f"is {image.shape[1]}×{image.shape[0]}, not the {entry.width}×{entry.height} decided on")
        return kept

    return detect
