"""The kinds of media a run handles, each behind one interface: what a plain run does with a file of that kind
(`run`), what --regions-out does (`search`), and what writing from a regions file's entry does (`apply`).

The kind of a file is decided here once (`Kinds.of`), from the format registry (formats.py, through
video.is_video: a video container's suffix, or a GIF with more than one frame): photos (stills, and animated
or multi-page images, whose frames photo.py handles) and videos. A new option that changes how one kind is
done is read by that kind's pipeline (photo.py or video.py) from config.RunConfig; a new kind of media is a
new class here with the same three steps.
"""

from __future__ import annotations

from typing import Protocol

from unseen import decisions, regions
from unseen.config import RunConfig
from unseen.detectors.presets import build_detector
from unseen.faces import Detector
from unseen.paths import Job
from unseen.photo import process
from unseen.report import FileReport
from unseen.verify.photo_check import Verifier
from unseen.video import is_video, process_video, video_detector


class Kind(Protocol):
    """One kind of media, with the run's settings and detector."""

    described: str  # how a file of this kind is told in a mismatch: "a video", "not a video"

    def run(self, job: Job) -> FileReport:
        """Detect, obscure, write, check and publish the file."""
        ...

    def search(self, job: Job, name: str, found: list[regions.AnyEntry]) -> FileReport:
        """Detect only: add the file's entry (named `name`) to `found`; nothing is written."""
        ...

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        """Write the file with exactly what `entry` decided; None when `entry` is for another kind of media."""
        ...


def is_video_job(job: Job) -> bool:
    """Whether a job goes through the video pipeline (a job the planner refused goes nowhere)."""
    return job.problem is None and is_video(job.source)


class Photos:
    """Photos (photo.py): still, animated or multi-page; in a regions file, a regions.Entry."""

    described = "not a video"

    def __init__(self, config: RunConfig, check: Verifier | None) -> None:
        self.config, self.check = config, check
        self.detector = build_detector(config.quality, config.threshold)

    def run(self, job: Job) -> FileReport:
        return process(job, self.detector, self.config.photo, self.check)

    def search(self, job: Job, name: str, found: list[regions.AnyEntry]) -> FileReport:
        return decisions.detect_only(job, self.detector, self.config.photo, name, found)

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        if not isinstance(entry, regions.Entry):
            return None
        return decisions.apply(job, entry, self.config.photo, self.check)


class Videos:
    """Videos and animated GIFs (video.py); in a regions file, a regions.VideoEntry. The detector is made when the
    first video needs it."""

    described = "a video"

    def __init__(self, config: RunConfig, check: Verifier | None) -> None:
        self.config, self.check = config, check
        self._detector: Detector | None = None

    @property
    def detector(self) -> Detector:
        if self._detector is None:
            self._detector = video_detector(self.config.threshold)
        return self._detector

    def run(self, job: Job) -> FileReport:
        return process_video(job, self.detector, self.config.photo, self.config.video, self.check)

    def search(self, job: Job, name: str, found: list[regions.AnyEntry]) -> FileReport:
        return decisions.detect_only_video(job, self.detector, self.config.photo, self.config.video, name, found)

    def apply(self, job: Job, entry: regions.AnyEntry) -> FileReport | None:
        if not isinstance(entry, regions.VideoEntry):
            return None
        return decisions.apply_video(job, entry, self.config.photo, self.config.video, self.check)


class Kinds:
    """One of each kind for a run (their detectors shared by its files), and the kind of each file."""

    def __init__(self, config: RunConfig, check: Verifier | None) -> None:
        self.photos, self.videos = Photos(config, check), Videos(config, check)

    def of(self, job: Job) -> Kind:
        return self.videos if is_video_job(job) else self.photos
